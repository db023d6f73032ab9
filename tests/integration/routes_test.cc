// Signal routes end to end: SubscribeSignals streams holding routes, browser
// messages becoming events, and backends answering with SendSignal.
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

using nlohmann::json;

constexpr char kMarker[] = "marker";

TEST(Routes, SubscribedIsTheFirstEvent) {
  TestServer server;
  Subscriber sub(server.channel(), Routes({"/messages"}));
  auto first = sub.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind(), sigd::v1::SUBSCRIBED);
  EXPECT_FALSE(first->id().empty());
}

TEST(Routes, HandleSuppressesBroadcastAndDeliversTheEvent) {
  TestServer server;
  Subscriber sub(server.channel(), Routes({"/messages"}));
  ASSERT_TRUE(sub.WaitSubscribed());
  WsClient sender, other;
  ASSERT_TRUE(sender.Connect(server.ws_port(), "/messages?room=1").ok());
  ASSERT_TRUE(other.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(sender.Send(R"({"message":{"text":"hi"},"path":"/x","clientId":"c1"})").ok());

  auto event = sub.Next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind(), sigd::v1::MESSAGE);
  EXPECT_FALSE(event->id().empty());
  EXPECT_EQ(event->data().message_json(), R"({"text":"hi"})");
  EXPECT_EQ(event->data().path(), "/x");
  EXPECT_EQ(event->data().client_id(), "c1");
  EXPECT_FALSE(event->data().direct());
  EXPECT_EQ(event->path(), "/messages");
  EXPECT_EQ(event->route(), "/messages");
  EXPECT_EQ(event->client().id(), sender.client_id());
  EXPECT_EQ(event->client().query().at("room"), "1");
  EXPECT_EQ(event->endpoint().protocol(), sigd::v1::WS);
  EXPECT_FALSE(event->endpoint().address().empty());
  EXPECT_GT(event->timestamp().seconds(), 1700000000);

  ASSERT_TRUE(server.Send(TextSignal(kMarker)).ok());
  EXPECT_EQ(*sender.Read(), kMarker);
  EXPECT_EQ(*other.Read(), kMarker);
}

TEST(Routes, BackendAnswersTheSender) {
  TestServer server;
  Subscriber sub(server.channel(), Routes({"/messages"}));
  ASSERT_TRUE(sub.WaitSubscribed());
  WsClient browser;
  ASSERT_TRUE(browser.Connect(server.ws_port(), "/messages").ok());
  ASSERT_TRUE(browser.Send(R"({"message":"[date]"})").ok());
  auto event = sub.Next();
  ASSERT_TRUE(event.has_value());
  ASSERT_EQ(event->data().message_json(), R"("[date]")");
  ASSERT_TRUE(server.Send(TextSignal("2026-11-27", "", event->client().id())).ok());
  EXPECT_EQ(*browser.Read(), "2026-11-27");
}

TEST(Routes, ObserveGetsACopyAndBroadcastStillHappens) {
  TestServer server;
  Subscriber observer(server.channel(), Routes({"/feed"}, /*observe=*/true));
  ASSERT_TRUE(observer.WaitSubscribed());
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/feed").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Send(R"({"message":"seen"})").ok());
  EXPECT_EQ(*a.Read(), "seen");
  EXPECT_EQ(*b.Read(), "seen");
  auto event = observer.Next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->data().message_json(), R"("seen")");
}

TEST(Routes, PrefixRouteMatchesBelowButNotItself) {
  TestServer server;
  Subscriber sub(server.channel(), Routes({"/chat/*"}));
  ASSERT_TRUE(sub.WaitSubscribed());
  WsClient deep, base;
  ASSERT_TRUE(deep.Connect(server.ws_port(), "/chat/a/b").ok());
  ASSERT_TRUE(base.Connect(server.ws_port(), "/chat").ok());
  ASSERT_TRUE(deep.Send(R"({"message":"routed"})").ok());
  auto event = sub.Next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->route(), "/chat/*");
  EXPECT_EQ(event->path(), "/chat/a/b");
  ASSERT_TRUE(base.Send(R"({"message":"broadcast"})").ok());
  EXPECT_EQ(*base.Read(), "broadcast");
  EXPECT_EQ(*deep.Read(), "broadcast");
}

TEST(Routes, MostSpecificHandleRouteWins) {
  TestServer server;
  Subscriber broad(server.channel(), Routes({"/a/*"}));
  Subscriber exact(server.channel(), Routes({"/a/b"}));
  ASSERT_TRUE(broad.WaitSubscribed());
  ASSERT_TRUE(exact.WaitSubscribed());
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/a/b").ok());
  ASSERT_TRUE(c.Send(R"({"message":1})").ok());
  auto event = exact.Next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->route(), "/a/b");
  WsClient other;
  ASSERT_TRUE(other.Connect(server.ws_port(), "/a/c").ok());
  ASSERT_TRUE(other.Send(R"({"message":2})").ok());
  auto broad_event = broad.Next();
  ASSERT_TRUE(broad_event.has_value());
  EXPECT_EQ(broad_event->data().message_json(), "2");  // the first message never reached it
}

