// Runs child processes from GoogleTest: the shipped binaries (sigd, sigctl)
// are tested as a user runs them, through argv, environment, pipes, signals
// and exit status.
//
// Every wait takes a timeout and waits on a condition (output appearing, the
// child exiting), never on a sleep. A ChildProcess that is still running when
// it is destroyed is killed with SIGKILL and reaped, so a failing test leaves
// no stray process behind; children also get SIGKILL if the thread that
// started them dies (PR_SET_PDEATHSIG), which covers a crashed test binary.
//
// Usage:
//   ProcessResult r = RunProcess({SIGCTL_BINARY, "info"});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
//
//   ChildProcess tail;
//   ASSERT_TRUE(tail.Start({SIGCTL_BINARY, "tail", "--route", "/a"}).ok());
//   ASSERT_TRUE(tail.WaitForStdout("\"SUBSCRIBED\"", 20s));
//   tail.Signal(SIGINT);
//   EXPECT_EQ(tail.Wait(10s), 0);
#ifndef SIGD_TESTS_SUPPORT_PROCESS_H_
#define SIGD_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace sigd::testing {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct ProcessResult {
  int exit_code = -1;    // the child's exit code; -1 if it died from a signal
  int term_signal = 0;   // the signal that ended it, 0 if it exited
  bool timed_out = false;  // true if it was killed for running too long
  std::string out, err;
};

// How a child is started. The environment is the test's own, minus `unset_env`,
// plus `extra_env` (which wins over inherited values).
struct ProcessOptions {
  EnvList extra_env;
  std::vector<std::string> unset_env;
  // Written to the child's stdin, which is then closed. Without it stdin is
  // /dev/null, so a child never blocks on the terminal.
  std::optional<std::string> stdin_data;
};

// Runs argv to completion and returns its status and output. A child still
// running after `timeout` is killed with SIGKILL and reported as timed_out.
ProcessResult RunProcess(
    const std::vector<std::string>& argv, std::string_view stdin_data = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(20),
    const EnvList& extra_env = {},
    const std::vector<std::string>& unset_env = {});

// A child running in the background whose stdout and stderr are collected by
// a reader thread as they arrive, so a test can wait for a line to appear.
// Not copyable or movable: the reader thread refers to the object.
class ChildProcess {
 public:
  // kEither: a condition on stdout or on stderr, for output whose stream
  // is not part of the contract (log lines).
  enum class Stream { kStdout, kStderr, kEither };

  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Starts argv[0] (a path, or a name looked up in PATH). Fails if the
  // program cannot be executed; may be called once per object.
  absl::Status Start(const std::vector<std::string>& argv,
                     const ProcessOptions& options = {});
  absl::Status Start(const std::vector<std::string>& argv,
                     const EnvList& extra_env) {
    ProcessOptions options;
    options.extra_env = extra_env;
    return Start(argv, options);
  }

  // Waits until the output collected so far satisfies `done`, the stream
  // ends (child exited and closed it; for kEither, both streams), or
  // `timeout` passes. Returns whether
  // `done` became true. `done` runs under a lock: keep it quick and pure.
  bool WaitFor(Stream stream,
               const std::function<bool(const std::string&)>& done,
               std::chrono::milliseconds timeout);

  // Waits for a substring, or for a regex match (ECMAScript; `.` does not
  // cross lines). On a match, `groups` receives the whole match then each
  // capture group.
  bool WaitForStdout(std::string_view substring,
                     std::chrono::milliseconds timeout);
  bool WaitForStderr(std::string_view substring,
                     std::chrono::milliseconds timeout);
  bool WaitForStdout(const std::regex& re, std::chrono::milliseconds timeout,
                     std::vector<std::string>* groups = nullptr);
  bool WaitForStderr(const std::regex& re, std::chrono::milliseconds timeout,
                     std::vector<std::string>* groups = nullptr);
  bool WaitForOutput(const std::regex& re, std::chrono::milliseconds timeout,
                     std::vector<std::string>* groups = nullptr);

  // Waits until stdout holds at least `count` complete lines.
  bool WaitForStdoutLines(size_t count, std::chrono::milliseconds timeout);

  // Output so far.
  std::string Stdout() const;
  std::string Stderr() const;

  // Sends `sig` to the child; a no-op once it has been reaped.
  void Signal(int sig);

  // Waits for the child to exit and returns its status: the exit code, or
  // 128 + the signal number if a signal ended it (the shell's convention;
  // term_signal() tells the two apart). nullopt if it is still running
  // after `timeout`. Once it has exited, Wait() also lets the reader thread
  // take the rest of its output (bounded: a grandchild could hold the pipes
  // open), so Stdout()/Stderr() afterwards are complete.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

  // Waits for the reader thread to see end-of-file on both pipes, so that
  // Stdout()/Stderr() are complete. Returns false on timeout (a grandchild
  // may still hold the pipes open).
  bool WaitForOutputClosed(std::chrono::milliseconds timeout);

  // Kills (SIGKILL) and reaps the child if it is still running.
  void Kill();

  pid_t pid() const { return pid_; }
  // Whether the child has not exited yet (reaps it if it has).
  bool IsRunning();
  // Valid after Wait() returned a status.
  int exit_code() const { return exit_code_; }
  int term_signal() const { return term_signal_; }

 private:
  void ReadLoop();
  // Records the status of a child that waitpid() has reaped.
  void RecordStatus(int status);
  bool Reap(std::chrono::milliseconds timeout);
  bool WaitForMatch(Stream stream, const std::regex& re,
                    std::chrono::milliseconds timeout,
                    std::vector<std::string>* groups);

  pid_t pid_ = -1;
  // A pidfd lets Wait() block in poll() with a deadline instead of looping
  // on waitpid(WNOHANG).
  int pid_fd_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;

  // Owned by the reader thread once Start() returns.
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  // Writing a byte here wakes the reader thread so the destructor can stop
  // it even if a grandchild keeps the output pipes open.
  int wake_read_fd_ = -1;
  int wake_write_fd_ = -1;
  std::string stdin_data_;
  std::thread reader_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;          // guarded by mu_
  std::string err_;          // guarded by mu_
  bool out_closed_ = false;  // guarded by mu_
  bool err_closed_ = false;  // guarded by mu_
};

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_PROCESS_H_
