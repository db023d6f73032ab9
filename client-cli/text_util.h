// Small text helpers for sigctl's output: error messages must stay on one
// line, table cells must not break the table, and strings sent to the server
// must be UTF-8 (protobuf rejects anything else).
#ifndef SIGD_CLIENT_CLI_TEXT_UTIL_H_
#define SIGD_CLIENT_CLI_TEXT_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace sigd::cli {

// `text` with every control character (newlines included) turned into a
// space and the ends trimmed, so an error from anywhere prints as one line.
std::string OneLine(std::string_view text);

// `text` with control characters written as \n, \t or \xNN, for table cells:
// client paths and addresses come from the network.
std::string EscapeControl(std::string_view text);

// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or values
// past U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Columns `text` takes on a terminal, counting code points (good enough for
// aligning ids, paths and addresses).
size_t DisplayWidth(std::string_view text);

// "3d4h5m6s" style, largest unit first; "0s" for zero.
std::string FormatDuration(uint64_t seconds);

// RFC 3339 in UTC to the second, "2024-05-01T12:00:00Z".
std::string FormatUtc(int64_t unix_seconds);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_TEXT_UTIL_H_
