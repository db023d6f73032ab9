// Browser JWTs at the WebSocket upgrade (--jwt-*): 401 without a valid token,
// 403 for a path the token does not list, the "send" claim on messages, the
// token kept out of every record, key reload, and the close at expiry.
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "tests/support/http_fetch.h"
#include "tests/support/jwt_mint.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr char kSecret[] = "integration-secret-0123456789abcdef";
constexpr char kNewSecret[] = "rotated-secret-0123456789abcdef-0000";

bool Refused(const absl::Status& s, int status) {
  return absl::StrContains(s.message(), absl::StrCat("(HTTP ", status, ")"));
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() {
    secret_file_ = dir_.WriteFile("jwt-secrets", absl::StrCat(kSecret, "\n")).string();
    server_ = std::make_unique<TestServer>([this](config::Config& c) {
      c.jwt_secret_file = secret_file_;
      c.admin_listen = "127.0.0.1:0";
      c.jwt_leeway = std::chrono::seconds(0);
    });
  }

  static std::string Token(json claims = {}, const std::string& secret = kSecret) {
    if (!claims.contains("exp")) claims["exp"] = NowPlus(300);
    return MintHs256(secret, claims);
  }

  uint16_t port() { return server_->ws_port(); }
  const Metrics& metrics() { return server_->server().metrics(); }

  std::vector<sigd::v1::Client> ListClients() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    sigd::v1::ListClientsResponse response;
    EXPECT_TRUE(server_->Stub()->ListClients(&context, {}, &response).ok());
    return {response.clients().begin(), response.clients().end()};
  }

  TempDir dir_;
  std::string secret_file_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(JwtTest, UpgradeWithoutATokenIs401WithABearerChallenge) {
  WsClient c;
  absl::Status s = c.Connect(port(), "/chat");
  EXPECT_TRUE(Refused(s, 401)) << s;
  EXPECT_EQ(c.response_headers().at("www-authenticate"), R"(Bearer realm="sigd")");
  EXPECT_EQ(server_->server().hub().size(), 0u);
  EXPECT_EQ(metrics().jwt_unauthorized.load(), 1u);
}

TEST_F(JwtTest, BadSignatureIs401InvalidToken) {
  WsClient c;
  const std::string forged = Token({}, "some-other-secret-0123456789abcdefgh");
  absl::Status s = c.Connect(port(), "/chat?token=" + forged);
  EXPECT_TRUE(Refused(s, 401)) << s;
  EXPECT_EQ(c.response_headers().at("www-authenticate"),
            R"(Bearer realm="sigd", error="invalid_token", error_description="invalid token: bad signature")");
  HttpResponse body = Fetch(port(), http::verb::get, "/chat",
                            {{http::field::connection, "Upgrade"},
                             {http::field::upgrade, "websocket"},
                             {http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ=="},
                             {http::field::sec_websocket_version, "13"},
                             {http::field::authorization, "Bearer " + forged}});
  EXPECT_EQ(body.result(), http::status::unauthorized);
  EXPECT_EQ(json::parse(body.body())["error"]["code"], "unauthorized");
}

TEST_F(JwtTest, ExpiredTokenIs401) {
  WsClient c;
  absl::Status s = c.Connect(port(), "/chat?token=" + Token({{"exp", NowPlus(-60)}}));
  EXPECT_TRUE(Refused(s, 401)) << s;
  EXPECT_TRUE(absl::StrContains(c.response_headers().at("www-authenticate"), "token expired"));
}

TEST_F(JwtTest, PathOutsideThePathsClaimIs403) {
  const std::string token = Token({{"paths", {"/chat/*", "/news"}}});
  WsClient forbidden, allowed;
  absl::Status s = forbidden.Connect(port(), "/admin?token=" + token);
  EXPECT_TRUE(Refused(s, 403)) << s;
  EXPECT_EQ(metrics().jwt_forbidden.load(), 1u);
  EXPECT_TRUE(allowed.Connect(port(), "/chat/room1?token=" + token).ok());
}

TEST_F(JwtTest, GoodTokenUpgradesFromTheQueryOrTheHeader) {
  WsClient by_query, by_header;
  ASSERT_TRUE(by_query.Connect(port(), "/chat?token=" + Token({{"sub", "ana"}})).ok());
  ASSERT_TRUE(by_header
                  .Connect(port(), "/chat", {{"Authorization", "Bearer " + Token({{"sub", "bo"}})}})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return server_->server().hub().size() == 2; }));
  std::vector<std::string> subjects;
  for (const sigd::v1::Client& client : ListClients()) subjects.push_back(client.subject());
  std::sort(subjects.begin(), subjects.end());
  EXPECT_EQ(subjects, (std::vector<std::string>{"ana", "bo"}));
  // Connected clients work as usual.
  ASSERT_TRUE(by_query.Send(R"({"message":"hi","path":"/chat"})").ok());
  EXPECT_EQ(*by_header.Read(), "hi");
}

