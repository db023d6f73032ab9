// The hub without sockets: clients are fakes that record what they are given,
// shards are real io_contexts each run by its own thread. The stress test is
// what ThreadSanitizer (ctest -L tsan) checks the hub's sharding and its
// global id index with: broadcasts, targeted sends, joins, leaves and listings
// from many threads at once.
#include "server/hub/hub.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

namespace sigd::hub {
namespace {

namespace net = boost::asio;
using sigd::testing::WaitFor;
using namespace std::chrono_literals;

// One io thread per shard, as Server runs them; with `inboxes`, each shard
// also has the inbox Server gives the hub.
class Shards {
 public:
  explicit Shards(size_t n, bool inboxes = false) : contexts_(n) {
    for (auto& ctx : contexts_) {
      guards_.emplace_back(net::make_work_guard(ctx));
      if (inboxes) {
        inboxes_.push_back(std::make_unique<ShardInbox>(ctx));
        inboxes_.back()->Start();
      }
    }
    for (size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, i] {
        thread_ids_[i].store(std::this_thread::get_id());
        contexts_[i].run();
      });
    }
    for (size_t i = 0; i < n; ++i) {
      while (thread_ids_[i].load() == std::thread::id()) std::this_thread::yield();
    }
  }
  ~Shards() {
    guards_.clear();
    // An inbox's wait keeps its context running.
    if (!inboxes_.empty()) {
      for (auto& ctx : contexts_) ctx.stop();
    }
    for (auto& t : threads_) t.join();
    inboxes_.clear();  // before the contexts
  }

  std::vector<net::any_io_executor> executors() {
    std::vector<net::any_io_executor> out;
    for (auto& ctx : contexts_) out.push_back(ctx.get_executor());
    return out;
  }
  std::vector<ShardInbox*> inboxes() {
    std::vector<ShardInbox*> out;
    for (auto& inbox : inboxes_) out.push_back(inbox.get());
    return out;
  }
  bool OnShardThread(size_t shard) const {
    return thread_ids_[shard].load() == std::this_thread::get_id();
  }
  // Runs `fn` on the shard's thread and waits for it.
  void RunOn(size_t shard, const std::function<void()>& fn) {
    std::latch done(1);
    net::post(contexts_[shard], [&] {
      fn();
      done.count_down();
    });
    done.wait();
  }

 private:
  std::vector<net::io_context> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::vector<std::unique_ptr<ShardInbox>> inboxes_;
  std::array<std::atomic<std::thread::id>, 8> thread_ids_{};
  std::vector<std::thread> threads_;
};

// Records every frame; frames are "<publisher>:<sequence>" so per-publisher
// order can be checked. Counts calls made off its shard's thread.
class FakeClient : public Client {
 public:
  FakeClient(size_t shard, std::string id, std::string path, const Shards& shards)
      : Client(shard), shards_(shards) {
    info_.id = std::move(id);
    info_.path = std::move(path);
  }

  const ClientInfo& info() const override { return info_; }
  bool Deliver(const Frame& frame) override {
    if (!shards_.OnShardThread(shard())) wrong_thread.fetch_add(1);
    frames_.push_back(*frame.data);  // only ever touched on the shard thread
    delivered.fetch_add(1);
    return true;
  }
  void Close(uint16_t, std::string) override { closes.fetch_add(1); }
  uint64_t messages_in() const override { return 0; }
  uint64_t messages_out() const override { return delivered.load(); }

  // Read once the shard has gone quiet (after a RunOn barrier).
  const std::vector<std::string>& frames() const { return frames_; }

  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> wrong_thread{0};
  std::atomic<uint64_t> closes{0};

 private:
  const Shards& shards_;
  ClientInfo info_;
  std::vector<std::string> frames_;
};

std::string Id(const std::string& prefix, int n) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%06d", n);
  return prefix + buf;
}

