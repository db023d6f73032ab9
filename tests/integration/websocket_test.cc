// The browser side of sigd, end to end: real Beast WebSocket clients against
// an in-process server on loopback port 0.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/hub/frame.h"
#include "server/metrics.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

using nlohmann::json;

// A frame that proves ordering: once a client reads the marker, every frame
// queued for it before the marker has been seen.
constexpr char kMarker[] = "marker";

void SendMarker(TestServer& server) {
  ASSERT_TRUE(server.Send(TextSignal(kMarker)).ok());
}

std::string ErrorCode(const std::string& frame) {
  json j = json::parse(frame, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return "";
  return j["error"].value("code", "");
}

sigd::v1::ListClientsResponse List(TestServer& server, const std::string& path = {}) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  sigd::v1::ListClientsRequest request;
  request.set_path(path);
  sigd::v1::ListClientsResponse response;
  EXPECT_TRUE(server.Stub()->ListClients(&context, request, &response).ok());
  return response;
}

TEST(WebSocket, UpgradeReturnsPrintableClientId) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/").ok());
  EXPECT_EQ(c.client_id().size(), 32u);
  EXPECT_EQ(c.client_id().find_first_not_of("0123456789abcdef"), std::string::npos);
  WsClient d;
  ASSERT_TRUE(d.Connect(server.ws_port(), "/").ok());
  EXPECT_NE(c.client_id(), d.client_id());
}

TEST(WebSocket, ClientIsListedAsSoonAsItsSocketOpens) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/live").ok());
  auto list = List(server);
  ASSERT_EQ(list.clients_size(), 1);
  EXPECT_EQ(list.clients(0).id(), c.client_id());
}

TEST(WebSocket, WelcomeFrameComesFirstWhenAskedFor) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/chat?welcome=1").ok());
  auto frame = c.Read();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(*frame, json({{"welcome", {{"clientId", c.client_id()}}}}).dump());
}

TEST(WebSocket, NothingUnsolicitedWithoutWelcome) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/chat").ok());
  SendMarker(server);
  EXPECT_EQ(*c.Read(), kMarker);
}

TEST(WebSocket, MessageIsBroadcastToEveryPathIncludingSender) {
  TestServer server;
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/elsewhere").ok());
  ASSERT_TRUE(a.Send(R"({"message":"hello"})").ok());
  EXPECT_EQ(*a.Read(), "hello");
  EXPECT_EQ(*b.Read(), "hello");
}

TEST(WebSocket, NonStringMessagesGoOutAsCompactJson) {
  TestServer server;
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Send(R"({"message": { "a" : [1, 2.5, null, true] }})").ok());
  EXPECT_EQ(*a.Read(), R"({"a":[1,2.5,null,true]})");
  ASSERT_TRUE(a.Send(R"({"message": null})").ok());
  EXPECT_EQ(*a.Read(), "null");
  ASSERT_TRUE(a.Send(R"({"message": 42})").ok());
  EXPECT_EQ(*a.Read(), "42");
}

TEST(WebSocket, KeysMatchCaseInsensitively) {
  TestServer server;
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/b").ok());
  ASSERT_TRUE(a.Send(R"({"Message":"to b","PATH":"/b"})").ok());
  EXPECT_EQ(*b.Read(), "to b");
  SendMarker(server);
  EXPECT_EQ(*a.Read(), kMarker);
}

TEST(WebSocket, DirectGoesBackToSenderOnly) {
  TestServer server;
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Send(R"({"message":"me","direct":true,"path":"/","clientId":")" +
                     b.client_id() + "\"}")
                  .ok());
  EXPECT_EQ(*a.Read(), "me");
  SendMarker(server);
  EXPECT_EQ(*b.Read(), kMarker);
}

TEST(WebSocket, ClientIdReachesThatClientWhateverItsPath) {
  TestServer server;
  WsClient a, b, c;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/b").ok());
  ASSERT_TRUE(c.Connect(server.ws_port(), "/b").ok());
  ASSERT_TRUE(
      a.Send(R"({"message":"psst","path":"/a","clientId":")" + b.client_id() + "\"}").ok());
  EXPECT_EQ(*b.Read(), "psst");
  SendMarker(server);
  EXPECT_EQ(*a.Read(), kMarker);
  EXPECT_EQ(*c.Read(), kMarker);
}