TEST_F(JwtTest, TokenNeverReachesListClientsEventsAdminOrLogs) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  capture->set_level(spdlog::level::debug);
  spdlog::set_default_logger(capture);

  auto watch = Routes({"/chat"}, /*observe=*/true);
  watch.add_kinds(sigd::v1::CONNECT);
  watch.add_kinds(sigd::v1::MESSAGE);
  Subscriber observer(server_->channel(), watch);
  ASSERT_TRUE(observer.WaitSubscribed());

  const std::string token = Token({{"sub", "ana"}});
  WsClient c;
  ASSERT_TRUE(c.Connect(port(), "/chat?welcome=1&token=" + token + "&room=7").ok());
  ASSERT_TRUE(c.Read().ok());  // welcome
  ASSERT_TRUE(c.Send(R"({"message":"hi","direct":true})").ok());
  ASSERT_TRUE(c.Read().ok());
  // Rejected upgrades are logged with their target: the token is cut first.
  WsClient refused;
  const std::string bad = Token({{"exp", NowPlus(-60)}});
  EXPECT_FALSE(refused.Connect(port(), "/chat?token=" + bad).ok());

  std::vector<sigd::v1::Client> clients = ListClients();
  ASSERT_EQ(clients.size(), 1u);
  const std::map<std::string, std::string> query(clients[0].query().begin(),
                                                 clients[0].query().end());
  EXPECT_EQ(query, (std::map<std::string, std::string>{{"welcome", "1"}, {"room", "7"}}));
  EXPECT_EQ(clients[0].subject(), "ana");

  for (int i = 0; i < 2; ++i) {
    std::optional<sigd::v1::SignalEvent> event = observer.Next();
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->client().query().count("token"), 0u);
    EXPECT_EQ(event->client().query().size(), 2u);
    EXPECT_EQ(event->client().subject(), "ana");
    EXPECT_FALSE(absl::StrContains(event->DebugString(), token));
  }

  HttpResponse admin = Fetch(server_->server().admin_port(), http::verb::get, "/v1/clients");
  ASSERT_EQ(admin.result(), http::status::ok);
  EXPECT_TRUE(absl::StrContains(admin.body(), R"("room":"7")")) << admin.body();
  EXPECT_FALSE(absl::StrContains(admin.body(), token));
  EXPECT_FALSE(absl::StrContains(admin.body(), "token"));

  spdlog::set_default_logger(previous);
  const std::string logged = log.str();
  EXPECT_TRUE(absl::StrContains(logged, "rejected HTTP GET /chat ")) << logged;
  EXPECT_FALSE(absl::StrContains(logged, token)) << logged;
  EXPECT_FALSE(absl::StrContains(logged, bad)) << logged;
}

TEST_F(JwtTest, SendClaimRefusesOtherPathsAndTheClientStaysConnected) {
  const std::string limited = Token({{"send", {"/chat/*"}}});
  WsClient sender, room, news;
  ASSERT_TRUE(sender.Connect(port(), "/chat/a?token=" + limited).ok());
  ASSERT_TRUE(room.Connect(port(), "/chat/b?welcome=1&token=" + Token()).ok());
  ASSERT_TRUE(news.Connect(port(), "/news?token=" + Token()).ok());
  const std::string room_id = json::parse(*room.Read())["welcome"]["clientId"];

  ASSERT_TRUE(sender.Send(R"({"message":"x","path":"/news"})").ok());
  json error = json::parse(*sender.Read());
  EXPECT_EQ(error["error"]["code"], "target_not_allowed");
  EXPECT_EQ(metrics().target_not_allowed.load(), 1u);

  // Still connected: an allowed path, a client on an allowed path, itself.
  ASSERT_TRUE(sender.Send(R"({"message":"to-room","path":"/chat/b"})").ok());
  EXPECT_EQ(*room.Read(), "to-room");
  ASSERT_TRUE(sender.Send(json{{"message", "to-client"}, {"clientId", room_id}}.dump()).ok());
  EXPECT_EQ(*room.Read(), "to-client");
  // With no target the message stays on the sender's own path.
  ASSERT_TRUE(sender.Send(R"({"message":"mine"})").ok());
  EXPECT_EQ(*sender.Read(), "mine");
  ASSERT_TRUE(news.Send(R"({"message":"news-only","path":"/news"})").ok());
  EXPECT_EQ(*news.Read(), "news-only");  // nothing from the sender reached /news
}

