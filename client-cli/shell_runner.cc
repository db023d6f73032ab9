#include "client-cli/shell_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

extern char** environ;

namespace sigd::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kShell[] = "/bin/sh";

void CloseFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                           Clock::now());
  return static_cast<int>(
      std::clamp<int64_t>(left.count(), 0, int64_t{1} << 30));
}

// sigctl's environment with `extra` set over it. Built per command: nothing
// in sigctl changes its environment while commands run, so reading
// `environ` from several threads is safe.
std::vector<std::string> BuildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string_view key = text.substr(0, text.find('='));
    const bool overridden =
        std::any_of(extra.begin(), extra.end(),
                    [key](const auto& kv) { return kv.first == key; });
    if (!overridden) env.emplace_back(text);
  }
  for (const auto& [key, value] : extra) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

void SetNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Collects the command's stdout up to a limit; the rest is discarded.
class OutputSink {
 public:
  OutputSink(ShellResult& result, size_t limit)
      : result_(result), limit_(limit) {}

  // Reads what is available. Returns false at end of file or on an error.
  bool ReadSome(int fd) {
    char buffer[16384];
    while (true) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        Append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      return false;
    }
  }

 private:
  void Append(const char* data, size_t n) {
    const size_t room = limit_ - std::min(limit_, result_.output.size());
    if (n > room) result_.output_truncated = true;
    result_.output.append(data, std::min(n, room));
  }

  ShellResult& result_;
  size_t limit_;
};

// Starts `/bin/sh -c command` in a new process group with stdin and stdout
// on the given pipe ends. Returns the pid, or the errno as a negative value.
pid_t Spawn(const ShellRequest& request, int stdin_fd, int stdout_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The pipes are close-on-exec (so concurrent commands never inherit each
  // other's); dup2 gives the child copies without that flag.
  posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<std::string> argv_strings = {kShell, "-c", request.command};
  std::vector<std::string> env_strings = BuildEnvironment(request.extra_env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  pid_t pid = -1;
  const int rc =
      ::posix_spawn(&pid, kShell, &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -rc;
}

void RecordStatus(int status, ShellResult& result) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
}

}  // namespace

ShellResult RunShell(const ShellRequest& request) {
  ShellResult result;
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    result.error = std::strerror(errno);
    return result;
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.error = std::strerror(errno);
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return result;
  }
  const pid_t pid = Spawn(request, in_pipe[0], out_pipe[1]);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  int in_fd = in_pipe[1];
  int out_fd = out_pipe[0];
  if (pid < 0) {
    result.error = std::strerror(-pid);
    CloseFd(in_fd);
    CloseFd(out_fd);
    return result;
  }

  // A pidfd turns "the child exited" into something poll() waits on with a
  // deadline; kernels before 5.3 fall back to checking every 10 ms.
  int pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  SetNonBlocking(in_fd);
  SetNonBlocking(out_fd);
  if (request.stdin_data.empty()) CloseFd(in_fd);

  const auto deadline = Clock::now() + request.timeout;
  OutputSink sink(result, request.max_output);
  size_t written = 0;
  bool reaped = false;
  bool killed = false;
  auto kill_group = [&](ShellResult::Outcome why) {
    ::kill(-pid, SIGKILL);
    killed = true;
    result.outcome = why;
  };
  auto try_reap = [&] {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid) {
      reaped = true;
      RecordStatus(status, result);
    }
    return reaped;
  };

  while (!killed) {
    pollfd fds[4];
    int count = 0, in_index = -1, out_index = -1, pid_index = -1,
        abort_index = -1;
    if (in_fd >= 0) {
      in_index = count;
      fds[count++] = {in_fd, POLLOUT, 0};
    }
    if (out_fd >= 0) {
      out_index = count;
      fds[count++] = {out_fd, POLLIN, 0};
    }
    if (pid_fd >= 0) {
      pid_index = count;
      fds[count++] = {pid_fd, POLLIN, 0};
    }
    if (request.abort_fd >= 0) {
      abort_index = count;
      fds[count++] = {request.abort_fd, POLLIN, 0};
    }
    int wait_ms = RemainingMs(deadline);
    if (pid_fd < 0) wait_ms = std::min(wait_ms, 10);
    if (::poll(fds, count, wait_ms) < 0 && errno != EINTR) {
      kill_group(ShellResult::Outcome::kAborted);
      break;
    }

    if (abort_index >= 0 && fds[abort_index].revents != 0) {
      kill_group(ShellResult::Outcome::kAborted);
      break;
    }
    if (out_index >= 0 && fds[out_index].revents != 0 &&
        !sink.ReadSome(out_fd)) {
      CloseFd(out_fd);
    }
    if (in_index >= 0 && fds[in_index].revents != 0) {
      // A command that exits or closes stdin without reading it all is
      // within its rights: EPIPE (SIGPIPE is ignored by sigctl) just ends
      // the input.
      ssize_t n = ::write(in_fd, request.stdin_data.data() + written,
                          request.stdin_data.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EINTR && errno != EAGAIN) ||
          written == request.stdin_data.size()) {
        CloseFd(in_fd);
      }
    }
    if ((pid_fd < 0 || fds[pid_index].revents != 0) && try_reap()) {
      // Everything the shell wrote before exiting is in the pipe now (it
      // would still be blocked writing otherwise); what a background
      // grandchild writes later is not waited for.
      if (out_fd >= 0) sink.ReadSome(out_fd);
      result.outcome = ShellResult::Outcome::kExited;
      if (result.term_signal != 0) {
        result.outcome = ShellResult::Outcome::kSignaled;
      }
      break;
    }
    if (Clock::now() >= deadline) {
      kill_group(ShellResult::Outcome::kTimedOut);
    }
  }

  if (!reaped) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    RecordStatus(status, result);
  }
  CloseFd(in_fd);
  CloseFd(out_fd);
  CloseFd(pid_fd);
  return result;
}

}  // namespace sigd::cli
