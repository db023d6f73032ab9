// A fixed set of worker threads taking tasks from a bounded FIFO queue, for
// `sigctl route --concurrency N`: at most N tasks run at once, later ones
// wait in order, and a full queue refuses a task instead of growing, so the
// caller can count and report what it drops.
//
//   WorkerPool pool(/*workers=*/2, /*max_pending=*/1024);
//   if (!pool.TrySubmit([] { Work(); })) ReportDropped();
//   ...
//   pool.DiscardPending();  // when stopping early
//   pool.Join();            // waits for running tasks
#ifndef SIGD_CLIENT_CLI_WORKER_POOL_H_
#define SIGD_CLIENT_CLI_WORKER_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sigd::cli {

class WorkerPool {
 public:
  // `workers` must be at least 1. `max_pending` counts tasks waiting for a
  // worker, not running ones; 0 means a task is taken only by an idle worker.
  WorkerPool(size_t workers, size_t max_pending);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Joins: runs what is still pending, then waits for the workers.
  ~WorkerPool();

  // Queues `task`; false (and `task` dropped) when max_pending tasks wait
  // already, or after Join().
  bool TrySubmit(std::function<void()> task);

  // Drops the tasks that have not started; returns how many.
  size_t DiscardPending();

  // Refuses new tasks, lets the workers finish what is queued and running,
  // and joins them. Idempotent.
  void Join();

 private:
  void Loop();

  const size_t max_pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> pending_;  // guarded by mu_
  size_t idle_ = 0;                            // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_WORKER_POOL_H_
