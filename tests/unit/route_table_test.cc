#include "server/routes/route_table.h"

#include <atomic>
#include <cstdint>
#include <latch>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/routes/event_sink.h"
#include "server/routes/route_pattern.h"
#include "signal.pb.h"

namespace sigd::routes {
namespace {

using Result = MessageOutcome::Result;

// A subscriber's queue: a vector, optionally bounded to simulate a full queue.
class FakeSink : public EventSink {
 public:
  explicit FakeSink(size_t capacity = std::numeric_limits<size_t>::max())
      : capacity_(capacity) {}

  bool Offer(EventPtr event) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (events_.size() >= capacity_) {
      ++refused_;
      return false;
    }
    events_.push_back(std::move(event));
    return true;
  }

  std::vector<EventPtr> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  size_t size() const { return events().size(); }
  size_t refused() const {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_;
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<EventPtr> events_;
  size_t refused_ = 0;
};

RoutePattern Pattern(std::string_view text) {
  absl::StatusOr<RoutePattern> p = RoutePattern::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

std::vector<RoutePattern> Patterns(std::initializer_list<std::string_view> texts) {
  std::vector<RoutePattern> out;
  for (std::string_view t : texts) out.push_back(Pattern(t));
  return out;
}

Subscription Handle(std::initializer_list<std::string_view> routes,
                    std::shared_ptr<EventSink> sink, std::string group = "") {
  Subscription s;
  s.routes = Patterns(routes);
  s.group = std::move(group);
  s.sink = std::move(sink);
  return s;
}

Subscription Observe(std::initializer_list<std::string_view> routes,
                     std::shared_ptr<EventSink> sink, std::string group = "") {
  Subscription s = Handle(routes, std::move(sink), std::move(group));
  s.observe = true;
  return s;
}

// Builds events the way the server does: one per matched route, with the
// route text and an id the test can follow.
struct EventMaker {
  std::string id = "e1";
  sigd::v1::EventKind kind = sigd::v1::MESSAGE;
  int calls = 0;

  EventPtr operator()(const std::string& route) {
    ++calls;
    auto e = std::make_shared<sigd::v1::SignalEvent>();
    e->set_id(id);
    e->set_kind(kind);
    e->set_route(route);
    return e;
  }
};

MessageOutcome Route(const RouteTable& table, std::string_view path, std::string id = "e1") {
  EventMaker maker{std::move(id)};
  return table.RouteMessage(path, [&](const std::string& r) { return maker(r); });
}

TEST(RouteTable, UnroutedPathIsUnrouted) {
  RouteTable table;
  MessageOutcome out = Route(table, "/anything");
  EXPECT_EQ(out.result, Result::kUnrouted);
  EXPECT_EQ(out.route, "");
  EXPECT_EQ(out.handle_deliveries, 0u);

  auto sink = std::make_shared<FakeSink>();
  table.Add(Handle({"/messages"}, sink));
  EXPECT_EQ(Route(table, "/other").result, Result::kUnrouted);
  EXPECT_EQ(Route(table, "/messages/x").result, Result::kUnrouted);
  EXPECT_EQ(sink->size(), 0u);
}

TEST(RouteTable, HandleSuppressesBroadcastAndDeliversTheEvent) {
  RouteTable table;
  auto sink = std::make_shared<FakeSink>();
  table.Add(Handle({"/messages"}, sink));

  MessageOutcome out = Route(table, "/messages", "m1");
  EXPECT_EQ(out.result, Result::kHandled);
  EXPECT_EQ(out.route, "/messages");
  EXPECT_EQ(out.handle_deliveries, 1u);
  ASSERT_EQ(sink->size(), 1u);
  EXPECT_EQ(sink->events()[0]->id(), "m1");
  EXPECT_EQ(sink->events()[0]->route(), "/messages");
}

TEST(RouteTable, PrefixRouteReportsThePatternAsTheRoute) {
  RouteTable table;
  auto sink = std::make_shared<FakeSink>();
  table.Add(Handle({"/chat/*"}, sink));
  MessageOutcome out = Route(table, "/chat/room1");
  EXPECT_EQ(out.result, Result::kHandled);
  EXPECT_EQ(out.route, "/chat/*");
  ASSERT_EQ(sink->size(), 1u);
  EXPECT_EQ(sink->events()[0]->route(), "/chat/*");
}

TEST(RouteTable, ObserveGetsACopyAndLeavesDefaultHandling) {
  RouteTable table;
  auto sink = std::make_shared<FakeSink>();
  table.Add(Observe({"/chat/*"}, sink));

  MessageOutcome out = Route(table, "/chat/a", "o1");
  EXPECT_EQ(out.result, Result::kUnrouted);
  EXPECT_EQ(out.route, "");
  EXPECT_EQ(out.observe_deliveries, 1u);
  EXPECT_EQ(out.handle_deliveries, 0u);
  ASSERT_EQ(sink->size(), 1u);
  EXPECT_EQ(sink->events()[0]->id(), "o1");
  EXPECT_EQ(sink->events()[0]->route(), "/chat/*");
}

TEST(RouteTable, ObserverAndHandlerEachSeeTheirOwnRoute) {
  RouteTable table;
  auto handler = std::make_shared<FakeSink>();
  auto observer = std::make_shared<FakeSink>();
  table.Add(Handle({"/chat/a"}, handler));
  table.Add(Observe({"/chat/*"}, observer));

  MessageOutcome out = Route(table, "/chat/a");
  EXPECT_EQ(out.result, Result::kHandled);
  EXPECT_EQ(out.route, "/chat/a");
  EXPECT_EQ(out.observe_deliveries, 1u);
  ASSERT_EQ(handler->size(), 1u);
  ASSERT_EQ(observer->size(), 1u);
  EXPECT_EQ(handler->events()[0]->route(), "/chat/a");
  EXPECT_EQ(observer->events()[0]->route(), "/chat/*");
}

TEST(RouteTable, ExactHandleRouteBeatsPrefix) {
  RouteTable table;
  auto exact = std::make_shared<FakeSink>();
  auto prefix = std::make_shared<FakeSink>();
  table.Add(Handle({"/a/*"}, prefix));
  table.Add(Handle({"/a/b"}, exact));

  MessageOutcome out = Route(table, "/a/b");
  EXPECT_EQ(out.result, Result::kHandled);
  EXPECT_EQ(out.route, "/a/b");
  EXPECT_EQ(exact->size(), 1u);
  EXPECT_EQ(prefix->size(), 0u);

  // Paths only the prefix matches still go to it.
  EXPECT_EQ(Route(table, "/a/c").route, "/a/*");
  EXPECT_EQ(prefix->size(), 1u);
  EXPECT_EQ(exact->size(), 1u);
}

TEST(RouteTable, LongerPrefixBeatsShorterPrefix) {
  RouteTable table;
  auto shorter = std::make_shared<FakeSink>();
  auto longer = std::make_shared<FakeSink>();
  table.Add(Handle({"/a/*"}, shorter));
  table.Add(Handle({"/a/b/*"}, longer));

  EXPECT_EQ(Route(table, "/a/b/c").route, "/a/b/*");
  EXPECT_EQ(longer->size(), 1u);
  EXPECT_EQ(shorter->size(), 0u);

  EXPECT_EQ(Route(table, "/a/b").route, "/a/*");  // "/a/b/*" does not match "/a/b"
  EXPECT_EQ(shorter->size(), 1u);
}

TEST(RouteTable, SubscriberUsesItsMostSpecificMatchingRoute) {
  RouteTable table;
  auto sink = std::make_shared<FakeSink>();
  table.Add(Handle({"/*", "/a/*", "/a/b"}, sink));
  EXPECT_EQ(Route(table, "/a/b").route, "/a/b");
  EXPECT_EQ(Route(table, "/a/c").route, "/a/*");
  EXPECT_EQ(Route(table, "/z").route, "/*");
  ASSERT_EQ(sink->size(), 3u);
  EXPECT_EQ(sink->events()[0]->route(), "/a/b");
  EXPECT_EQ(sink->events()[1]->route(), "/a/*");
  EXPECT_EQ(sink->events()[2]->route(), "/*");
}

TEST(RouteTable, NamedGroupSharesEventsRoundRobin) {
  RouteTable table;
  auto a = std::make_shared<FakeSink>();
  auto b = std::make_shared<FakeSink>();
  table.Add(Handle({"/jobs"}, a, "workers"));
  table.Add(Handle({"/jobs"}, b, "workers"));

  for (int i = 0; i < 4; ++i) {
    MessageOutcome out = Route(table, "/jobs", "j" + std::to_string(i));
    EXPECT_EQ(out.result, Result::kHandled);
    EXPECT_EQ(out.handle_deliveries, 1u);
  }
  EXPECT_EQ(a->size(), 2u);
  EXPECT_EQ(b->size(), 2u);
  // Strictly alternating, not two in a row to the same member.
  std::set<std::string> ids;
  for (const auto& e : a->events()) ids.insert(e->id());
  EXPECT_TRUE(ids == std::set<std::string>({"j0", "j2"}) ||
              ids == std::set<std::string>({"j1", "j3"}));
}

TEST(RouteTable, EmptyGroupNamesEachGetEveryEvent) {
  RouteTable table;
  auto a = std::make_shared<FakeSink>();
  auto b = std::make_shared<FakeSink>();
  table.Add(Handle({"/jobs"}, a));
  table.Add(Handle({"/jobs"}, b));

  for (int i = 0; i < 3; ++i) {
    MessageOutcome out = Route(table, "/jobs");
    EXPECT_EQ(out.result, Result::kHandled);
    EXPECT_EQ(out.handle_deliveries, 2u);
  }
  EXPECT_EQ(a->size(), 3u);
  EXPECT_EQ(b->size(), 3u);
}

TEST(RouteTable, EachGroupGetsTheEventOnce) {
  RouteTable table;
  auto g1a = std::make_shared<FakeSink>();
  auto g1b = std::make_shared<FakeSink>();
  auto g2 = std::make_shared<FakeSink>();
  auto solo = std::make_shared<FakeSink>();
  table.Add(Handle({"/x"}, g1a, "g1"));
  table.Add(Handle({"/x"}, g2, "g2"));
  table.Add(Handle({"/x"}, g1b, "g1"));
  table.Add(Handle({"/x"}, solo));

  MessageOutcome out = Route(table, "/x");
  EXPECT_EQ(out.result, Result::kHandled);
  EXPECT_EQ(out.handle_deliveries, 3u);
  EXPECT_EQ(g1a->size() + g1b->size(), 1u);
  EXPECT_EQ(g2->size(), 1u);
  EXPECT_EQ(solo->size(), 1u);
}

TEST(RouteTable, ObserveNamedGroupGetsOneCopy) {
  RouteTable table;
  auto a = std::make_shared<FakeSink>();
  auto b = std::make_shared<FakeSink>();
  auto solo = std::make_shared<FakeSink>();
  table.Add(Observe({"/x"}, a, "audit"));
  table.Add(Observe({"/x"}, b, "audit"));
  table.Add(Observe({"/*"}, solo));

  for (int i = 0; i < 4; ++i) {
    MessageOutcome out = Route(table, "/x");
    EXPECT_EQ(out.result, Result::kUnrouted);
    EXPECT_EQ(out.observe_deliveries, 2u);
  }
  EXPECT_EQ(a->size(), 2u);
  EXPECT_EQ(b->size(), 2u);
  EXPECT_EQ(solo->size(), 4u);
}

TEST(RouteTable, FullMemberPassesTheEventToTheNextInItsGroup) {
  RouteTable table;
  auto full = std::make_shared<FakeSink>(0);
  auto open = std::make_shared<FakeSink>();
  table.Add(Handle({"/jobs"}, full, "workers"));
  table.Add(Handle({"/jobs"}, open, "workers"));

  for (int i = 0; i < 4; ++i) {
    MessageOutcome out = Route(table, "/jobs");
    EXPECT_EQ(out.result, Result::kHandled);
    EXPECT_EQ(out.handle_deliveries, 1u);
  }
  EXPECT_EQ(open->size(), 4u);
  EXPECT_EQ(full->size(), 0u);
  EXPECT_GE(full->refused(), 1u);  // it was asked, and said no
}

TEST(RouteTable, AllMembersFullIsBusy) {
  RouteTable table;
  auto a = std::make_shared<FakeSink>(1);
  auto b = std::make_shared<FakeSink>(1);
  table.Add(Handle({"/jobs"}, a, "workers"));
  table.Add(Handle({"/jobs"}, b, "workers"));

  EXPECT_EQ(Route(table, "/jobs").result, Result::kHandled);
  EXPECT_EQ(Route(table, "/jobs").result, Result::kHandled);
  MessageOutcome out = Route(table, "/jobs");
  EXPECT_EQ(out.result, Result::kBusy);
  EXPECT_EQ(out.route, "/jobs");
  EXPECT_EQ(out.handle_deliveries, 0u);
  EXPECT_EQ(a->size(), 1u);
  EXPECT_EQ(b->size(), 1u);
}

TEST(RouteTable, OneFullSoloSubscriberMakesTheRouteBusy) {
  RouteTable table;
  auto open = std::make_shared<FakeSink>();
  auto full = std::make_shared<FakeSink>(0);
  table.Add(Handle({"/x"}, open));
  table.Add(Handle({"/x"}, full));

  MessageOutcome out = Route(table, "/x");
  EXPECT_EQ(out.result, Result::kBusy);
  EXPECT_EQ(out.handle_deliveries, 1u);  // the open one still got it
  EXPECT_EQ(open->size(), 1u);
}

TEST(RouteTable, FullObserversAreCountedAndDoNotChangeTheResult) {
  RouteTable table;
  auto a = std::make_shared<FakeSink>(0);
  auto b = std::make_shared<FakeSink>(0);
  auto solo = std::make_shared<FakeSink>(0);
  table.Add(Observe({"/x"}, a, "audit"));
  table.Add(Observe({"/x"}, b, "audit"));
  table.Add(Observe({"/x"}, solo));

  MessageOutcome out = Route(table, "/x");
  EXPECT_EQ(out.result, Result::kUnrouted);
  EXPECT_EQ(out.observe_deliveries, 0u);
  EXPECT_EQ(out.observe_dropped, 2u);  // the "audit" group and the solo one

  auto handler = std::make_shared<FakeSink>();
  table.Add(Handle({"/x"}, handler));
  out = Route(table, "/x");
  EXPECT_EQ(out.result, Result::kHandled);
  EXPECT_EQ(out.observe_dropped, 2u);
  EXPECT_EQ(handler->size(), 1u);
}

TEST(RouteTable, RemoveMakesThePathUnroutedAgain) {
  RouteTable table;
  auto sink = std::make_shared<FakeSink>();
  const RouteTable::Handle h = table.Add(Handle({"/messages"}, sink));
  EXPECT_EQ(table.subscriber_count(), 1u);
  EXPECT_EQ(Route(table, "/messages").result, Result::kHandled);

  table.Remove(h);
  EXPECT_EQ(table.subscriber_count(), 0u);
  EXPECT_EQ(Route(table, "/messages").result, Result::kUnrouted);
  EXPECT_EQ(sink->size(), 1u);

  table.Remove(h);  // removing twice is harmless
  EXPECT_EQ(table.subscriber_count(), 0u);
}

TEST(RouteTable, RemoveLeavesOtherSubscribers) {
  RouteTable table;
  auto a = std::make_shared<FakeSink>();
  auto b = std::make_shared<FakeSink>();
  const RouteTable::Handle ha = table.Add(Handle({"/jobs"}, a, "workers"));
  table.Add(Handle({"/jobs"}, b, "workers"));
  table.Remove(ha);
  EXPECT_EQ(table.subscriber_count(), 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Route(table, "/jobs").result, Result::kHandled);
  EXPECT_EQ(a->size(), 0u);
  EXPECT_EQ(b->size(), 3u);
}

TEST(RouteTable, RemovingTheMostSpecificRouteFallsBackToTheNext) {
  RouteTable table;
  auto exact = std::make_shared<FakeSink>();
  auto prefix = std::make_shared<FakeSink>();
  table.Add(Handle({"/a/*"}, prefix));
  const RouteTable::Handle h = table.Add(Handle({"/a/b"}, exact));
  table.Remove(h);
  EXPECT_EQ(Route(table, "/a/b").route, "/a/*");
  EXPECT_EQ(prefix->size(), 1u);
}

TEST(RouteTable, PinnedRouteWithoutHandlerIsNoHandler) {
  RouteTable table(Patterns({"/orders/*"}));
  MessageOutcome out = Route(table, "/orders/1");
  EXPECT_EQ(out.result, Result::kNoHandler);
  EXPECT_EQ(out.route, "/orders/*");
  // Paths outside the pinned pattern are unaffected.
  EXPECT_EQ(Route(table, "/orders").result, Result::kUnrouted);
  EXPECT_EQ(Route(table, "/other").result, Result::kUnrouted);
}

TEST(RouteTable, PinnedRouteWithHandlerIsHandled) {
  RouteTable table(Patterns({"/orders/*"}));
  auto sink = std::make_shared<FakeSink>();
  const RouteTable::Handle h = table.Add(Handle({"/orders/*"}, sink));
  EXPECT_EQ(Route(table, "/orders/1").result, Result::kHandled);
  EXPECT_EQ(sink->size(), 1u);
  table.Remove(h);
  EXPECT_EQ(Route(table, "/orders/1").result, Result::kNoHandler);
}

TEST(RouteTable, ObserverDoesNotSatisfyAPinnedRoute) {
  RouteTable table(Patterns({"/orders"}));
  auto observer = std::make_shared<FakeSink>();
  table.Add(Observe({"/orders"}, observer));
  MessageOutcome out = Route(table, "/orders");
  EXPECT_EQ(out.result, Result::kNoHandler);
  EXPECT_EQ(observer->size(), 1u);
}

TEST(RouteTable, SubscribersThatDidNotAskForMessagesGetNone) {
  RouteTable table;
  auto handler = std::make_shared<FakeSink>();
  auto observer = std::make_shared<FakeSink>();
  Subscription h = Handle({"/x"}, handler);
  h.wants_message = false;
  h.wants_connect = true;
  Subscription o = Observe({"/x"}, observer);
  o.wants_message = false;
  o.wants_disconnect = true;
  table.Add(std::move(h));
  table.Add(std::move(o));

  MessageOutcome out = Route(table, "/x");
  EXPECT_EQ(out.result, Result::kUnrouted);
  EXPECT_EQ(out.observe_deliveries, 0u);
  EXPECT_EQ(handler->size(), 0u);
  EXPECT_EQ(observer->size(), 0u);
}

TEST(RouteTable, LifecycleGoesOnlyToSubscribersThatAsked) {
  RouteTable table;
  auto connect_handler = std::make_shared<FakeSink>();
  auto connect_observer = std::make_shared<FakeSink>();
  auto messages_only = std::make_shared<FakeSink>();
  auto disconnect_only = std::make_shared<FakeSink>();
  Subscription a = Handle({"/chat/*"}, connect_handler);
  a.wants_connect = true;
  Subscription b = Observe({"/chat/*"}, connect_observer);
  b.wants_connect = true;
  Subscription c = Handle({"/chat/*"}, messages_only);
  Subscription d = Handle({"/chat/*"}, disconnect_only);
  d.wants_disconnect = true;
  table.Add(std::move(a));
  table.Add(std::move(b));
  table.Add(std::move(c));
  table.Add(std::move(d));

  EventMaker maker{"c1", sigd::v1::CONNECT};
  const uint32_t failed = table.RouteLifecycle(
      "/chat/a", sigd::v1::CONNECT, [&](const std::string& r) { return maker(r); });
  EXPECT_EQ(failed, 0u);
  ASSERT_EQ(connect_handler->size(), 1u);
  ASSERT_EQ(connect_observer->size(), 1u);
  EXPECT_EQ(messages_only->size(), 0u);
  EXPECT_EQ(disconnect_only->size(), 0u);
  EXPECT_EQ(connect_handler->events()[0]->kind(), sigd::v1::CONNECT);
  EXPECT_EQ(connect_handler->events()[0]->route(), "/chat/*");

  EventMaker bye{"d1", sigd::v1::DISCONNECT};
  EXPECT_EQ(table.RouteLifecycle("/chat/a", sigd::v1::DISCONNECT,
                                 [&](const std::string& r) { return bye(r); }),
            0u);
  EXPECT_EQ(disconnect_only->size(), 1u);
  EXPECT_EQ(connect_handler->size(), 1u);
  EXPECT_EQ(messages_only->size(), 0u);
}

TEST(RouteTable, LifecycleIgnoresNonMatchingPaths) {
  RouteTable table;
  auto sink = std::make_shared<FakeSink>();
  Subscription s = Handle({"/chat/*"}, sink);
  s.wants_connect = true;
  table.Add(std::move(s));
  EventMaker maker{"c1", sigd::v1::CONNECT};
  EXPECT_EQ(table.RouteLifecycle("/other", sigd::v1::CONNECT,
                                 [&](const std::string& r) { return maker(r); }),
            0u);
  EXPECT_EQ(sink->size(), 0u);
}

TEST(RouteTable, LifecycleRoundRobinsInANamedGroupAndCountsFullGroups) {
  RouteTable table;
  auto a = std::make_shared<FakeSink>();
  auto b = std::make_shared<FakeSink>();
  auto full = std::make_shared<FakeSink>(0);
  for (const auto& sink : {a, b}) {
    Subscription s = Handle({"/x"}, sink, "presence");
    s.wants_connect = true;
    table.Add(std::move(s));
  }
  Subscription f = Observe({"/x"}, full);
  f.wants_connect = true;
  table.Add(std::move(f));

  EventMaker maker{"c", sigd::v1::CONNECT};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(table.RouteLifecycle("/x", sigd::v1::CONNECT,
                                   [&](const std::string& r) { return maker(r); }),
              1u);  // only the full solo observer failed
  }
  EXPECT_EQ(a->size(), 2u);
  EXPECT_EQ(b->size(), 2u);
}

TEST(RouteTable, BuildsOneEventPerDistinctRoute) {
  RouteTable table;
  for (int i = 0; i < 3; ++i) table.Add(Handle({"/x"}, std::make_shared<FakeSink>()));
  table.Add(Observe({"/*"}, std::make_shared<FakeSink>()));
  EventMaker maker;
  table.RouteMessage("/x", [&](const std::string& r) { return maker(r); });
  EXPECT_EQ(maker.calls, 2);  // "/x" once for the three handlers, "/*" once
}

// Routing threads race a thread that keeps adding and removing subscribers.
// Whatever the interleaving, nothing crashes and every kHandled outcome's
// deliveries really reached a sink.
TEST(RouteTable, ConcurrentRoutingAndChurnLosesNothingItReportsHandled) {
  RouteTable table;
  auto steady = std::make_shared<FakeSink>();
  table.Add(Handle({"/steady"}, steady));

  constexpr int kRouters = 3;
  constexpr int kEventsPerRouter = 3000;
  constexpr int kChurn = 600;

  std::vector<std::shared_ptr<FakeSink>> churn_sinks;  // written by the churn thread only
  std::atomic<uint64_t> handled_steady{0};
  std::atomic<uint64_t> handled_churn_path{0};
  std::atomic<uint64_t> deliveries_churn_path{0};
  std::latch start(kRouters + 1);

  std::vector<std::thread> threads;
  for (int r = 0; r < kRouters; ++r) {
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      for (int i = 0; i < kEventsPerRouter; ++i) {
        const std::string id = std::to_string(r) + ":" + std::to_string(i);
        MessageOutcome s = Route(table, "/steady", id);
        if (s.result == Result::kHandled) handled_steady.fetch_add(1);
        MessageOutcome c = Route(table, "/churn/x", id);
        if (c.result == Result::kHandled) {
          handled_churn_path.fetch_add(1);
          deliveries_churn_path.fetch_add(c.handle_deliveries);
        }
      }
    });
  }
  threads.emplace_back([&] {
    start.arrive_and_wait();
    std::vector<RouteTable::Handle> live;
    for (int i = 0; i < kChurn; ++i) {
      auto sink = std::make_shared<FakeSink>();
      churn_sinks.push_back(sink);
      // Alternate between a named group, a solo subscriber and an observer
      // that also matches /steady (which must not change its outcome).
      if (i % 3 == 0) {
        live.push_back(table.Add(Handle({"/churn/*"}, sink, "g")));
      } else if (i % 3 == 1) {
        live.push_back(table.Add(Handle({"/churn/x"}, sink)));
      } else {
        live.push_back(table.Add(Observe({"/*"}, sink, "watchers")));
      }
      if (live.size() > 4) {
        table.Remove(live.front());
        live.erase(live.begin());
      }
    }
    for (RouteTable::Handle h : live) table.Remove(h);
  });
  for (std::thread& t : threads) t.join();

