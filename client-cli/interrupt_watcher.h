// Turns SIGINT and SIGTERM into a call on an ordinary thread, where it may do
// what a signal handler may not (cancel a gRPC call, take a lock).
//
// Construct it before any other thread exists, gRPC's included: the signals
// are blocked in the constructing thread, every thread created afterwards
// inherits that mask, and only the watcher takes them (sigwait). They stay
// blocked until the process exits, which is fine for a command that ends
// when its stream does.
#ifndef SIGD_CLIENT_CLI_INTERRUPT_WATCHER_H_
#define SIGD_CLIENT_CLI_INTERRUPT_WATCHER_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace sigd::cli {

class InterruptWatcher {
 public:
  InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;
  ~InterruptWatcher();

  // What to do on the next signal; replaces the previous action. It runs on
  // the watcher thread while holding a lock, so SetAction() never returns
  // while the old action is still running.
  void SetAction(std::function<void()> action);

  // Whether a signal has arrived.
  bool interrupted() const { return interrupted_.load(); }

 private:
  void Loop();

  std::atomic<bool> interrupted_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::function<void()> action_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_INTERRUPT_WATCHER_H_
