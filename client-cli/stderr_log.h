// One-line reports on stderr from several threads at once (`sigctl route`'s
// workers and its stream reader): each line is written whole, with a single
// write(2), so lines never interleave with each other or, being short, with
// what the commands themselves write to the same stderr.
//
//   LogLine(absl::StrCat("route: command exited ", code));
//   // stderr: "sigctl: route: command exited 3"
#ifndef SIGD_CLIENT_CLI_STDERR_LOG_H_
#define SIGD_CLIENT_CLI_STDERR_LOG_H_

#include <string_view>

namespace sigd::cli {

// Writes "sigctl: " + `text` (made one line) + "\n" to stderr.
void LogLine(std::string_view text);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_STDERR_LOG_H_
