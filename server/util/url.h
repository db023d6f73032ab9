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
#include <optional>
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

// Removes every `name=value` pair from a request target's query string (the
// key compared after percent-decoding) and returns the target without them;
// the other pairs keep their exact spelling. `*value` gets the first removed
// value, decoded ("" if it holds a bad escape); nullopt when there was none.
// Used to keep credentials (?token=) out of everything that records targets.
std::string RemoveQueryParam(std::string_view target, std::string_view name,
                             std::optional<std::string>* value);

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_URL_H_
