// The I/O thread's loop (WriteBatcher::Run) and its operation memory
// (HandlerPool), on a real io_context run by a real thread.
#include "server/ws/write_batcher.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "gtest/gtest.h"
#include "server/ws/handler_pool.h"
#include "tests/support/test_server.h"

namespace sigd::ws {
namespace {

namespace net = boost::asio;
using testing::WaitFor;
using namespace std::chrono_literals;

// Records, in order, what the handlers of a burst did and when it was flushed.
class Recorder : public WriteBatcher::Writer {
 public:
  void FlushWrites() override {
    events.push_back("flush");
    flushes.fetch_add(1);
    if (defer_again > 0) {
      --defer_again;
      deferred_from_flush = WriteBatcher::Defer(self.lock());
    }
  }
  void OnQueuedSend(long result) override {
    events.push_back("sent " + std::to_string(result));
    sends.fetch_add(1);
  }
  std::vector<std::string> events;  // only touched on the I/O thread
  std::atomic<int> flushes{0};
  std::atomic<int> sends{0};
  int defer_again = 0;
  bool deferred_from_flush = false;
  std::weak_ptr<Recorder> self;
};

// Runs `context` through WriteBatcher::Run on its own thread until stopped.
class IoThread {
 public:
  explicit IoThread(net::io_context& context)
      : context_(context), work_(net::make_work_guard(context)),
        thread_([&context] { WriteBatcher::Run(context); }) {}
  ~IoThread() {
    work_.reset();
    context_.stop();
    thread_.join();
  }

