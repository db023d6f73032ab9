// Debian's Abseil 20220623 is built with its own absl::string_view (not an
// alias of std::string_view), so the two do not convert implicitly. These
// spell the conversion at the boundary.
#ifndef SIGD_SERVER_UTIL_STRINGS_H_
#define SIGD_SERVER_UTIL_STRINGS_H_

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace sigd::util {

inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_STRINGS_H_
