// The I/O thread's loop (WriteBatcher::Run) and its operation memory
// (HandlerPool), on a real io_context run by a real thread.
#include "server/ws/write_batcher.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
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
  std::vector<std::string> events;  // only touched on the I/O thread
  std::atomic<int> flushes{0};
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
