#include "server/ws/write_batcher.h"

#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "spdlog/spdlog.h"

namespace sigd::ws {

namespace {

// The sends of one flush, submitted to the kernel together through this
// thread's io_uring. With MSG_DONTWAIT every send completes during the
// submission (a full socket answers -EAGAIN rather than being polled), so
// the batch is synchronous: SubmitAndComplete knows every result before it
// returns.
class SendBatch {
 public:
  SendBatch() = default;
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;
  ~SendBatch() {
    if (open_) io_uring_queue_exit(&ring_);
  }

  // False (with the reason logged once per thread) when io_uring cannot be
  // used here.
  bool Init() {
    const int rc = io_uring_queue_init(kEntries, &ring_, 0);
    if (rc < 0) {
      LogUnavailable(std::strerror(-rc));
      return false;
    }
    // A ring is not enough: kernels before 5.3, and sandboxes that emulate
    // io_uring in part, refuse IORING_OP_SENDMSG (every send would fail with
    // -EINVAL and close its client). Without the probe (before 5.6) the
    // send's behaviour with MSG_DONTWAIT is not known either.
    io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
    const char* missing = nullptr;
    if (probe == nullptr) {
      missing = "no opcode probe";
    } else if (!io_uring_opcode_supported(probe, IORING_OP_SENDMSG)) {
      missing = "no sendmsg";
    }
    if (probe != nullptr) io_uring_free_probe(probe);
    if (missing != nullptr) {
      io_uring_queue_exit(&ring_);
      LogUnavailable(missing);
      return false;
    }
    open_ = true;
    ready_ = true;
    return true;
  }

  bool ready() const { return ready_; }

  void Add(int fd, const iovec* iov, size_t count, std::shared_ptr<WriteBatcher::Writer> owner) {
    sends_.push_back(Send{fd, iov_.size(), count, std::move(owner), kUnreported});
    iov_.insert(iov_.end(), iov, iov + count);
  }

  // Sends everything added, then tells each owner its result. An owner may
  // queue more writes from OnQueuedSend: they are sent directly (the caller
  // clears the thread's batch pointer first).
  void SubmitAndComplete() {
    if (sends_.empty()) return;
    // The message headers point into iov_, which no longer grows.
    messages_.assign(sends_.size(), msghdr{});
    for (size_t i = 0; i < sends_.size(); ++i) {
      messages_[i].msg_iov = iov_.data() + sends_[i].iov_first;
      messages_[i].msg_iovlen = sends_[i].iov_count;
    }
    size_t next = 0;
    while (next < sends_.size() && ready_) {
      unsigned queued = 0;
      while (next + queued < sends_.size()) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) break;
        const size_t i = next + queued;
        io_uring_prep_sendmsg(sqe, sends_[i].fd, &messages_[i], MSG_DONTWAIT | MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, i);
        ++queued;
      }
      if (!SubmitAndReap(next, queued)) break;
      next += queued;
    }
    // What a broken ring never got is reported as nothing sent: the owner
    // then writes it the ordinary way.
    for (Send& send : sends_) {
      if (send.result == kUnreported) send.result = -EAGAIN;
    }
    // Owners run with the batch emptied (what they queue goes directly);
    // swapped, not moved, so both vectors keep their capacity.
    completing_.swap(sends_);
    iov_.clear();
    for (Send& send : completing_) send.owner->OnQueuedSend(send.result);
    completing_.clear();
  }

 private:
  static constexpr unsigned kEntries = 256;
  static constexpr long kUnreported = LONG_MIN;

  struct Send {
    int fd;
    size_t iov_first;
    size_t iov_count;
    std::shared_ptr<WriteBatcher::Writer> owner;
    long result;
  };

  // Submits the `queued` sends from `first` on and collects their results
  // into sends_. False if the ring failed: it is then given up for this
  // thread (a failed submit may leave entries in the submission queue that
  // point into this batch, so the ring can never be submitted again). Sends
  // it did not report are marked -EAGAIN if they never reached the kernel
  // (their owners write them the ordinary way) and -EIO if they did: whether
  // their bytes went out is unknown, so their clients are dropped rather
  // than sent the bytes twice. The kernel no longer reads their buffers: a
  // MSG_DONTWAIT send runs to completion inside the submitting call.
  bool SubmitAndReap(size_t first, unsigned queued) {
    unsigned submitted = 0;
    while (submitted < queued) {
      const int rc = io_uring_submit(&ring_);
      if (rc == -EINTR) continue;
      if (rc <= 0) return Fail("submit", rc == 0 ? -EIO : rc, first, submitted, queued);
      submitted += static_cast<unsigned>(rc);
    }
    for (unsigned seen = 0; seen < submitted; ++seen) {
      io_uring_cqe* cqe = nullptr;
      int rc = io_uring_wait_cqe(&ring_, &cqe);
      while (rc == -EINTR) rc = io_uring_wait_cqe(&ring_, &cqe);
      if (rc < 0) return Fail("wait", rc, first, submitted, queued);
      Record(cqe);
    }
    return true;
  }

