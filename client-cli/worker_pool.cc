#include "client-cli/worker_pool.h"

#include <utility>

namespace sigd::cli {

WorkerPool::WorkerPool(size_t workers, size_t max_pending)
    : max_pending_(max_pending) {
  if (workers == 0) workers = 1;
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

WorkerPool::~WorkerPool() { Join(); }

bool WorkerPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    // An idle worker takes the task at once; it never counts as waiting.
    const size_t waiting_after = pending_.size() + 1;
    if (waiting_after > idle_ + max_pending_) return false;
    pending_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

size_t WorkerPool::DiscardPending() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped.swap(pending_);
  }
  // The tasks (and what they captured) are destroyed outside the lock.
  return dropped.size();
}

void WorkerPool::Join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void WorkerPool::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [this] { return !pending_.empty() || stopping_; });
    --idle_;
    if (pending_.empty()) return;  // stopping, nothing left to do
    std::function<void()> task = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // release captures before taking the lock again
    lock.lock();
  }
}

}  // namespace sigd::cli
