// ShardInbox: work posted to an I/O thread from other threads. The stress
// test is also what ThreadSanitizer (ctest -L tsan) checks the inbox with.
#include "server/hub/shard_inbox.h"

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

namespace sigd::hub {
namespace {

namespace net = boost::asio;
using sigd::testing::WaitFor;

// An io_context run by its own thread, with an inbox, as Server runs them.
class Shard {
 public:
  Shard() : guard_(net::make_work_guard(context_)) {
    inbox_ = std::make_unique<ShardInbox>(context_);
    inbox_->Start();
    thread_ = std::thread([this] { context_.run(); });
  }
  ~Shard() {
    context_.stop();
    thread_.join();
    inbox_.reset();  // before the context
  }

  ShardInbox& inbox() { return *inbox_; }
  std::thread::id thread_id() const { return thread_.get_id(); }

 private:
  net::io_context context_{1};
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::unique_ptr<ShardInbox> inbox_;
  std::thread thread_;
};

TEST(ShardInbox, TasksFromManyThreadsAllRunOnTheShardInEachPostersOrder) {
  constexpr size_t kPosters = 4;
  constexpr size_t kTasks = 20'000;
  Shard shard;
  // Touched only by tasks, so only on the shard's thread.
  std::vector<size_t> next(kPosters, 0);
  std::atomic<size_t> out_of_order{0};
  std::atomic<size_t> wrong_thread{0};
  std::atomic<size_t> ran{0};
  std::vector<std::thread> posters;
  for (size_t p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (size_t i = 0; i < kTasks; ++i) {
        shard.inbox().Post([&, p, i] {
          if (std::this_thread::get_id() != shard.thread_id()) wrong_thread.fetch_add(1);
          if (next[p] != i) out_of_order.fetch_add(1);
          next[p] = i + 1;
          ran.fetch_add(1, std::memory_order_release);
        });
        // Let the shard drain now and then, so that posts keep meeting a
        // shard that has just taken the queue (where a wake-up could be lost).
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : posters) t.join();
  ASSERT_TRUE(WaitFor([&] { return ran.load(std::memory_order_acquire) == kPosters * kTasks; }))
      << "ran " << ran.load() << " of " << kPosters * kTasks;
  EXPECT_EQ(out_of_order.load(), 0u);
  EXPECT_EQ(wrong_thread.load(), 0u);
}

TEST(ShardInbox, AQuietShardWakesForEachLonePost) {
  // One post at a time, each waited for: every one needs its own wake-up.
  Shard shard;
  std::atomic<int> ran{0};
  for (int i = 1; i <= 200; ++i) {
    shard.inbox().Post([&] { ran.fetch_add(1); });
    ASSERT_TRUE(WaitFor([&] { return ran.load() == i; })) << "post " << i << " never ran";
  }
}

TEST(ShardInbox, APostFromTheShardItselfRunsLaterNotInline) {
  Shard shard;
  std::atomic<int> step{0};
  std::atomic<bool> inline_run{false};
  shard.inbox().Post([&] {
    shard.inbox().Post([&] { step.store(2); });
    inline_run.store(step.load() == 2);
    step.store(1);
  });
  ASSERT_TRUE(WaitFor([&] { return step.load() == 2; }));
  EXPECT_FALSE(inline_run.load());
}

TEST(ShardInbox, TasksLeftWhenTheContextStopsAreDestroyedWithoutRunning) {
  auto held = std::make_shared<int>(0);
  std::atomic<bool> ran{false};
  {
    net::io_context context(1);
    ShardInbox inbox(context);
    inbox.Start();
    inbox.Post([held, &ran] { ran.store(true); });  // the context never runs
    EXPECT_EQ(held.use_count(), 2);
  }
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(held.use_count(), 1);
}

}  // namespace
}  // namespace sigd::hub
