// Opt-in protections of the WebSocket front end: origin allow-list,
// connection caps, per-client rate limit and the client targeting policy.
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

using nlohmann::json;

std::string ErrorCode(const absl::StatusOr<std::string>& frame) {
  if (!frame.ok()) return "read failed: " + std::string(frame.status().message());
  json j = json::parse(*frame, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return "not an error: " + *frame;
  return j["error"].value("code", "");
}

TEST(AllowedOrigins, OnlyListedOriginsMayConnect) {
  TestServer server([](config::Config& c) { c.allowed_origins = {"http://good.test"}; });
  WsClient good, bad, none;
  EXPECT_TRUE(good.Connect(server.ws_port(), "/", {{"Origin", "http://GOOD.test"}}).ok());
  absl::Status refused = bad.Connect(server.ws_port(), "/", {{"Origin", "http://evil.test"}});
  EXPECT_NE(std::string(refused.message()).find("HTTP 403"), std::string::npos) << refused;
  refused = none.Connect(server.ws_port(), "/");
  EXPECT_NE(std::string(refused.message()).find("HTTP 403"), std::string::npos) << refused;
  EXPECT_EQ(server.server().hub().size(), 1u);
}

TEST(ConnectionCaps, PerAddressCapAnswers503UntilASlotFrees) {
  TestServer server([](config::Config& c) { c.max_connections_per_address = 2; });
  WsClient a, b, c;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/").ok());
  absl::Status refused = c.Connect(server.ws_port(), "/");
  EXPECT_NE(std::string(refused.message()).find("HTTP 503"), std::string::npos) << refused;
  ASSERT_TRUE(a.Close().ok());
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
  WsClient d;
  EXPECT_TRUE(d.Connect(server.ws_port(), "/").ok());
}

TEST(ConnectionCaps, TotalCap) {
  TestServer server([](config::Config& c) { c.max_connections = 1; });
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  absl::Status refused = b.Connect(server.ws_port(), "/");
  EXPECT_NE(std::string(refused.message()).find("HTTP 503"), std::string::npos) << refused;
}

TEST(ConnectionCaps, OffByDefault) {
  TestServer server;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(clients.back()->Connect(server.ws_port(), "/").ok()) << i;
  }
}

TEST(RateLimit, OverTheRateGetsRateLimitedThenSustainedAbuseCloses1008) {
  TestServer server([](config::Config& c) {
    c.rate_limit = 1;
    c.rate_limit_burst = 3;
  });
  WsClient a, other;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(other.Connect(server.ws_port(), "/").ok());
  for (int i = 0; i < 40; ++i) {
    if (!a.Send(R"({"message":"m","direct":true})").ok()) break;  // closed under us
  }
  int delivered = 0, limited = 0;
  while (true) {
    absl::StatusOr<std::string> frame = a.Read();
    if (!frame.ok()) break;
    if (*frame == "m") {
      ++delivered;
    } else {
      ASSERT_EQ(ErrorCode(frame), "rate_limited");
      ++limited;
    }
  }
  EXPECT_EQ(a.close_code(), 1008);
  EXPECT_GE(delivered, 3);
  EXPECT_GE(limited, 1);
  // Nobody else paid for it.
  ASSERT_TRUE(server.Send(TextSignal("still here")).ok());
  EXPECT_EQ(*other.Read(), "still here");
}

TEST(RateLimit, OffByDefaultSoABurstOf5000Works) {
  TestServer server;
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(a.Send(R"({"message":1,"direct":true})").ok());
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(*a.Read(), "1") << i;
}

