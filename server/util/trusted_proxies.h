// --trusted-proxies: load balancers whose X-Forwarded-For sigd believes.
// Behind one, every connection comes from the balancer; the client's own
// address is the last X-Forwarded-For entry that is not itself a trusted
// proxy. Headers from any other peer are ignored, so a client cannot forge
// its address.
//
//   absl::StatusOr<TrustedProxies> p = TrustedProxies::Parse({"10.0.0.0/8"});
//   std::string client = p->ClientAddress(peer, request["X-Forwarded-For"]);
#ifndef SIGD_SERVER_UTIL_TRUSTED_PROXIES_H_
#define SIGD_SERVER_UTIL_TRUSTED_PROXIES_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/network_v4.hpp"
#include "boost/asio/ip/network_v6.hpp"

namespace sigd::util {

class TrustedProxies {
 public:
  // Each entry is an address or CIDR ("10.0.0.0/8", "::1", "fd00::/8").
  static absl::StatusOr<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool empty() const { return v4_.empty() && v6_.empty(); }
  bool Contains(const boost::asio::ip::address& address) const;

  // The client's address for a connection from `peer` carrying this
  // X-Forwarded-For value (empty when absent).
  boost::asio::ip::address ClientAddress(const boost::asio::ip::address& peer,
                                         std::string_view forwarded_for) const;

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_TRUSTED_PROXIES_H_
