// Corked writes: the sessions of one I/O thread start their socket writes
// after a burst of ready handlers has run, not from inside each delivery.
//
// Why: a broadcast that arrives while the previous one is still being written
// would otherwise cost every client one more write (and one more system call)
// per frame. Deferring the write to the end of the burst lets the frames of
// all messages read in that burst (a publisher's socket often holds dozens)
// go out to each client in one gathered write, as uWebSockets does with its
// cork. At low load a burst is one handler, so nothing waits.
//
// Each I/O thread runs its io_context through WriteBatcher::Run, which keeps
// a thread-local list of sessions with frames to write.
//
// The writes of one flush go to the kernel together: each session queues its
// non-blocking sendmsg (QueueSend) and the thread hands them all over in one
// io_uring submission, so a broadcast to N clients costs one system call
// rather than N. Measured: a loopback send of a 66-byte frame took half the
// CPU this way on the benchmark machine (2.0 against 4.3 µs), whose system
// calls are expensive (a VM). Where io_uring is unavailable (an old kernel,
// a seccomp profile that forbids it, --io-uring off) each session sends on
// its own, as before.
//
//   threads.emplace_back([ctx] { ws::WriteBatcher::Run(*ctx); });
//   // in a session, on the same thread:
//   if (!WriteBatcher::Defer(shared_from_this())) StartWriteNow();
#ifndef SIGD_SERVER_WS_WRITE_BATCHER_H_
#define SIGD_SERVER_WS_WRITE_BATCHER_H_

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

#include "boost/asio/io_context.hpp"

namespace sigd::ws {

class WriteBatcher {
 public:
  // Something with frames to write once the burst is over.
  class Writer {
   public:
    virtual void FlushWrites() = 0;
    // The result of a send queued with QueueSend: the bytes sent (maybe
    // fewer than asked), or -errno (-EAGAIN: the socket had no room).
    virtual void OnQueuedSend(long result) = 0;

   protected:
    ~Writer() = default;
  };

  // Runs `context` on this thread until it is stopped; after every burst of
  // ready handlers (at most kBurst of them, plus one per write the previous
  // flush started) calls FlushWrites on every writer deferred during it.
  // With `io_uring` false (--io-uring off), each session sends on its own.
  // While this thread sends through io_uring it counts itself in
  // `io_uring_threads` (if given): one fewer where the kernel refuses it.
  static void Run(boost::asio::io_context& context, bool io_uring = true,
                  std::atomic<int>* io_uring_threads = nullptr);

  // Defers writer->FlushWrites() to the end of the current burst. False when
  // this thread is not inside Run (the caller then writes at once).
  static bool Defer(std::shared_ptr<Writer> writer);

  // Inside FlushWrites: queues a non-blocking sendmsg of iov[0, count) on
  // `fd`, to be submitted with the other sends of this flush; then
  // owner->OnQueuedSend runs, on this thread, before the AfterFlush work.
  // The iovecs are copied; the bytes they point to must stay put until
  // then. False, queuing nothing, anywhere else or without io_uring: the
  // caller sends itself.
  static bool QueueSend(int fd, const iovec* iov, size_t count, std::shared_ptr<Writer> owner);

  // Whether this thread submits its flushes through io_uring (for tests).
  static bool BatchingSends();

  // Runs `fn` once the writes deferred so far in this burst have been
  // started: what answers a publisher (a gRPC reply, written inline by
  // gRPC) goes after the frames it published, not ahead of them. Runs `fn`
  // at once when this thread is not inside Run.
  static void AfterFlush(std::function<void()> fn);

  // Bounds how long frames wait under sustained load. Measured in `max`
  // (1,000 clients): 128 gave 0.90 system calls per delivery, 1,024 0.14.
  static constexpr size_t kBurst = 1024;
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_WRITE_BATCHER_H_
