#include "client-cli/kill_switch.h"

#include <fcntl.h>
#include <unistd.h>

namespace sigd::cli {

KillSwitch::KillSwitch() {
  int fds[2];
  // Close-on-exec: a command must not hold the write end open, or closing
  // ours would not hang the pipe up.
  if (::pipe2(fds, O_CLOEXEC) == 0) {
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  }
}

KillSwitch::~KillSwitch() {
  Trigger();
  if (read_fd_ >= 0) ::close(read_fd_);
}

void KillSwitch::Trigger() {
  std::lock_guard<std::mutex> lock(mu_);
  triggered_ = true;
  if (write_fd_ >= 0) {
    ::close(write_fd_);
    write_fd_ = -1;
  }
}

bool KillSwitch::triggered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return triggered_;
}

}  // namespace sigd::cli