  void Record(io_uring_cqe* cqe) {
    const uint64_t i = io_uring_cqe_get_data64(cqe);
    if (i < sends_.size()) sends_[i].result = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
  }

  bool Fail(const char* what, int rc, size_t first, unsigned submitted, unsigned queued) {
    // Results already posted are kept: those sends need no guessing.
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe != nullptr) Record(cqe);
    for (size_t i = first; i < first + queued; ++i) {
      if (sends_[i].result != kUnreported) continue;
      sends_[i].result = i < first + submitted ? -EIO : -EAGAIN;
    }
    return GiveUp(what, rc);
  }

  bool GiveUp(const char* what, int rc) {
    spdlog::error("io_uring {} failed ({}): this I/O thread sends without it from now on", what,
                  std::strerror(-rc));
    // The ring itself is closed by the destructor.
    ready_ = false;
    return false;
  }

  static void LogUnavailable(const char* why) {
    spdlog::info("io_uring unavailable ({}): each client's frames are sent with their own "
                 "system call",
                 why);
  }

  io_uring ring_{};
  bool open_ = false;   // ring_ is set up
  bool ready_ = false;  // and still used
  std::vector<Send> sends_;
  std::vector<Send> completing_;
  std::vector<iovec> iov_;
  std::vector<msghdr> messages_;
};

thread_local std::vector<std::shared_ptr<WriteBatcher::Writer>>* deferred = nullptr;
thread_local std::vector<std::function<void()>>* after_flush = nullptr;
// Set only while Run's flush calls FlushWrites.
thread_local SendBatch* flushing_batch = nullptr;
thread_local bool batching_sends = false;

}  // namespace

void WriteBatcher::Run(boost::asio::io_context& context, bool io_uring,
                       std::atomic<int>* io_uring_threads) {
  std::vector<std::shared_ptr<Writer>> list;
  std::vector<std::shared_ptr<Writer>> flushing;
  std::vector<std::function<void()>> after;
  std::vector<std::function<void()>> running;
  SendBatch batch;
  batching_sends = io_uring && batch.Init();
  auto count_batching = [&](int delta) {
    if (io_uring_threads != nullptr) io_uring_threads->fetch_add(delta, std::memory_order_relaxed);
  };
  if (batching_sends) count_batching(1);
  deferred = &list;
  after_flush = &after;
  // The completions of the previous flush's writes come back as one handler
  // each; they must not use up the burst, or the messages read behind them
  // would be written one per write again.
  size_t last_flush = 0;
  while (true) {
    // Block only when nothing waits for a flush: a writer deferred by the
    // previous flush must not wait for an unrelated event (a write that
    // completes at once posts no completion).
    size_t n = 0;
    if (list.empty() && after.empty()) {
      if (context.run_one() == 0) break;
      n = 1;
    } else if (context.stopped()) {
      break;
    }
    const size_t burst = kBurst + last_flush;
    for (; n < burst && context.poll_one() > 0; ++n) {
    }
    // A writer deferred by a FlushWrites call below waits for the next burst.
    flushing.swap(list);
    last_flush = flushing.size();
    flushing_batch = batching_sends ? &batch : nullptr;
    for (const std::shared_ptr<Writer>& writer : flushing) writer->FlushWrites();
    flushing_batch = nullptr;
    batch.SubmitAndComplete();
    if (batching_sends && !batch.ready()) {  // the ring failed: given up
      batching_sends = false;
      count_batching(-1);
    }
    flushing.clear();
    // Likewise, work queued by these waits for the next burst.
    running.swap(after);
    for (std::function<void()>& fn : running) fn();
    running.clear();
  }
  deferred = nullptr;
  after_flush = nullptr;
  if (batching_sends) count_batching(-1);
  batching_sends = false;
  // Stopped: what still waits runs now rather than being lost.
  for (std::function<void()>& fn : after) fn();
}

bool WriteBatcher::Defer(std::shared_ptr<Writer> writer) {
  if (deferred == nullptr) return false;
  deferred->push_back(std::move(writer));
  return true;
}

bool WriteBatcher::QueueSend(int fd, const iovec* iov, size_t count,
                             std::shared_ptr<Writer> owner) {
  if (flushing_batch == nullptr) return false;
  flushing_batch->Add(fd, iov, count, std::move(owner));
  return true;
}

bool WriteBatcher::BatchingSends() { return batching_sends; }

void WriteBatcher::AfterFlush(std::function<void()> fn) {
  if (after_flush == nullptr) {
    fn();
    return;
  }
  after_flush->push_back(std::move(fn));
}

}  // namespace sigd::ws
