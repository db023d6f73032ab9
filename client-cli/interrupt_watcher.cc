#include "client-cli/interrupt_watcher.h"

#include <pthread.h>
#include <signal.h>

namespace sigd::cli {
namespace {

sigset_t InterruptSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

InterruptWatcher::InterruptWatcher() {
  sigset_t set = InterruptSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] { Loop(); });
}

InterruptWatcher::~InterruptWatcher() {
  // Wake the watcher with a signal aimed at its thread alone; it sees
  // stopping_ and returns instead of running the action.
  stopping_ = true;
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
}

void InterruptWatcher::SetAction(std::function<void()> action) {
  std::lock_guard<std::mutex> lock(mu_);
  action_ = std::move(action);
}

void InterruptWatcher::Loop() {
  const sigset_t set = InterruptSignals();
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (stopping_) return;
    interrupted_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    if (action_) action_();
  }
}

}  // namespace sigd::cli