TEST(WebSocket, PathReachesEveryClientOnThatPath) {
  TestServer server;
  WsClient a, b1, b2, other;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(b1.Connect(server.ws_port(), "/b").ok());
  ASSERT_TRUE(b2.Connect(server.ws_port(), "/b").ok());
  ASSERT_TRUE(other.Connect(server.ws_port(), "/b/").ok());  // no trailing-slash folding
  ASSERT_TRUE(a.Send(R"({"message":"news","path":"/b"})").ok());
  EXPECT_EQ(*b1.Read(), "news");
  EXPECT_EQ(*b2.Read(), "news");
  SendMarker(server);
  EXPECT_EQ(*a.Read(), kMarker);
  EXPECT_EQ(*other.Read(), kMarker);
}

// With two I/O threads (TestServer's default), the clients of one path are
// served by one thread, so that their messages to each other wake no other;
// a new path goes to the emptier thread. Connections accepted on the other
// thread are moved there, and work as well.
TEST(WebSocket, ClientsOfOnePathShareAnIoThread) {
  TestServer server;
  ASSERT_EQ(server.server().hub().shard_count(), 2u);
  auto shard_of = [&](const WsClient& c) {
    std::shared_ptr<hub::Client> client = server.server().hub().Find(c.client_id());
    return client == nullptr ? size_t{99} : client->shard();
  };
  std::vector<std::unique_ptr<WsClient>> room;
  for (int i = 0; i < 6; ++i) {
    room.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(room.back()->Connect(server.ws_port(), "/room?n=" + std::to_string(i)).ok());
  }
  const size_t home = shard_of(*room.front());
  ASSERT_LT(home, 2u);
  for (const auto& c : room) EXPECT_EQ(shard_of(*c), home);
  WsClient lobby;
  ASSERT_TRUE(lobby.Connect(server.ws_port(), "/lobby").ok());
  EXPECT_EQ(shard_of(lobby), 1 - home);
  // Every one of them, moved or not, is served in full.
  ASSERT_TRUE(room[3]->Send(R"({"message":"hello room","path":"/room"})").ok());
  for (const auto& c : room) EXPECT_EQ(*c->Read(), "hello room");
  SendMarker(server);
  EXPECT_EQ(*lobby.Read(), kMarker);
  auto list = List(server, "/room");
  ASSERT_EQ(list.clients_size(), 6);
  for (const auto& client : list.clients()) EXPECT_EQ(client.query().count("n"), 1u);
}

TEST(WebSocket, OwnPathScopeNarrowsDefaultBroadcast) {
  TestServer server([](config::Config& c) {
    c.default_broadcast = protocol::DefaultScope::kOwnPath;
  });
  WsClient a1, a2, b;
  ASSERT_TRUE(a1.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(a2.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/b").ok());
  ASSERT_TRUE(a1.Send(R"({"message":"local"})").ok());
  EXPECT_EQ(*a1.Read(), "local");
  EXPECT_EQ(*a2.Read(), "local");
  SendMarker(server);
  EXPECT_EQ(*b.Read(), kMarker);
}

TEST(WebSocket, UnknownClientIdGivesSenderAnError) {
  TestServer server;
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Send(R"({"message":"x","clientId":"nobody"})").ok());
  EXPECT_EQ(ErrorCode(*a.Read()), "unknown_client");
}

TEST(WebSocket, PathIsDecodedAndQueryIsNotPartOfIt) {
  TestServer server;
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/chat%20room/%C3%A9?x=1&y=two%20words").ok());
  auto list = List(server, "/chat room/\xC3\xA9");
  ASSERT_EQ(list.clients_size(), 1);
  EXPECT_EQ(list.clients(0).query().at("x"), "1");
  EXPECT_EQ(list.clients(0).query().at("y"), "two words");
}

TEST(WebSocket, DisconnectedClientIsUnlisted) {
  TestServer server;
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Close().ok());
  EXPECT_TRUE(WaitFor([&] { return server.server().hub().size() == 0; }));
  EXPECT_EQ(List(server).total(), 0u);
}

TEST(WebSocket, SilentClientIsPingedThenDropped) {
  TestServer server([](config::Config& c) { c.keepalive = std::chrono::seconds(1); });
  auto timeouts = [&] {
    return server.server().metrics().closes[static_cast<int>(CloseReason::kTimeout)].load();
  };
  WsClient silent;  // never reads, so never answers a ping
  ASSERT_TRUE(silent.Connect(server.ws_port(), "/").ok());
  ASSERT_EQ(server.server().hub().size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return server.server().hub().size() == 0; }, 10s));
  EXPECT_EQ(timeouts(), 1u);
}

