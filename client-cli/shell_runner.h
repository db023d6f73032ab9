// Runs one shell command (`/bin/sh -c COMMAND`) for `sigctl route`: feeds it
// a string on stdin, collects its stdout (bounded), and ends it if it runs
// past a deadline or the caller gives up on it. Its stderr is sigctl's own.
//
// The command runs in a process group of its own, so a kill reaches whatever
// it started too (`sleep` under `sh`), and a Ctrl-C typed at sigctl's
// terminal reaches sigctl alone: sigctl decides whether running commands
// finish or are killed. It starts with an empty signal mask and default
// dispositions, whatever sigctl blocks or ignores (SIGINT, SIGTERM, SIGPIPE).
//
//   ShellRequest request;
//   request.command = "tr a-z A-Z";
//   request.stdin_data = "hi\n";
//   ShellResult result = RunShell(request);
//   // result.outcome == ShellResult::Outcome::kExited, result.output == "HI\n"
#ifndef SIGD_CLIENT_CLI_SHELL_RUNNER_H_
#define SIGD_CLIENT_CLI_SHELL_RUNNER_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace sigd::cli {

struct ShellRequest {
  std::string command;
  std::string stdin_data;
  // Set in the command's environment, over the inherited values.
  std::vector<std::pair<std::string, std::string>> extra_env;
  // Past this the process group is killed (SIGKILL).
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Output beyond this many bytes is read and thrown away, so a chatty
  // command neither blocks nor grows sigctl's memory.
  size_t max_output = 1 << 20;
  // When this descriptor becomes readable or hung up, the process group is
  // killed at once (sigctl stopping). -1: none.
  int abort_fd = -1;
};

struct ShellResult {
  enum class Outcome {
    kExited,      // exit_code holds its status
    kSignaled,    // a signal ended it (term_signal), not sent by us
    kTimedOut,    // killed for running past the timeout
    kAborted,     // killed because abort_fd fired
    kNotStarted,  // /bin/sh could not be started (error says why)
  };
  Outcome outcome = Outcome::kNotStarted;
  int exit_code = -1;
  int term_signal = 0;
  std::string output;             // stdout, at most max_output bytes
  bool output_truncated = false;  // it wrote more than max_output
  std::string error;              // for kNotStarted
};

// Blocks until the command has exited (or been killed) and been reaped.
// Safe to call from several threads at once.
ShellResult RunShell(const ShellRequest& request);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_SHELL_RUNNER_H_
