#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace sigd::testing {
namespace {

using Clock = std::chrono::steady_clock;

void CloseFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// Milliseconds left until `deadline`, clamped for poll().
int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                           Clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

// The path execve() needs: argv[0] itself if it names a file, else the
// first executable match in PATH. Done before fork() because the child may
// only call async-signal-safe functions (the test process has threads).
std::string ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    std::string candidate =
        absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve() fails with ENOENT, which Start() reports
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  std::set<std::string, std::less<>> drop(options.unset_env.begin(),
                                          options.unset_env.end());
  for (const auto& [key, value] : options.extra_env) drop.insert(key);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string_view key = text.substr(0, text.find('='));
    if (drop.find(key) == drop.end()) env.emplace_back(text);
  }
  for (const auto& [key, value] : options.extra_env) {
    env.push_back(absl::StrCat(key, "=", value));
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Runs in the forked child: only async-signal-safe calls until execve().
[[noreturn]] void ExecChild(pid_t parent, int stdin_fd, int stdout_fd,
                            int stderr_fd, int error_fd, const char* program,
                            char* const* argv, char* const* envp) {
  // Die with the test: the parent thread's death sends SIGKILL, and a parent
  // that died before prctl() took effect is caught by the getppid() check.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);

  // The test process may block or ignore signals (gRPC, gtest death tests);
  // the program under test must start with the defaults a shell gives it.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);

  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 ||
      ::dup2(stderr_fd, 2) < 0) {
    int err = errno;
    (void)!::write(error_fd, &err, sizeof err);
    ::_exit(127);
  }
  // Sockets the test holds (WebSocket clients, listeners) must not leak into
  // the child, or closing them in the test would not close the connection.
  // error_fd is close-on-exec and stays open until execve().
  for (int fd = 3; fd < error_fd; ++fd) ::close(fd);
  ::close_range(static_cast<unsigned>(error_fd) + 1, ~0U, 0);

  ::execve(program, argv, envp);
  int err = errno;
  (void)!::write(error_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

ChildProcess::~ChildProcess() {
  Kill();
  if (reader_.joinable()) {
    char byte = 0;
    (void)!::write(wake_write_fd_, &byte, 1);
    reader_.join();
  }
  CloseFd(pid_fd_);
  CloseFd(wake_read_fd_);
  CloseFd(wake_write_fd_);
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
}

absl::Status ChildProcess::Start(const std::vector<std::string>& argv_in,
                                 const ProcessOptions& options) {
  if (pid_ != -1) return absl::FailedPreconditionError("already started");
  if (argv_in.empty()) return absl::InvalidArgumentError("empty argv");

  std::string program = ResolveProgram(argv_in[0]);
  std::vector<std::string> argv_strings = argv_in;
  std::vector<std::string> env_strings = BuildEnvironment(options);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  int in_pipe[2] = {-1, -1}, out_pipe[2], err_pipe[2], exec_pipe[2];
  if (options.stdin_data.has_value()) {
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
      return absl::ErrnoToStatus(errno, "pipe");
    }
  } else {
    in_pipe[0] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in_pipe[0] < 0) return absl::ErrnoToStatus(errno, "open /dev/null");
  }
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe");
  }

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    ExecChild(parent, in_pipe[0], out_pipe[1], err_pipe[1], exec_pipe[1],
              program.c_str(), argv.data(), envp.data());
  }
  pid_ = pid;
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
  stderr_fd_ = err_pipe[0];

  // The exec pipe closes on a successful execve() and carries errno if it
  // failed, so Start() knows which without any timing guess.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n > 0) {
    int status;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    RecordStatus(status);
    CloseFd(stdin_fd_);
    CloseFd(stdout_fd_);
    CloseFd(stderr_fd_);
    return absl::ErrnoToStatus(exec_errno, absl::StrCat("exec ", program));
  }

  pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    Kill();
    return absl::ErrnoToStatus(errno, "pipe");
  }
  wake_read_fd_ = wake[0];
  wake_write_fd_ = wake[1];
  if (stdin_fd_ >= 0) {
    stdin_data_ = *options.stdin_data;
    ::fcntl(stdin_fd_, F_SETFL, ::fcntl(stdin_fd_, F_GETFL) | O_NONBLOCK);
  }
  reader_ = std::thread([this] { ReadLoop(); });
  return absl::OkStatus();
}