  // /steady never lost its only handler.
  EXPECT_EQ(handled_steady.load(), uint64_t{kRouters} * kEventsPerRouter);
  ASSERT_EQ(steady->size(), uint64_t{kRouters} * kEventsPerRouter);
  std::set<std::string> ids;
  for (const auto& e : steady->events()) ids.insert(e->id());
  EXPECT_EQ(ids.size(), steady->size()) << "an event was delivered twice";

  // Everything reported as delivered on /churn/x is in a churn handler's sink.
  uint64_t churn_handler_events = 0;
  for (const auto& sink : churn_sinks) {
    for (const auto& e : sink->events()) {
      if (e->route() != "/*") ++churn_handler_events;
    }
  }
  EXPECT_EQ(churn_handler_events, deliveries_churn_path.load());
  EXPECT_GE(deliveries_churn_path.load(), handled_churn_path.load());
  EXPECT_EQ(table.subscriber_count(), 1u);
  EXPECT_EQ(Route(table, "/churn/x").result, Result::kUnrouted);
}

TEST(RouteTable, LocalSubscriptionsListOnlyThisNodesStreamsWithoutSinks) {
  RouteTable table;
  const RouteTable::Handle mine = table.Add(Handle({"/a", "/b/*"}, std::make_shared<FakeSink>(), "g"));
  Subscription remote = Observe({"/c"}, std::make_shared<FakeSink>());
  remote.holder = "other-node";
  table.Add(std::move(remote));

  const auto local = table.LocalSubscriptions();
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].first, mine);
  ASSERT_EQ(local[0].second.routes.size(), 2u);
  EXPECT_EQ(local[0].second.routes[1].text(), "/b/*");
  EXPECT_EQ(local[0].second.group, "g");
  EXPECT_EQ(local[0].second.sink, nullptr);
}