TEST(ClientTargeting, OwnPathKeepsClientsToTheirPath) {
  TestServer server([](config::Config& c) {
    c.client_targeting = config::Config::Targeting::kOwnPath;
  });
  WsClient a1, a2, b;
  ASSERT_TRUE(a1.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(a2.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/b").ok());
  ASSERT_TRUE(a1.Send(R"({"message":"x","path":"/b"})").ok());
  EXPECT_EQ(ErrorCode(a1.Read()), "target_not_allowed");
  ASSERT_TRUE(a1.Send(R"({"message":"x","clientId":")" + b.client_id() + "\"}").ok());
  EXPECT_EQ(ErrorCode(a1.Read()), "unknown_client");
  ASSERT_TRUE(a1.Send(R"({"message":"to a2","clientId":")" + a2.client_id() + "\"}").ok());
  EXPECT_EQ(*a2.Read(), "to a2");
  ASSERT_TRUE(a1.Send(R"({"message":"room","path":"/a"})").ok());
  EXPECT_EQ(*a1.Read(), "room");
  EXPECT_EQ(*a2.Read(), "room");
  // "Everyone" narrows to the sender's own path.
  ASSERT_TRUE(a1.Send(R"({"message":"everyone?"})").ok());
  EXPECT_EQ(*a1.Read(), "everyone?");
  EXPECT_EQ(*a2.Read(), "everyone?");
  ASSERT_TRUE(server.Send(TextSignal("marker")).ok());
  EXPECT_EQ(*b.Read(), "marker");
}

TEST(ClientTargeting, NoneAllowsOnlyDefaultAndDirect) {
  TestServer server([](config::Config& c) {
    c.client_targeting = config::Config::Targeting::kNone;
  });
  WsClient a;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(a.Send(R"({"message":"x","path":"/a"})").ok());
  EXPECT_EQ(ErrorCode(a.Read()), "target_not_allowed");
  ASSERT_TRUE(a.Send(R"({"message":"x","clientId":")" + a.client_id() + "\"}").ok());
  EXPECT_EQ(ErrorCode(a.Read()), "target_not_allowed");
  ASSERT_TRUE(a.Send(R"({"message":"me","direct":true})").ok());
  EXPECT_EQ(*a.Read(), "me");
  ASSERT_TRUE(a.Send(R"({"message":"all"})").ok());
  EXPECT_EQ(*a.Read(), "all");
}

}  // namespace
}  // namespace sigd::testing

namespace sigd::testing {
namespace {

std::string RemoteAddress(TestServer& server) {
  grpc::ClientContext context;
  sigd::v1::ListClientsResponse response;
  EXPECT_TRUE(server.Stub()->ListClients(&context, {}, &response).ok());
  return response.clients_size() == 1 ? response.clients(0).remote_address() : "";
}

TEST(TrustedProxies, ForwardedForCountsOnlyFromTrustedPeers) {
  TestServer trusting([](config::Config& c) { c.trusted_proxies = {"127.0.0.0/8"}; });
  WsClient behind_lb;
  ASSERT_TRUE(behind_lb.Connect(trusting.ws_port(), "/", {{"X-Forwarded-For", "203.0.113.7"}})
                  .ok());
  EXPECT_EQ(RemoteAddress(trusting), "203.0.113.7");

  TestServer plain;
  WsClient forger;
  ASSERT_TRUE(forger.Connect(plain.ws_port(), "/", {{"X-Forwarded-For", "203.0.113.7"}}).ok());
  EXPECT_TRUE(RemoteAddress(plain).starts_with("127.0.0.1:"));
}

TEST(TrustedProxies, PerAddressCapSeesTheRealClient) {
  TestServer server([](config::Config& c) {
    c.trusted_proxies = {"127.0.0.1"};
    c.max_connections_per_address = 1;
  });
  WsClient a, b, a_again;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/", {{"X-Forwarded-For", "198.51.100.1"}}).ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/", {{"X-Forwarded-For", "198.51.100.2"}}).ok());
  absl::Status refused =
      a_again.Connect(server.ws_port(), "/", {{"X-Forwarded-For", "198.51.100.1"}});
  EXPECT_NE(std::string(refused.message()).find("HTTP 503"), std::string::npos) << refused;
}

TEST(SubscriberCap, StreamsBeyondTheCapAreResourceExhausted) {
  TestServer server([](config::Config& c) { c.max_subscribers = 1; });
  Subscriber first(server.channel(), Routes({"/a"}));
  ASSERT_TRUE(first.WaitSubscribed());
  Subscriber second(server.channel(), Routes({"/b"}));
  auto status = second.WaitEnded();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace sigd::testing
