// Splitting and decoding of request targets ("/chat%20room?welcome=1&x=y").
//
// A client's path is its URL path after percent-decoding, compared exactly; the
// query string is never part of it (DESIGN.md, "Connect").
//
//   absl::StatusOr<Target> t = ParseTarget(req.target());
//   if (t.ok()) { Use(t->path, t->query); }
#ifndef SIGD_SERVER_UTIL_URL_H_
#define SIGD_SERVER_UTIL_URL_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sigd::util {

struct Target {
  std::string path;                           // decoded, starts with '/'
  std::map<std::string, std::string> query;   // decoded; the first of repeated keys wins
};

// Decodes %XX escapes. With plus_as_space, '+' becomes ' ' (query strings).
// InvalidArgument for a truncated or non-hex escape, or an escaped NUL.
absl::StatusOr<std::string> PercentDecode(std::string_view in, bool plus_as_space);

// Parses an origin-form request target. InvalidArgument when it does not start
// with '/' or holds a bad escape.
absl::StatusOr<Target> ParseTarget(std::string_view target);

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_URL_H_
