#include "server/util/url.h"

#include "absl/status/status.h"

namespace sigd::util {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Takes the next non-empty "k=v" pair off the front of `query`; false when
// none is left.
bool NextQueryPair(std::string_view* query, std::string_view* pair) {
  while (!query->empty()) {
    const size_t amp = query->find('&');
    *pair = query->substr(0, amp);
    *query = amp == std::string_view::npos ? std::string_view() : query->substr(amp + 1);
    if (!pair->empty()) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return absl::InvalidArgumentError("truncated percent escape");
      }
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("bad percent escape");
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return absl::InvalidArgumentError("escaped NUL in URL");
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return absl::InvalidArgumentError("request target must start with '/'");
  }
  Target result;
  // A fragment never reaches a server, but tolerate one in hand-made requests.
  target = target.substr(0, target.find('#'));
  const size_t q = target.find('?');
  const std::string_view raw_path = target.substr(0, q);
  absl::StatusOr<std::string> path = PercentDecode(raw_path, /*plus_as_space=*/false);
  if (!path.ok()) return path.status();
  result.path = *std::move(path);
  if (q == std::string_view::npos) return result;

  std::string_view query = target.substr(q + 1);
  for (std::string_view pair; NextQueryPair(&query, &pair);) {
    const size_t eq = pair.find('=');
    absl::StatusOr<std::string> key = PercentDecode(pair.substr(0, eq), true);
    if (!key.ok()) return key.status();
    std::string value;
    if (eq != std::string_view::npos) {
      absl::StatusOr<std::string> v = PercentDecode(pair.substr(eq + 1), true);
      if (!v.ok()) return v.status();
      value = *std::move(v);
    }
    result.query.emplace(*std::move(key), std::move(value));
  }
  return result;
}

std::string RemoveQueryParam(std::string_view target, std::string_view name,
                             std::optional<std::string>* value) {
  value->reset();
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  const size_t hash = target.find('#', q);
  std::string_view query = target.substr(q + 1, hash == std::string_view::npos
                                                    ? std::string_view::npos
                                                    : hash - q - 1);
  std::string kept;
  for (std::string_view pair; NextQueryPair(&query, &pair);) {
    const size_t eq = pair.find('=');
    absl::StatusOr<std::string> key = PercentDecode(pair.substr(0, eq), true);
    if (key.ok() && *key == name) {
      if (!value->has_value()) {
        absl::StatusOr<std::string> v =
            eq == std::string_view::npos ? std::string()
                                         : PercentDecode(pair.substr(eq + 1), true);
        *value = v.ok() ? *std::move(v) : std::string();
      }
      continue;
    }
    if (!kept.empty()) kept.push_back('&');
    kept.append(pair);
  }
  std::string out(target.substr(0, q));
  if (!kept.empty()) out.append("?").append(kept);
  return out;
}

}  // namespace sigd::util
