// Fuzzes request-target decoding (util::ParseTarget, util::PercentDecode) and
// the client address taken from X-Forwarded-For (util::TrustedProxies).
//
// Invariants: decoding never grows the input and never yields an escaped NUL;
// text without escapes decodes to itself; a parsed target re-encoded from its
// decoded path and query parses back to the same path and query; the path
// starts with '/' and holds the request's path only (no raw '?' or '#'
// survives from the query or fragment). For X-Forwarded-For: an untrusted
// peer's header is never believed; a believed address appears in the header;
// when every hop is trusted the left-most hop is the client.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boost/asio/ip/address.hpp"
#include "server/util/client_id.h"
#include "server/util/trusted_proxies.h"
#include "server/util/url.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace ip = boost::asio::ip;

std::string EncodeAll(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void CheckDecode(std::string_view in, bool plus_as_space) {
  absl::StatusOr<std::string> out = sigd::util::PercentDecode(in, plus_as_space);
  if (!out.ok()) {
    FUZZ_CHECK(in.find('%') != std::string_view::npos, "rejected input without escapes");
    return;
  }
  FUZZ_CHECK(out->size() <= in.size(), "decoding grew the input");
  if (in.find('%') == std::string_view::npos && (!plus_as_space || in.find('+') == std::string_view::npos)) {
    FUZZ_CHECK(*out == in, "text without escapes changed");
  }
  // A NUL in the output can only be one that was there unescaped.
  if (in.find('\0') == std::string_view::npos) {
    FUZZ_CHECK(out->find('\0') == std::string::npos, "escaped NUL decoded");
  }
  absl::StatusOr<std::string> again = sigd::util::PercentDecode(EncodeAll(*out), plus_as_space);
  if (out->find('\0') == std::string::npos) {
    FUZZ_CHECK(again.ok() && *again == *out, "encode/decode round trip failed");
  }
}

void CheckTarget(std::string_view target) {
  absl::StatusOr<sigd::util::Target> t = sigd::util::ParseTarget(target);
  if (!t.ok()) return;
  FUZZ_CHECK(!target.empty() && target.front() == '/', "accepted a target without '/'");
  FUZZ_CHECK(!t->path.empty() && t->path.front() == '/', "decoded path lost its '/'");
  const std::string_view raw_path = target.substr(0, target.find_first_of("?#"));
  FUZZ_CHECK(t->path.size() <= raw_path.size(), "path longer than the raw path");
  if (raw_path.find('%') == std::string_view::npos) {
    FUZZ_CHECK(t->path == raw_path, "path without escapes changed");
  }
  if (t->path.find('\0') != std::string::npos) return;  // a raw NUL cannot be re-encoded below
  std::string rebuilt = "/" + EncodeAll(std::string_view(t->path).substr(1));
  if (!t->query.empty()) {
    rebuilt += '?';
    for (const auto& [k, v] : t->query) {
      if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos) return;
      rebuilt += EncodeAll(k) + "=" + EncodeAll(v) + "&";
    }
  }
  absl::StatusOr<sigd::util::Target> again = sigd::util::ParseTarget(rebuilt);
  FUZZ_CHECK(again.ok(), "re-encoded target rejected: %s", rebuilt.c_str());
  FUZZ_CHECK(again->path == t->path, "path changed in a round trip");
  // Empty keys are dropped unless written as "=v"; the rebuilt form writes
  // every key with '=', so compare only non-empty keys both ways.
  for (const auto& [k, v] : t->query) {
    auto it = again->query.find(k);
    FUZZ_CHECK(it != again->query.end() && it->second == v, "query changed in a round trip");
  }
  FUZZ_CHECK(again->query.size() == t->query.size(), "query size changed in a round trip");
}

void CheckForwardedFor(FuzzedDataProvider& in) {
  static const char* kPeers[] = {"10.1.2.3", "192.0.2.7", "::1", "fd00::5", "::ffff:10.9.9.9"};
  const ip::address peer = ip::make_address(kPeers[in.ConsumeIntegralInRange(0, 4)]);
  absl::StatusOr<sigd::util::TrustedProxies> proxies =
      sigd::util::TrustedProxies::Parse({"10.0.0.0/8", "fd00::/8"});
  FUZZ_CHECK(proxies.ok(), "fixed proxy list rejected");
  const std::string header = in.ConsumeRandomLengthString(200);
  const ip::address client = proxies->ClientAddress(peer, header);
  if (!proxies->Contains(peer) || header.empty()) {
    FUZZ_CHECK(client == peer, "header believed from an untrusted peer");
    return;
  }
  // The hops, parsed the way the server parses them.
  std::vector<std::optional<ip::address>> hops;  // nullopt: unparseable
  for (size_t begin = 0; begin <= header.size();) {
    size_t end = std::min(header.find(',', begin), header.size());
    std::string hop = header.substr(begin, end - begin);
    begin = end + 1;
    while (!hop.empty() && hop.front() == ' ') hop.erase(0, 1);
    while (!hop.empty() && hop.back() == ' ') hop.pop_back();
    boost::system::error_code ec;
    const ip::address a = ip::make_address(hop, ec);
    hops.push_back(ec ? std::nullopt : std::optional<ip::address>(a));
  }
  if (client != peer) {
    FUZZ_CHECK(std::find(hops.begin(), hops.end(), client) != hops.end(),
               "client %s is not in the header", client.to_string().c_str());
  }
  // The walk goes right to left through trusted hops; when it ends on a
  // trusted one, nothing usable was left of it.
  if (client != peer && proxies->Contains(client)) {
    size_t i = hops.size();
    while (i > 0 && hops[i - 1] && proxies->Contains(*hops[i - 1])) --i;
    FUZZ_CHECK(i == 0 || !hops[i - 1], "stopped on a trusted hop with an address left of it");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string a = in.ConsumeRandomLengthString(256);
  CheckDecode(a, false);
  CheckDecode(a, true);
  CheckTarget(a);
  CheckTarget("/" + a);
  CheckForwardedFor(in);

  // Client ids: 32 lowercase hex digits, never repeating.
  static std::string last_id;
  const std::string id = sigd::util::NewClientId();
  FUZZ_CHECK(id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos,
             "bad client id %s", id.c_str());
  FUZZ_CHECK(id != last_id, "client id repeated");
  last_id = id;
  return 0;
}