TEST(Hub, PublishToUnknownClientIsNotFoundAndCallsNothing) {
  Shards shards(2);
  Hub hub(shards.executors());
  bool called = false;
  absl::Status s = hub.Publish({.client_id = "nobody"}, TextFrame("x"),
                               [&](uint64_t) { called = true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(called);
}

TEST(Hub, BroadcastReachesEveryShardAndCountsDeliveries) {
  Shards shards(3);
  Hub hub(shards.executors());
  std::vector<std::shared_ptr<FakeClient>> clients;
  for (int i = 0; i < 9; ++i) {
    auto c = std::make_shared<FakeClient>(i % 3, Id("c", i), i % 2 ? "/a" : "/b", shards);
    shards.RunOn(c->shard(), [&] { hub.Register(c); });
    clients.push_back(c);
  }
  EXPECT_EQ(hub.size(), 9u);
  std::atomic<int64_t> all{-1}, on_a{-1};
  ASSERT_TRUE(hub.Publish({}, TextFrame("all"), [&](uint64_t n) { all = n; }).ok());
  ASSERT_TRUE(hub.Publish({.path = "/a"}, TextFrame("a"), [&](uint64_t n) { on_a = n; }).ok());
  ASSERT_TRUE(WaitFor([&] { return all.load() >= 0 && on_a.load() >= 0; }));
  EXPECT_EQ(all.load(), 9);
  EXPECT_EQ(on_a.load(), 4);  // clients 1, 3, 5, 7

  for (auto& c : clients) shards.RunOn(c->shard(), [&] { hub.Unregister(*c); });
  EXPECT_EQ(hub.size(), 0u);
  EXPECT_EQ(hub.List("", 100, "").total, 0u);
}

TEST(Hub, ListPagesInIdOrderAndFiltersByPath) {
  Shards shards(2);
  Hub hub(shards.executors());
  std::vector<std::shared_ptr<FakeClient>> clients;
  for (int i = 0; i < 7; ++i) {
    auto c = std::make_shared<FakeClient>(i % 2, Id("c", 6 - i), i < 3 ? "/x" : "/y", shards);
    shards.RunOn(c->shard(), [&] { hub.Register(c); });
    clients.push_back(c);
  }
  std::vector<std::string> seen;
  std::string token;
  do {
    Hub::Page page = hub.List("", 3, token);
    EXPECT_EQ(page.total, 7u);
    for (auto& c : page.clients) seen.push_back(c->info().id);
    token = page.next_token;
  } while (!token.empty());
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(hub.List("/x", 10, "").total, 3u);
  for (auto& c : clients) shards.RunOn(c->shard(), [&] { hub.Unregister(*c); });
}

TEST(Hub, PlacesAPathsClientsTogetherUpToTheLimitThenOnTheLeastLoadedShard) {
  Shards shards(2);
  Hub hub(shards.executors());
  std::vector<Hub::Seat> room;
  room.push_back(hub.Place("/room"));
  const size_t home = room.front().shard();
  for (uint32_t i = 1; i < Hub::kPathAffinity; ++i) {
    room.push_back(hub.Place("/room"));
    ASSERT_EQ(room.back().shard(), home) << "client " << i;
  }
  // The path's shard is full: the next goes where there are fewer clients,
  // and so does a new path.
  Hub::Seat spill = hub.Place("/room");
  EXPECT_NE(spill.shard(), home);
  Hub::Seat other = hub.Place("/other");
  EXPECT_NE(other.shard(), home);
  // A second path's clients stay with its first.
  EXPECT_EQ(hub.Place("/other").shard(), other.shard());
  // A seat given back counts no more: with the room's first shard below the
  // limit again, the room fills it.
  room.pop_back();
  EXPECT_EQ(hub.Place("/room").shard(), home);
}

TEST(Hub, RegistrationTakesOverItsSeatAndUnregisteringFreesIt) {
  Shards shards(2);
  Hub hub(shards.executors());
  Hub::Seat seat = hub.Place("/a");
  const size_t home = seat.shard();
  auto c = std::make_shared<FakeClient>(home, Id("c", 0), "/a", shards);
  shards.RunOn(home, [&] { hub.Register(c, std::move(seat)); });
  EXPECT_EQ(hub.Place("/a").shard(), home);  // counted once, as registered
  // Every client of /b would go to the emptier shard: the other one.
  EXPECT_NE(hub.Place("/b").shard(), home);
  shards.RunOn(home, [&] { hub.Unregister(*c); });
  // Nothing is left counted: both shards are empty, and a new path goes to
  // the first.
  EXPECT_EQ(hub.Place("/c").shard(), 0u);
}

// A seat can be held by a task still queued for a shard when the server
// stops; destroyed after the hub, it must not touch it (ASan checks this).
TEST(Hub, ASeatMayOutliveItsHub) {
  Shards shards(2);
  Hub::Seat seat;
  {
    Hub hub(shards.executors());
    seat = hub.Place("/a");
    Hub::Seat other = hub.Place("/a");
    EXPECT_EQ(other.shard(), seat.shard());
  }
  seat = Hub::Seat();
}

TEST(Hub, BroadcastWaitsOnlyForShardsWithClientsInItsScope) {
  Shards shards(2, /*inboxes=*/true);
  Hub hub(shards.executors(), shards.inboxes());
  auto c = std::make_shared<FakeClient>(0, Id("c", 0), "/a", shards);
  shards.RunOn(0, [&] { hub.Register(c); });
  // Shard 1, which has no clients, is busy until released: a broadcast that
  // went to it would wait.
  std::latch release(1);
  std::latch blocked(1);
  hub.Post(1, [&] {
    blocked.count_down();
    release.wait();
  });
  blocked.wait();
  std::atomic<int64_t> on_a{-1}, nowhere{-1}, all{-1};
  ASSERT_TRUE(hub.Publish({.path = "/a"}, TextFrame("a"), [&](uint64_t n) { on_a = n; }).ok());
  ASSERT_TRUE(
      hub.Publish({.path = "/nobody"}, TextFrame("b"), [&](uint64_t n) { nowhere = n; }).ok());
  ASSERT_TRUE(hub.Publish({}, TextFrame("all"), [&](uint64_t n) { all = n; }).ok());
  const bool answered =
      WaitFor([&] { return on_a.load() >= 0 && nowhere.load() >= 0 && all.load() >= 0; });
  release.count_down();
  ASSERT_TRUE(answered);
  EXPECT_EQ(on_a.load(), 1);
  EXPECT_EQ(nowhere.load(), 0);
  EXPECT_EQ(all.load(), 1);
  // Once shard 1 has a client, a broadcast to every path reaches it too.
  auto d = std::make_shared<FakeClient>(1, Id("d", 0), "/b", shards);
  shards.RunOn(1, [&] { hub.Register(d); });
  all = -1;
  ASSERT_TRUE(hub.Publish({}, TextFrame("all"), [&](uint64_t n) { all = n; }).ok());
  ASSERT_TRUE(WaitFor([&] { return all.load() >= 0; }));
  EXPECT_EQ(all.load(), 2);
  shards.RunOn(0, [&] { hub.Unregister(*c); });
  shards.RunOn(1, [&] { hub.Unregister(*d); });
}

// Many threads at once: publishers broadcast (everywhere, per path, to one
// client), churn threads connect and disconnect clients on their shards, and
// listers page through ListClients. Clients that stay for the whole run must
// get every broadcast exactly once, in each publisher's order, on their own
// shard's thread; every `done` must fire; listings must stay sorted and always
// include the clients that never left; nothing is left registered at the end.
void BroadcastChurnAndListing(bool inboxes) {
  constexpr size_t kShards = 4;
  constexpr int kStable = 16;
  constexpr int kPublishers = 4;
  constexpr int kBroadcasts = 1000;  // per publisher
  constexpr int kChurners = 2;
  constexpr int kChurnRounds = 300;  // per churner
  constexpr int kListers = 2;

  Shards shards(kShards, inboxes);
  Hub hub(shards.executors(), shards.inboxes());

  std::vector<std::shared_ptr<FakeClient>> stable;
  for (int i = 0; i < kStable; ++i) {
    auto c = std::make_shared<FakeClient>(i % kShards, Id("s", i), i % 2 ? "/odd" : "/even",
                                          shards);
    shards.RunOn(c->shard(), [&] { hub.Register(c); });
    stable.push_back(c);
  }

  std::atomic<uint64_t> done_calls{0};
  std::atomic<uint64_t> short_broadcasts{0};  // a broadcast that missed a stable client
  std::atomic<uint64_t> targeted_missing{0};
  std::atomic<uint64_t> list_errors{0};
  std::atomic<bool> stop_listing{false};
  std::latch start(kPublishers + kChurners + kListers);
  std::vector<std::thread> threads;

  for (int p = 0; p < kPublishers; ++p) {
    threads.emplace_back([&, p] {
      start.arrive_and_wait();
      for (int i = 0; i < kBroadcasts; ++i) {
        const std::string text = std::to_string(p) + ":" + std::to_string(i);
        ASSERT_TRUE(hub.Publish({}, TextFrame(text), [&](uint64_t n) {
                         if (n < kStable) short_broadcasts.fetch_add(1);
                         done_calls.fetch_add(1);
                       }).ok());
        // A targeted send and a per-path send, whose frames are not numbered.
        const auto& target = stable[(p + i) % kStable];
        absl::Status s = hub.Publish({.client_id = target->info().id}, TextFrame("t"),
                                     [&](uint64_t n) {
                                       if (n != 1) targeted_missing.fetch_add(1);
                                       done_calls.fetch_add(1);
                                     });
        if (!s.ok()) targeted_missing.fetch_add(1);
        ASSERT_TRUE(hub.Publish({.path = "/churn"}, TextFrame("c"),
                                [&](uint64_t) { done_calls.fetch_add(1); })
                        .ok());
      }
    });
  }

  std::atomic<uint64_t> churn_registered{0};
  for (int t = 0; t < kChurners; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      std::vector<std::shared_ptr<FakeClient>> live;
      for (int i = 0; i < kChurnRounds; ++i) {
        auto c = std::make_shared<FakeClient>((t + i) % kShards,
                                              Id("t" + std::to_string(t) + "-", i), "/churn",
                                              shards);
        net::post(hub.executor(c->shard()), [&hub, c] { hub.Register(c); });
        churn_registered.fetch_add(1);
        live.push_back(c);
        if (live.size() > 8) {
          auto gone = live.front();
          live.erase(live.begin());
          net::post(hub.executor(gone->shard()), [&hub, gone] { hub.Unregister(*gone); });
        }
      }
      for (auto& gone : live) {
        net::post(hub.executor(gone->shard()), [&hub, gone] { hub.Unregister(*gone); });
      }
    });
  }

  for (int l = 0; l < kListers; ++l) {
    threads.emplace_back([&, l] {
      start.arrive_and_wait();
      while (!stop_listing.load()) {
        std::vector<std::string> ids;
        std::string token;
        do {
          Hub::Page page = hub.List(l == 0 ? "" : "/even", 5, token);
          for (auto& c : page.clients) ids.push_back(c->info().id);
          token = page.next_token;
        } while (!token.empty());
        if (!std::is_sorted(ids.begin(), ids.end())) list_errors.fetch_add(1);
        for (int i = 0; i < kStable; i += (l == 0 ? 1 : 2)) {  // stable[even] are on /even
          if (!std::binary_search(ids.begin(), ids.end(), stable[i]->info().id)) {
            list_errors.fetch_add(1);
          }
        }
        if (hub.Find(stable[0]->info().id) == nullptr) list_errors.fetch_add(1);
      }
    });
  }

  for (int i = 0; i < kPublishers + kChurners; ++i) threads[i].join();
  const uint64_t expected_done = uint64_t{kPublishers} * kBroadcasts * 3;
  EXPECT_TRUE(WaitFor([&] { return done_calls.load() == expected_done; }, 60s))
      << done_calls.load() << " of " << expected_done;
  stop_listing = true;
  for (size_t i = kPublishers + kChurners; i < threads.size(); ++i) threads[i].join();
  // Every posted register/unregister has run once each shard has drained.
  for (size_t s = 0; s < kShards; ++s) shards.RunOn(s, [] {});

  EXPECT_EQ(short_broadcasts.load(), 0u);
  EXPECT_EQ(targeted_missing.load(), 0u);
  EXPECT_EQ(list_errors.load(), 0u);
  EXPECT_EQ(hub.size(), static_cast<size_t>(kStable));
  EXPECT_EQ(hub.List("/churn", 1000, "").total, 0u);

  for (auto& c : stable) {
    EXPECT_EQ(c->wrong_thread.load(), 0u) << c->info().id;
    std::map<int, int> next;  // publisher -> next expected sequence
    int numbered = 0;
    for (const std::string& f : c->frames()) {
      const size_t colon = f.find(':');
      if (colon == std::string::npos) continue;
      const int p = std::stoi(f.substr(0, colon));
      const int seq = std::stoi(f.substr(colon + 1));
      EXPECT_EQ(seq, next[p]) << c->info().id << " publisher " << p;
      next[p] = seq + 1;
      ++numbered;
    }
    EXPECT_EQ(numbered, kPublishers * kBroadcasts) << c->info().id;
  }
  for (auto& c : stable) shards.RunOn(c->shard(), [&] { hub.Unregister(*c); });
  EXPECT_EQ(hub.size(), 0u);
}

TEST(Hub, ConcurrentBroadcastChurnAndListingStayConsistent) { BroadcastChurnAndListing(false); }

// As Server runs the hub: work from other threads reaches a shard through its
// inbox.
TEST(Hub, ConcurrentBroadcastChurnAndListingStayConsistentThroughShardInboxes) {
  BroadcastChurnAndListing(true);
}

}  // namespace
}  // namespace sigd::hub