void ChildProcess::ReadLoop() {
  // A write to a stdin pipe whose reader has exited raises SIGPIPE on this
  // thread; block it here (and consume it below) rather than changing the
  // disposition for the whole test process.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

  size_t written = 0;
  if (stdin_fd_ >= 0 && stdin_data_.empty()) CloseFd(stdin_fd_);
  char buffer[16384];
  while (stdout_fd_ >= 0 || stderr_fd_ >= 0) {
    pollfd fds[4];
    int count = 0;
    fds[count++] = {wake_read_fd_, POLLIN, 0};
    int out_index = -1, err_index = -1, in_index = -1;
    if (stdout_fd_ >= 0) {
      out_index = count;
      fds[count++] = {stdout_fd_, POLLIN, 0};
    }
    if (stderr_fd_ >= 0) {
      err_index = count;
      fds[count++] = {stderr_fd_, POLLIN, 0};
    }
    if (stdin_fd_ >= 0) {
      in_index = count;
      fds[count++] = {stdin_fd_, POLLOUT, 0};
    }
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;  // the destructor asked us to stop

    auto drain = [&](int index, int& fd, std::string& sink, bool& closed) {
      if (index < 0 || fds[index].revents == 0) return;
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) return;
      std::lock_guard<std::mutex> lock(mu_);
      if (n > 0) {
        sink.append(buffer, static_cast<size_t>(n));
      } else {
        CloseFd(fd);
        closed = true;
      }
      cv_.notify_all();
    };
    drain(out_index, stdout_fd_, out_, out_closed_);
    drain(err_index, stderr_fd_, err_, err_closed_);

    if (in_index >= 0 && fds[in_index].revents != 0) {
      ssize_t n = ::write(stdin_fd_, stdin_data_.data() + written,
                          stdin_data_.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EINTR && errno != EAGAIN) {
        if (errno == EPIPE) {
          timespec zero{};
          ::sigtimedwait(&pipe_set, nullptr, &zero);
        }
        CloseFd(stdin_fd_);  // the child stopped reading; that is its right
      } else if (written == stdin_data_.size()) {
        CloseFd(stdin_fd_);  // end of input
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  out_closed_ = err_closed_ = true;
  cv_.notify_all();
}

bool ChildProcess::WaitFor(Stream stream,
                           const std::function<bool(const std::string&)>& done,
                           std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto satisfied = [&] {
    switch (stream) {
      case Stream::kStdout:
        return done(out_);
      case Stream::kStderr:
        return done(err_);
      case Stream::kEither:
        return done(out_) || done(err_);
    }
    return false;
  };
  auto ended = [&] {
    switch (stream) {
      case Stream::kStdout:
        return out_closed_;
      case Stream::kStderr:
        return err_closed_;
      case Stream::kEither:
        return out_closed_ && err_closed_;
    }
    return true;
  };
  cv_.wait_for(lock, timeout, [&] { return satisfied() || ended(); });
  return satisfied();
}

bool ChildProcess::WaitForStdout(std::string_view substring,
                                 std::chrono::milliseconds timeout) {
  return WaitFor(
      Stream::kStdout,
      [&](const std::string& s) { return s.find(substring) != s.npos; },
      timeout);
}

bool ChildProcess::WaitForStderr(std::string_view substring,
                                 std::chrono::milliseconds timeout) {
  return WaitFor(
      Stream::kStderr,
      [&](const std::string& s) { return s.find(substring) != s.npos; },
      timeout);
}

bool ChildProcess::WaitForMatch(Stream stream, const std::regex& re,
                                std::chrono::milliseconds timeout,
                                std::vector<std::string>* groups) {
  std::smatch match;
  return WaitFor(
      stream,
      [&](const std::string& s) {
        if (!std::regex_search(s, match, re)) return false;
        // `match` points into the buffer, which may grow after the lock is
        // released; copy the groups while it is still held.
        if (groups != nullptr) {
          groups->clear();
          for (const auto& group : match) groups->push_back(group.str());
        }
        return true;
      },
      timeout);
}

bool ChildProcess::WaitForStdout(const std::regex& re,
                                 std::chrono::milliseconds timeout,
                                 std::vector<std::string>* groups) {
  return WaitForMatch(Stream::kStdout, re, timeout, groups);
}

bool ChildProcess::WaitForStderr(const std::regex& re,
                                 std::chrono::milliseconds timeout,
                                 std::vector<std::string>* groups) {
  return WaitForMatch(Stream::kStderr, re, timeout, groups);
}

bool ChildProcess::WaitForOutput(const std::regex& re,
                                 std::chrono::milliseconds timeout,
                                 std::vector<std::string>* groups) {
  return WaitForMatch(Stream::kEither, re, timeout, groups);
}

bool ChildProcess::WaitForStdoutLines(size_t count,
                                      std::chrono::milliseconds timeout) {
  return WaitFor(
      Stream::kStdout,
      [count](const std::string& s) {
        return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')) >=
               count;
      },
      timeout);
}

std::string ChildProcess::Stdout() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string ChildProcess::Stderr() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

void ChildProcess::Signal(int sig) {
  // Until we reap it the pid cannot be reused, so this never hits a stranger.
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

void ChildProcess::RecordStatus(int status) {
  if (WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
    term_signal_ = 0;
  } else if (WIFSIGNALED(status)) {
    exit_code_ = -1;
    term_signal_ = WTERMSIG(status);
  }
}

bool ChildProcess::Reap(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return false;
  if (reaped_) return true;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      RecordStatus(status);
      return true;
    }
    if (r < 0 && errno != EINTR) return false;  // not our child any more
    int left = RemainingMs(deadline);
    if (left == 0) return false;
    if (pid_fd_ >= 0) {
      pollfd fd{pid_fd_, POLLIN, 0};
      ::poll(&fd, 1, left);  // readable once the child has exited
    } else {
      // Kernels without pidfd (before 5.3) fall back to a short poll.
      ::poll(nullptr, 0, std::min(left, 10));
    }
  }
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (!Reap(timeout)) return std::nullopt;
  // The pipes reach end-of-file as the child exits, but the reader thread
  // may not have drained them yet.
  WaitForOutputClosed(std::chrono::seconds(2));
  return term_signal_ != 0 ? 128 + term_signal_ : exit_code_;
}

bool ChildProcess::WaitForOutputClosed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout,
                      [this] { return out_closed_ && err_closed_; });
}

void ChildProcess::Kill() {
  if (pid_ <= 0 || reaped_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) RecordStatus(status);
  reaped_ = true;
}

bool ChildProcess::IsRunning() {
  return pid_ > 0 && !Reap(std::chrono::milliseconds(0));
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         std::string_view stdin_data,
                         std::chrono::milliseconds timeout,
                         const EnvList& extra_env,
                         const std::vector<std::string>& unset_env) {
  ProcessResult result;
  ChildProcess child;
  ProcessOptions options;
  options.extra_env = extra_env;
  options.unset_env = unset_env;
  options.stdin_data = std::string(stdin_data);
  absl::Status started = child.Start(argv, options);
  if (!started.ok()) {
    result.exit_code = 127;  // what a shell reports for a missing program
    result.err = started.ToString();
    return result;
  }
  if (!child.Wait(timeout).has_value()) {
    result.timed_out = true;
    child.Kill();
    child.WaitForOutputClosed(std::chrono::seconds(2));
  }
  result.exit_code = child.exit_code();
  result.term_signal = child.term_signal();
  result.out = child.Stdout();
  result.err = child.Stderr();
  return result;
}

}  // namespace sigd::testing