TEST(RouteTable, OnlyLocalChangesAreNotified) {
  RouteTable table;
  int changes = 0;
  table.SetOnLocalChange([&] { ++changes; });
  const RouteTable::Handle mine = table.Add(Handle({"/a"}, std::make_shared<FakeSink>()));
  Subscription remote = Handle({"/b"}, std::make_shared<FakeSink>());
  remote.holder = "other-node";
  const RouteTable::Handle theirs = table.Add(std::move(remote));
  EXPECT_EQ(changes, 1);
  table.Remove(theirs);
  EXPECT_EQ(changes, 1);
  table.Remove(mine);
  EXPECT_EQ(changes, 2);
  table.SetOnLocalChange(nullptr);
  table.Add(Handle({"/a"}, std::make_shared<FakeSink>()));
  EXPECT_EQ(changes, 2);
}

TEST(RouteTable, RemoteEntriesTakePartInRoutingLikeLocalOnes) {
  RouteTable table;
  auto local = std::make_shared<FakeSink>();
  auto remote_sink = std::make_shared<FakeSink>();
  table.Add(Handle({"/chat/*"}, local));
  Subscription remote = Handle({"/chat/room"}, remote_sink);
  remote.holder = "other-node";
  table.Add(std::move(remote));
  // The remote exact route is more specific: it handles, the local prefix does not.
  EXPECT_EQ(Route(table, "/chat/room").result, Result::kHandled);
  EXPECT_EQ(remote_sink->size(), 1u);
  EXPECT_EQ(local->size(), 0u);
}

