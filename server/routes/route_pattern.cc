#include "server/routes/route_pattern.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sigd::routes {

absl::StatusOr<RoutePattern> RoutePattern::Parse(std::string_view text) {
  if (text.empty() || text.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("route \"", std::string(text), "\" must start with '/'"));
  }
  const size_t star = text.find('*');
  if (star == std::string_view::npos) return RoutePattern(std::string(text), false);
  if (star != text.size() - 1 || text[star - 1] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "route \"", std::string(text), "\": '*' may only be the last segment, as in \"/chat/*\""));
  }
  return RoutePattern(std::string(text), true);
}

bool RoutePattern::Matches(std::string_view path) const {
  if (!is_prefix_) return path == text_;
  const std::string_view prefix = std::string_view(text_).substr(0, text_.size() - 1);
  return path.size() > prefix.size() && path.starts_with(prefix);
}

size_t RoutePattern::Specificity() const {
  if (!is_prefix_) return std::numeric_limits<size_t>::max();
  return text_.size() - 1;
}

}  // namespace sigd::routes
