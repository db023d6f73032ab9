#include "server/util/trusted_proxies.h"

#include "gtest/gtest.h"

namespace sigd::util {
namespace {

namespace ip = boost::asio::ip;

TEST(TrustedProxies, ParsesAddressesAndCidrs) {
  EXPECT_TRUE(TrustedProxies::Parse({"10.0.0.0/8", "192.168.1.1", "::1", "fd00::/8"}).ok());
  EXPECT_FALSE(TrustedProxies::Parse({"10.0.0.0/33"}).ok());
  EXPECT_FALSE(TrustedProxies::Parse({"proxy.example"}).ok());
}

TEST(TrustedProxies, ContainsChecksTheNetwork) {
  auto p = *TrustedProxies::Parse({"10.0.0.0/8", "fd00::/8"});
  EXPECT_TRUE(p.Contains(ip::make_address("10.1.2.3")));
  EXPECT_FALSE(p.Contains(ip::make_address("11.1.2.3")));
  EXPECT_TRUE(p.Contains(ip::make_address("::ffff:10.9.9.9")));  // v4-mapped
  EXPECT_TRUE(p.Contains(ip::make_address("fd12::1")));
  EXPECT_FALSE(p.Contains(ip::make_address("2001:db8::1")));
}

TEST(TrustedProxies, ClientIsTheLastUntrustedHop) {
  auto p = *TrustedProxies::Parse({"10.0.0.0/8"});
  const auto lb = ip::make_address("10.0.0.1");
  EXPECT_EQ(p.ClientAddress(lb, "203.0.113.7").to_string(), "203.0.113.7");
  // A client-supplied first entry is not believed past an untrusted hop.
  EXPECT_EQ(p.ClientAddress(lb, "1.1.1.1, 203.0.113.7, 10.0.0.5").to_string(), "203.0.113.7");
  EXPECT_EQ(p.ClientAddress(lb, "").to_string(), "10.0.0.1");
  EXPECT_EQ(p.ClientAddress(lb, "garbage").to_string(), "10.0.0.1");
}

TEST(TrustedProxies, HeadersFromOtherPeersAreIgnored) {
  auto p = *TrustedProxies::Parse({"10.0.0.0/8"});
  const auto direct = ip::make_address("198.51.100.9");
  EXPECT_EQ(p.ClientAddress(direct, "203.0.113.7").to_string(), "198.51.100.9");
  auto none = *TrustedProxies::Parse({});
  EXPECT_EQ(none.ClientAddress(ip::make_address("10.0.0.1"), "203.0.113.7").to_string(),
            "10.0.0.1");
}

}  // namespace
}  // namespace sigd::util