 private:
  net::io_context& context_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
};

// What `writer` recorded, read on the I/O thread, its only writer.
std::vector<std::string> RecordedEvents(net::io_context& context, const Recorder& writer) {
  std::atomic<bool> read{false};
  std::vector<std::string> events;
  net::post(context, [&] {
    events = writer.events;
    read = true;
  });
  EXPECT_TRUE(WaitFor([&] { return read.load(); }, 5s));
  return events;
}

TEST(WriteBatcher, DeferOutsideTheLoopIsRefused) {
  auto writer = std::make_shared<Recorder>();
  EXPECT_FALSE(WriteBatcher::Defer(writer));
}

TEST(WriteBatcher, WritersDeferredDuringABurstAreFlushedOnceAfterIt) {
  net::io_context context(1);
  auto writer = std::make_shared<Recorder>();
  writer->self = writer;
  // Queued before the thread runs, so all three are ready in one burst.
  for (int i = 0; i < 3; ++i) {
    net::post(context, [writer, i] {
      writer->events.push_back("handler " + std::to_string(i));
      EXPECT_TRUE(WriteBatcher::Defer(writer));
    });
  }
  IoThread thread(context);
  ASSERT_TRUE(WaitFor([&] { return writer->flushes.load() >= 3; }, 5s));
  // Every deferral is flushed (a session ignores repeats itself), and only
  // after the last handler of the burst has run.
  net::post(context, [writer] { writer->events.push_back("done"); });
  const std::vector<std::string> events = RecordedEvents(context, *writer);
  const std::vector<std::string> expected = {"handler 0", "handler 1", "handler 2",
                                             "flush",     "flush",     "flush", "done"};
  EXPECT_EQ(events, expected);
}

// A write that completes at once posts no completion: a writer deferred from
// inside a flush must still be flushed without waiting for another event.
TEST(WriteBatcher, AWriterDeferredDuringAFlushIsFlushedWithoutAnotherEvent) {
  net::io_context context(1);
  auto writer = std::make_shared<Recorder>();
  writer->self = writer;
  writer->defer_again = 2;
  net::post(context, [writer] { EXPECT_TRUE(WriteBatcher::Defer(writer)); });
  IoThread thread(context);
  EXPECT_TRUE(WaitFor([&] { return writer->flushes.load() == 3; }, 5s))
      << "flushes: " << writer->flushes.load();
}

TEST(WriteBatcher, AfterFlushOutsideTheLoopRunsAtOnce) {
  bool ran = false;
  WriteBatcher::AfterFlush([&] { ran = true; });
  EXPECT_TRUE(ran);
}

// A publisher's answer (queued with AfterFlush by the handler that delivered)
// goes after the burst's frames are written, not before them.
TEST(WriteBatcher, AfterFlushRunsOnceTheBurstsWritesAreStarted) {
  net::io_context context(1);
  auto writer = std::make_shared<Recorder>();
  writer->self = writer;
  std::atomic<bool> answered{false};
  net::post(context, [writer, &answered] {
    writer->events.push_back("deliver");
    EXPECT_TRUE(WriteBatcher::Defer(writer));
    WriteBatcher::AfterFlush([writer, &answered] {
      writer->events.push_back("answer");
      // Queued from an AfterFlush callback: runs too, without another event.
      WriteBatcher::AfterFlush([&answered] { answered = true; });
    });
    writer->events.push_back("handler end");
  });
  IoThread thread(context);
  ASSERT_TRUE(WaitFor([&] { return answered.load(); }, 5s));
  const std::vector<std::string> events = RecordedEvents(context, *writer);
  const std::vector<std::string> expected = {"deliver", "handler end", "flush", "answer"};
  EXPECT_EQ(events, expected);
}

// A writer that queues `text` on `fd` when flushed.
class Sender : public Recorder {
 public:
  void FlushWrites() override {
    Recorder::FlushWrites();
    iovec iov[2] = {{text.data(), text.size() / 2}, {text.data() + text.size() / 2,
                                                     text.size() - text.size() / 2}};
    queued = WriteBatcher::QueueSend(fd, iov, 2, self.lock());
  }
  int fd = -1;
  std::string text;
  bool queued = false;
};

std::shared_ptr<Sender> MakeSender(int fd, std::string text) {
  auto sender = std::make_shared<Sender>();
  sender->self = sender;
  sender->fd = fd;
  sender->text = std::move(text);
  return sender;
}

// Both ends of a local stream socket, closed with the test.
struct SocketPair {
  SocketPair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
  ~SocketPair() {
    close(fds[0]);
    close(fds[1]);
  }
  std::string Read() {
    char buffer[256];
    const ssize_t n = recv(fds[1], buffer, sizeof buffer, MSG_DONTWAIT);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }
  int fds[2] = {-1, -1};
};

bool BatchingOn(net::io_context& context) {
  std::atomic<int> batching{-1};
  net::post(context, [&] { batching = WriteBatcher::BatchingSends() ? 1 : 0; });
  EXPECT_TRUE(WaitFor([&] { return batching.load() >= 0; }, 5s));
  return batching.load() == 1;
}

TEST(WriteBatcher, QueueSendOutsideAFlushIsRefused) {
  auto writer = std::make_shared<Recorder>();
  iovec iov{nullptr, 0};
  EXPECT_FALSE(WriteBatcher::QueueSend(0, &iov, 1, writer));
}

// The sends queued by one flush's writers go to the kernel together; every
// writer hears its result before the burst's AfterFlush work runs.
TEST(WriteBatcher, SendsQueuedDuringAFlushAreSentTogetherBeforeAfterFlushWork) {
  net::io_context context(1);
  IoThread thread(context);
  ASSERT_TRUE(BatchingOn(context)) << "io_uring is unavailable on this machine";
  SocketPair a;
  SocketPair b;
  auto first = MakeSender(a.fds[0], "hello");
  auto second = MakeSender(b.fds[0], "world!");
  std::atomic<bool> answered{false};
  net::post(context, [&] {
    EXPECT_TRUE(WriteBatcher::Defer(first));
    EXPECT_TRUE(WriteBatcher::Defer(second));
    WriteBatcher::AfterFlush([&] {
      first->events.push_back("answer");
      answered = true;
    });
  });
  ASSERT_TRUE(WaitFor([&] { return answered.load(); }, 5s));
  const std::vector<std::string> events = RecordedEvents(context, *first);
  const std::vector<std::string> expected = {"flush", "sent 5", "answer"};
  EXPECT_EQ(events, expected);
  EXPECT_EQ(RecordedEvents(context, *second), (std::vector<std::string>{"flush", "sent 6"}));
  EXPECT_TRUE(first->queued);
  EXPECT_EQ(a.Read(), "hello");
  EXPECT_EQ(b.Read(), "world!");
}

// A client that does not read fills its socket: its queued send reports
// -EAGAIN at once (the session then writes asynchronously) and holds up
// nobody else's.
TEST(WriteBatcher, AQueuedSendToAFullSocketReportsEagainWithoutWaiting) {
  net::io_context context(1);
  IoThread thread(context);
  ASSERT_TRUE(BatchingOn(context)) << "io_uring is unavailable on this machine";
  SocketPair full;
  SocketPair open;
  const std::string block(64 * 1024, 'x');
  while (send(full.fds[0], block.data(), block.size(), MSG_DONTWAIT) > 0) {
  }
  auto stuck = MakeSender(full.fds[0], "late");
  auto fine = MakeSender(open.fds[0], "on time");
  net::post(context, [&] {
    EXPECT_TRUE(WriteBatcher::Defer(stuck));
    EXPECT_TRUE(WriteBatcher::Defer(fine));
  });
  ASSERT_TRUE(WaitFor([&] { return stuck->sends.load() == 1 && fine->sends.load() == 1; }, 5s));
  EXPECT_EQ(RecordedEvents(context, *stuck),
            (std::vector<std::string>{"flush", "sent " + std::to_string(-EAGAIN)}));
  EXPECT_EQ(open.Read(), "on time");
}

TEST(HandlerPool, AFreedBlockIsReusedForTheSameSizeClass) {
  void* first = HandlerPool::Allocate(200);
  std::memset(first, 0xab, 200);
  HandlerPool::Deallocate(first, 200);
  void* second = HandlerPool::Allocate(200);
  EXPECT_EQ(second, first);
  // A size in the same 64-byte class gets the same block as well.
  HandlerPool::Deallocate(second, 200);
  void* third = HandlerPool::Allocate(250);
  EXPECT_EQ(third, first);
  HandlerPool::Deallocate(third, 250);
}

TEST(HandlerPool, BlocksOfEverySizeAreUsableAndDistinct) {
  // Up to the pooled limit and past it (those go to the heap).
  std::vector<std::pair<void*, size_t>> blocks;
  for (size_t size : {1u, 63u, 64u, 65u, 1000u, 2048u, 2049u, 100000u}) {
    for (int i = 0; i < 3; ++i) {
      auto* p = static_cast<unsigned char*>(HandlerPool::Allocate(size));
      std::memset(p, static_cast<int>(size & 0xff), size);
      blocks.emplace_back(p, size);
    }
  }
  for (const auto& [p, size] : blocks) {
    const auto* bytes = static_cast<unsigned char*>(p);
    EXPECT_EQ(bytes[0], static_cast<unsigned char>(size & 0xff));
    EXPECT_EQ(bytes[size - 1], static_cast<unsigned char>(size & 0xff));
  }
  for (const auto& [p, size] : blocks) HandlerPool::Deallocate(p, size);
}

TEST(HandlerPool, ABlockFreedOnAnotherThreadStaysUsable) {
  void* block = HandlerPool::Allocate(512);
  std::memset(block, 1, 512);
  std::thread([block] {
    HandlerPool::Deallocate(block, 512);
    // That thread's list now holds it.
    void* again = HandlerPool::Allocate(512);
    EXPECT_EQ(again, block);
    std::memset(again, 2, 512);
    HandlerPool::Deallocate(again, 512);
  }).join();
}

}  // namespace
}  // namespace sigd::ws
