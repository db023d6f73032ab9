// Work for one I/O thread, posted from other threads without Asio's lock.
//
// Why: boost::asio::post from another thread (gRPC's, another shard's) takes
// the io_context's scheduler lock and wakes the I/O thread while still
// holding it (Asio's scheduler::wake_one_thread_and_unlock). The woken
// thread's first step out of epoll_wait is to take that same lock, so it
// often sleeps again on a futex until the poster lets go: one more sleep and
// wake-up on the path of a SendSignal to a client (about 100 µs of CPU on the
// benchmark VM, bench/README.md). A ShardInbox queues under a lock of its own
// and wakes the thread through an eventfd only after releasing it; posts
// that come while a wake-up is pending cost no system call at all.
//
//   ShardInbox inbox(context);      // before the thread runs `context`
//   inbox.Start();
//   inbox.Post([] { ... });         // any thread; runs on `context`'s thread
//
// Tasks run in the order they were posted. Posted from the context's own
// thread, a task goes through boost::asio::post (no lock is contended there).
// Tasks still queued when the context stops are destroyed without running,
// as Asio's own are.
#ifndef SIGD_SERVER_HUB_SHARD_INBOX_H_
#define SIGD_SERVER_HUB_SHARD_INBOX_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "server/util/mutex.h"

namespace sigd::hub {

class ShardInbox {
 public:
  using Task = absl::AnyInvocable<void()>;

  // Throws boost::system::system_error when no eventfd can be had.
  explicit ShardInbox(boost::asio::io_context& context);
  ShardInbox(const ShardInbox&) = delete;
  ShardInbox& operator=(const ShardInbox&) = delete;
  // Destroy before `context`.
  ~ShardInbox() = default;

  // Starts waiting for posts. Once, before the context's thread runs or on it.
  void Start();

  void Post(Task task);

 private:
  void Wait();

  boost::asio::io_context& context_;
  boost::asio::posix::stream_descriptor wake_;
  util::Mutex mu_;
  std::vector<Task> queue_ ABSL_GUARDED_BY(mu_);
  // A wake-up is written and its tasks not yet taken: later posts need none.
  bool signalled_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Task> running_;  // the context's thread only
};

}  // namespace sigd::hub

#endif  // SIGD_SERVER_HUB_SHARD_INBOX_H_
