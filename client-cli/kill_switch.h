// A one-shot, thread-safe "stop now" for commands that `sigctl route` runs:
// Trigger() closes the write end of a pipe, so the read end (fd()) turns
// readable (hung up) for every poll() that watches it, at once and for good.
// RunShell() watches it through ShellRequest::abort_fd.
//
//   KillSwitch stop;
//   request.abort_fd = stop.fd();
//   ...on a second Ctrl-C: stop.Trigger();
#ifndef SIGD_CLIENT_CLI_KILL_SWITCH_H_
#define SIGD_CLIENT_CLI_KILL_SWITCH_H_

#include <mutex>

namespace sigd::cli {

class KillSwitch {
 public:
  KillSwitch();
  KillSwitch(const KillSwitch&) = delete;
  KillSwitch& operator=(const KillSwitch&) = delete;
  ~KillSwitch();

  // The descriptor to poll for POLLIN; -1 if the pipe could not be made
  // (then nothing can be stopped early, and commands end by their timeout).
  int fd() const { return read_fd_; }

  void Trigger();
  bool triggered() const;

 private:
  int read_fd_ = -1;
  mutable std::mutex mu_;
  int write_fd_ = -1;  // guarded by mu_; -1 once triggered
  bool triggered_ = false;  // guarded by mu_
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_KILL_SWITCH_H_