TEST_F(JwtTest, ReloadSwapsKeysAndKeepsThemWhenTheFileIsBad) {
  dir_.WriteFile("jwt-secrets", absl::StrCat(kNewSecret, "\n"));
  ASSERT_TRUE(server_->server().ReloadJwtKeys().ok());
  WsClient old_key, new_key;
  EXPECT_TRUE(Refused(old_key.Connect(port(), "/?token=" + Token()), 401));
  EXPECT_TRUE(new_key.Connect(port(), "/?token=" + Token({}, kNewSecret)).ok());
  dir_.WriteFile("jwt-secrets", "too-short\n");
  EXPECT_FALSE(server_->server().ReloadJwtKeys().ok());
  WsClient again;
  EXPECT_TRUE(again.Connect(port(), "/?token=" + Token({}, kNewSecret)).ok());
}

TEST_F(JwtTest, ClientIsClosedWith1008WhenItsTokenExpires) {
  WsClient c;
  ASSERT_TRUE(c.Connect(port(), "/chat?token=" + Token({{"exp", NowPlus(2)}})).ok());
  absl::StatusOr<uint16_t> code = c.WaitForClose(10s);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1008);
  EXPECT_TRUE(WaitFor([&] { return server_->server().hub().size() == 0; }));
}

TEST(JwtRs256, PublicKeyFileVerifiesRs256Tokens) {
  TempDir dir;
  const RsaKey key = RsaKey::Generate();
  ASSERT_TRUE(key.ok());
  const std::string pem = dir.WriteFile("jwt.pem", key.public_pem()).string();
  TestServer server([&](config::Config& c) {
    c.jwt_public_key_file = pem;
    c.jwt_issuer = "https://id.test";
    c.jwt_audience = "sigd";
  });
  json claims = {{"exp", NowPlus(60)}, {"iss", "https://id.test"}, {"aud", "sigd"}};
  WsClient good, wrong_aud, hs;
  EXPECT_TRUE(good.Connect(server.ws_port(), "/x?token=" + MintRs256(key, claims)).ok());
  json other = claims;
  other["aud"] = "api";
  EXPECT_TRUE(Refused(wrong_aud.Connect(server.ws_port(), "/x?token=" + MintRs256(key, other)),
                      401));
  // HS256 "signed" with the public key must not pass (algorithm confusion).
  EXPECT_TRUE(
      Refused(hs.Connect(server.ws_port(), "/x?token=" + MintHs256(key.public_pem(), claims)),
              401));
}

TEST(JwtStartup, UnreadableKeyFileStopsStartup) {
  config::Config config;
  config.listen = "127.0.0.1:0";
  config.grpc_listen = "127.0.0.1:0";
  config.jwt_secret_file = "/nonexistent/jwt-secrets";
  Server server(config);
  absl::Status s = server.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "JWT")) << s;
}

TEST(JwtOff, TokenParameterIsStrippedEvenWithoutJwt) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/p?token=secret&a=1").ok());
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
  grpc::ClientContext context;
  sigd::v1::ListClientsResponse response;
  ASSERT_TRUE(server.Stub()->ListClients(&context, {}, &response).ok());
  ASSERT_EQ(response.clients_size(), 1);
  EXPECT_EQ(response.clients(0).query().size(), 1u);
  EXPECT_EQ(response.clients(0).query().at("a"), "1");
  EXPECT_EQ(response.clients(0).subject(), "");
}

}  // namespace
}  // namespace sigd::testing
