// A signal route's path pattern: an exact path ("/messages") or a prefix
// ("/chat/*", which matches "/chat/a" and "/chat/a/b" but not "/chat").
// Routes match on the sender's connection path, as in Pode.
//
//   absl::StatusOr<RoutePattern> p = RoutePattern::Parse("/chat/*");
//   p->Matches("/chat/a");  // true
#ifndef SIGD_SERVER_ROUTES_ROUTE_PATTERN_H_
#define SIGD_SERVER_ROUTES_ROUTE_PATTERN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sigd::routes {

class RoutePattern {
 public:
  // InvalidArgument unless the pattern starts with '/' and any '*' is the
  // whole last segment.
  static absl::StatusOr<RoutePattern> Parse(std::string_view text);

  bool Matches(std::string_view path) const;

  // Higher is more specific: every exact pattern beats every prefix, and a
  // longer prefix beats a shorter one.
  size_t Specificity() const;

  // The pattern as written ("/chat/*").
  const std::string& text() const { return text_; }
  bool is_prefix() const { return is_prefix_; }

  friend bool operator==(const RoutePattern& a, const RoutePattern& b) {
    return a.text_ == b.text_;
  }

 private:
  RoutePattern(std::string text, bool is_prefix)
      : text_(std::move(text)), is_prefix_(is_prefix) {}

  std::string text_;
  bool is_prefix_;
};

}  // namespace sigd::routes

#endif  // SIGD_SERVER_ROUTES_ROUTE_PATTERN_H_
