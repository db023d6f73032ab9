#include "server/util/trusted_proxies.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sigd::util {

namespace ip = boost::asio::ip;

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies proxies;
  for (const std::string& entry : entries) {
    boost::system::error_code ec;
    const bool cidr = entry.find('/') != std::string::npos;
    if (entry.find(':') != std::string::npos) {
      ip::network_v6 net = cidr ? ip::make_network_v6(entry, ec)
                                : ip::network_v6(ip::make_address_v6(entry, ec), 128);
      if (!ec) proxies.v6_.push_back(net.canonical());
    } else {
      ip::network_v4 net = cidr ? ip::make_network_v4(entry, ec)
                                : ip::network_v4(ip::make_address_v4(entry, ec), 32);
      if (!ec) proxies.v4_.push_back(net.canonical());
    }
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("--trusted-proxies: \"", entry, "\" is not an address or CIDR"));
    }
  }
  return proxies;
}

bool TrustedProxies::Contains(const ip::address& address) const {
  if (address.is_v4() || (address.is_v6() && address.to_v6().is_v4_mapped())) {
    const ip::address_v4 v4 = address.is_v4()
                                  ? address.to_v4()
                                  : ip::make_address_v4(ip::v4_mapped, address.to_v6());
    for (const auto& net : v4_) {
      if (ip::network_v4(v4, net.prefix_length()).canonical() == net) return true;
    }
    return false;
  }
  for (const auto& net : v6_) {
    if (ip::network_v6(address.to_v6(), net.prefix_length()).canonical() == net) return true;
  }
  return false;
}

ip::address TrustedProxies::ClientAddress(const ip::address& peer,
                                          std::string_view forwarded_for) const {
  if (forwarded_for.empty() || !Contains(peer)) return peer;
  // Walk from the right: each hop appended the address it saw.
  ip::address client = peer;
  while (!forwarded_for.empty()) {
    const size_t comma = forwarded_for.rfind(',');
    std::string_view hop =
        comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
    forwarded_for = comma == std::string_view::npos ? std::string_view()
                                                    : forwarded_for.substr(0, comma);
    while (!hop.empty() && hop.front() == ' ') hop.remove_prefix(1);
    while (!hop.empty() && hop.back() == ' ') hop.remove_suffix(1);
    boost::system::error_code ec;
    const ip::address address = ip::make_address(std::string(hop), ec);
    if (ec) break;  // garbage: trust nothing further left
    client = address;
    if (!Contains(address)) break;
  }
  return client;
}

}  // namespace sigd::util