TEST(RouteTable, OfferToReachesTheLocalStreamOrAFreeGroupMember) {
  RouteTable table;
  auto full = std::make_shared<FakeSink>(0);
  auto spare = std::make_shared<FakeSink>();
  auto other_route = std::make_shared<FakeSink>();
  const RouteTable::Handle target = table.Add(Handle({"/jobs"}, full, "workers"));
  table.Add(Handle({"/other"}, other_route, "workers"));
  table.Add(Handle({"/jobs"}, spare, "workers"));
  Subscription remote = Handle({"/jobs"}, std::make_shared<FakeSink>());
  remote.holder = "other-node";
  const RouteTable::Handle remote_handle = table.Add(std::move(remote));

  EventMaker maker;
  EXPECT_TRUE(table.OfferTo(target, maker("/jobs")));
  EXPECT_EQ(spare->size(), 1u);
  EXPECT_EQ(other_route->size(), 0u);  // same group, but not this route
  // Never forwarded on: an event for a remote entry is refused.
  EXPECT_FALSE(table.OfferTo(remote_handle, maker("/jobs")));
  EXPECT_FALSE(table.OfferTo(9999, maker("/jobs")));

  auto solo_full = std::make_shared<FakeSink>(0);
  const RouteTable::Handle solo = table.Add(Handle({"/solo"}, solo_full));
  EXPECT_FALSE(table.OfferTo(solo, maker("/solo")));
}

}  // namespace
}  // namespace sigd::routes
