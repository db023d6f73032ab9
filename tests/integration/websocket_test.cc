// The browser side of sigd, end to end: real Beast WebSocket clients against
// an in-process server on loopback port 0.
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
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

TEST(WebSocket, BadInputGetsAnErrorFrameAndTheSenderStaysConnected) {
  TestServer server;
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/").ok());
  const std::string bad[] = {
      "not json",
      R"({"nomessage":1})",
      R"(["message"])",
      R"("message")",
      R"({"message":"x","path":5})",
      R"({"message":"x","clientId":true})",
      R"({"message":"x","direct":"yes"})",
      R"({"message":1e999})",
      R"({"message":"\ud800"})",
      "",
  };
  for (const std::string& input : bad) {
    ASSERT_TRUE(a.Send(input).ok());
    auto frame = a.Read();
    ASSERT_TRUE(frame.ok()) << input << ": " << frame.status();
    EXPECT_EQ(ErrorCode(*frame), "invalid_message") << input << " -> " << *frame;
  }
  ASSERT_TRUE(a.SendBinary(R"({"message":"x"})").ok());
  EXPECT_EQ(ErrorCode(*a.Read()), "invalid_message");
  // Still connected, and nobody else heard anything but the good message.
  ASSERT_TRUE(a.Send(R"({"message":"fine"})").ok());
  EXPECT_EQ(*a.Read(), "fine");
  EXPECT_EQ(*b.Read(), "fine");
}

TEST(WebSocket, DeeplyNestedJsonIsRejectedNotFatal) {
  TestServer server;
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  const std::string deep =
      R"({"message":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  ASSERT_TRUE(a.Send(deep).ok());
  EXPECT_EQ(ErrorCode(*a.Read()), "invalid_message");
  ASSERT_TRUE(a.Send(R"({"message":[[["ok"]]]})").ok());
  EXPECT_EQ(*a.Read(), R"([[["ok"]]])");
}

TEST(WebSocket, OversizeMessageClosesWith1009) {
  TestServer server([](config::Config& c) { c.max_message_bytes = 1024; });
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Send(R"({"message":")" + std::string(2000, 'x') + "\"}").ok());
  auto code = a.WaitForClose();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1009);
  SendMarker(server);
  EXPECT_EQ(*b.Read(), kMarker);
}

TEST(WebSocket, InvalidUtf8ClosesWith1007) {
  TestServer server;
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Send("{\"message\":\"\xff\xfe\"}").ok());
  auto code = a.WaitForClose();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1007);
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
  WsClient silent;  // never reads, so never answers a ping
  ASSERT_TRUE(silent.Connect(server.ws_port(), "/").ok());
  ASSERT_EQ(server.server().hub().size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return server.server().hub().size() == 0; }, 10s));
}

TEST(WebSocket, SlowClientIsClosedAndOthersKeepReceiving) {
  TestServer server([](config::Config& c) {
    c.queue_max_bytes = 64 * 1024;
    c.queue_max_frames = 16;
  });
  WsClient slow, healthy;
  ASSERT_TRUE(slow.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(healthy.Connect(server.ws_port(), "/").ok());
  const std::string big(32 * 1024, 'x');
  int sent = 0;
  // Loopback socket buffers absorb a few megabytes before the queue fills.
  while (server.server().metrics().slow_clients_dropped.load() == 0 && sent < 2000) {
    ASSERT_TRUE(server.Send(TextSignal(big)).ok());
    ++sent;
    auto frame = healthy.Read();
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_EQ(frame->size(), big.size());
  }
  EXPECT_EQ(server.server().metrics().slow_clients_dropped.load(), 1u);
  SendMarker(server);
  EXPECT_EQ(*healthy.Read(), kMarker);
  EXPECT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }, 15s));
}

TEST(WebSocket, RawPathRelaysFramesVerbatim) {
  TestServer server([](config::Config& c) { c.raw_paths = {"/raw/*"}; });
  WsClient a, b, other;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/raw/echo?welcome=1").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/raw/echo").ok());
  ASSERT_TRUE(other.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(a.Send("not json at all").ok());
  EXPECT_EQ(*a.Read(), "not json at all");  // no welcome frame on raw paths
  EXPECT_EQ(*b.Read(), "not json at all");
  ASSERT_TRUE(a.SendBinary(std::string("\x00\x01\xff", 3)).ok());
  auto bin = b.Read();
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(*bin, std::string("\x00\x01\xff", 3));
  EXPECT_TRUE(b.last_was_binary());
  SendMarker(server);
  EXPECT_EQ(*other.Read(), kMarker);
}

// Frames queued for a client go out many per write (sigd's own frame writer),
// while Beast answers pings on the same socket: every frame must still arrive
// whole, with its opcode, in order, and every ping must get its pong.
TEST(WebSocket, QueuedFramesArriveWholeAndInOrderBetweenPongs) {
  TestServer server([](config::Config& c) {
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
}

}  // namespace
}  // namespace sigd::testing