TEST(Routes, GroupMembersShareEventsRoundRobin) {
  TestServer server;
  Subscriber one(server.channel(), Routes({"/jobs"}, false, "workers"));
  Subscriber two(server.channel(), Routes({"/jobs"}, false, "workers"));
  ASSERT_TRUE(one.WaitSubscribed());
  ASSERT_TRUE(two.WaitSubscribed());
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/jobs").ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.Send(R"({"message":)" + std::to_string(i) + "}").ok());
  int got_one = 0, got_two = 0;
  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    auto e1 = one.Next();
    auto e2 = two.Next();
    ASSERT_TRUE(e1.has_value() && e2.has_value());
    seen.insert(e1->data().message_json());
    seen.insert(e2->data().message_json());
    ++got_one;
    ++got_two;
  }
  EXPECT_EQ(seen, (std::set<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(got_one, 2);
  EXPECT_EQ(got_two, 2);
}

TEST(Routes, SubscribersWithoutGroupEachSeeEveryEvent) {
  TestServer server;
  Subscriber one(server.channel(), Routes({"/all"}));
  Subscriber two(server.channel(), Routes({"/all"}));
  ASSERT_TRUE(one.WaitSubscribed());
  ASSERT_TRUE(two.WaitSubscribed());
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/all").ok());
  ASSERT_TRUE(c.Send(R"({"message":"both"})").ok());
  auto e1 = one.Next();
  auto e2 = two.Next();
  ASSERT_TRUE(e1.has_value() && e2.has_value());
  EXPECT_EQ(e1->data().message_json(), R"("both")");
  EXPECT_EQ(e2->data().message_json(), R"("both")");
}

TEST(Routes, PathFallsBackToBroadcastWhenTheSubscriberLeaves) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/messages").ok());
  {
    Subscriber sub(server.channel(), Routes({"/messages"}));
    ASSERT_TRUE(sub.WaitSubscribed());
    ASSERT_TRUE(c.Send(R"({"message":"handled"})").ok());
    ASSERT_TRUE(sub.Next().has_value());
  }
  ASSERT_TRUE(WaitFor([&] { return server.server().subscriber_count() == 0; }));
  ASSERT_TRUE(c.Send(R"({"message":"back to broadcast"})").ok());
  EXPECT_EQ(*c.Read(), "back to broadcast");
}

TEST(Routes, PinnedRouteAnswersNoHandlerWhileNobodyHoldsIt) {
  TestServer server([](config::Config& c) { c.pinned_routes = {"/orders"}; });
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/orders").ok());
  ASSERT_TRUE(c.Send(R"({"message":"buy"})").ok());
  auto frame = c.Read();
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(json::parse(*frame)["error"]["code"], "no_handler");
  Subscriber sub(server.channel(), Routes({"/orders"}));
  ASSERT_TRUE(sub.WaitSubscribed());
  ASSERT_TRUE(c.Send(R"({"message":"sell"})").ok());
  auto event = sub.Next();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->data().message_json(), R"("sell")");
}

TEST(Routes, ConnectAndDisconnectEventsOnRequest) {
  TestServer server;
  auto request = Routes({"/live"}, /*observe=*/true);
  request.add_kinds(sigd::v1::CONNECT);
  request.add_kinds(sigd::v1::DISCONNECT);
  Subscriber sub(server.channel(), request);
  ASSERT_TRUE(sub.WaitSubscribed());
  std::string id;
  {
    WsClient c;
    ASSERT_TRUE(c.Connect(server.ws_port(), "/live").ok());
    id = c.client_id();
    auto connected = sub.Next();
    ASSERT_TRUE(connected.has_value());
    EXPECT_EQ(connected->kind(), sigd::v1::CONNECT);
    EXPECT_EQ(connected->client().id(), id);
    ASSERT_TRUE(c.Close().ok());
  }
  auto gone = sub.Next();
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->kind(), sigd::v1::DISCONNECT);
  EXPECT_EQ(gone->client().id(), id);
}

TEST(Routes, InvalidRouteIsInvalidArgument) {
  TestServer server;
  Subscriber bad(server.channel(), Routes({"no-slash"}));
  auto status = bad.WaitEnded();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  Subscriber none(server.channel(), Routes({}));
  status = none.WaitEnded();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(Shutdown, ClosesClientsWith1001AndEndsStreams) {
  auto server = std::make_unique<TestServer>();
  Subscriber sub(server->channel(), Routes({"/r"}));
  ASSERT_TRUE(sub.WaitSubscribed());
  WsClient c;
  ASSERT_TRUE(c.Connect(server->ws_port(), "/").ok());
  std::thread stopper([&] { server->server().Stop(); });
  auto code = c.WaitForClose();
  stopper.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1001);
  auto status = sub.WaitEnded();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace sigd::testing