// A client that sends nothing but answers pings is alive: it stays through
// several keep-alive rounds, each of which would have dropped it otherwise.
TEST(WebSocket, ClientAnsweringPingsStaysConnected) {
  TestServer server([](config::Config& c) { c.keepalive = std::chrono::seconds(1); });
  WsClient quiet;
  ASSERT_TRUE(quiet.Connect(server.ws_port(), "/").ok());
  // Reading answers pings; once three have come (a drop comes one
  // keep-alive period after an unanswered ping), the server sends "done".
  std::thread release([&] {
    if (WaitFor([&] { return quiet.pings_received() >= 3; }, 30s)) {
      (void)server.server().hub().Publish({}, hub::TextFrame("done"));
    }
  });
  absl::StatusOr<std::string> frame = quiet.Read(40s);
  release.join();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(*frame, "done");
  EXPECT_GE(quiet.pings_received(), 3);
  EXPECT_EQ(server.server().metrics().closes[static_cast<int>(CloseReason::kTimeout)].load(), 0u);
  ASSERT_EQ(server.server().hub().size(), 1u);
  // And it still talks both ways.
  ASSERT_TRUE(quiet.Send(R"({"message":"still here"})").ok());
  EXPECT_EQ(*quiet.Read(), "still here");
}

// Frames queued for a client go out many per write (sigd's own frame writer),
// while Beast answers pings on the same socket: every frame must still arrive
// whole, with its opcode, in order, and every ping must get its pong.
// Run with sigd's writes batched through io_uring (the default) and without.
void QueuedFramesArriveWholeAndInOrderBetweenPongs(bool io_uring) {
  TestServer server([io_uring](config::Config& c) {
    c.io_uring = io_uring;
    c.raw_paths = {"/raw/*"};
    c.max_message_bytes = 1 << 20;
    c.queue_max_bytes = 64 << 20;  // the sender reads nothing either
  });
  WsClient sender, receiver;
  ASSERT_TRUE(sender.Connect(server.ws_port(), "/raw/burst").ok());
  ASSERT_TRUE(receiver.Connect(server.ws_port(), "/raw/burst").ok());
  // Lengths around the 7/16/64-bit header boundaries.
  const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 100000, 3};
  constexpr int kFrames = 120;
  auto payload = [&](int i) {
    return std::string(sizes[i % std::size(sizes)], static_cast<char>('a' + i % 26));
  };
  int pings = 0;
  for (int i = 0; i < kFrames; ++i) {
    // The receiver reads nothing yet, so its frames pile up in sigd's queue
    // and its pongs have to wait for data writes in flight.
    ASSERT_TRUE((i % 2 ? sender.SendBinary(payload(i)) : sender.Send(payload(i))).ok());
    if (i % 10 == 0) {
      ASSERT_TRUE(receiver.Ping().ok());
      ++pings;
    }
  }
  for (int i = 0; i < kFrames; ++i) {
    auto frame = receiver.Read();
    ASSERT_TRUE(frame.ok()) << "frame " << i << ": " << frame.status();
    ASSERT_EQ(frame->size(), payload(i).size()) << "frame " << i;
    ASSERT_EQ(*frame, payload(i)) << "frame " << i;
    ASSERT_EQ(receiver.last_was_binary(), i % 2 == 1) << "frame " << i;
  }
  // The receiver's own message comes back after sigd has answered every ping
  // it sent before it.
  ASSERT_TRUE(receiver.Send("end").ok());
  EXPECT_EQ(*receiver.Read(), "end");
  EXPECT_EQ(receiver.pongs_received(), pings);
  // What the admin endpoint reports as sigd_io_uring_threads: every I/O
  // thread (each counts itself in as it starts), or none.
  const int expected = io_uring ? static_cast<int>(server.server().io_threads()) : 0;
  EXPECT_TRUE(WaitFor(
      [&] { return server.server().metrics().io_uring_threads.load() == expected; }, 5s))
      << server.server().metrics().io_uring_threads.load() << " of " << expected;
}

TEST(WebSocket, QueuedFramesArriveWholeAndInOrderBetweenPongs) {
  QueuedFramesArriveWholeAndInOrderBetweenPongs(/*io_uring=*/true);
}

TEST(WebSocket, QueuedFramesArriveWholeAndInOrderBetweenPongsWithoutIoUring) {
  QueuedFramesArriveWholeAndInOrderBetweenPongs(/*io_uring=*/false);
}

}  // namespace
}  // namespace sigd::testing
