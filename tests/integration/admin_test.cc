// The admin HTTP listener and the gRPC health and reflection services.
#include <future>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "grpcpp/generic/generic_stub.h"
#include "health.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/http_fetch.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

class AdminTest : public ::testing::Test {
 protected:
  TestServer server_{[](config::Config& c) { c.admin_listen = "127.0.0.1:0"; }};
  uint16_t admin() { return server_.server().admin_port(); }
};

TEST_F(AdminTest, HealthAndReadiness) {
  HttpResponse health = Fetch(admin(), http::verb::get, "/healthz");
  EXPECT_EQ(health.result(), http::status::ok);
  HttpResponse ready = Fetch(admin(), http::verb::get, "/readyz");
  EXPECT_EQ(ready.result(), http::status::ok);
  EXPECT_EQ(json::parse(ready.body())["status"], "ready");
}

TEST_F(AdminTest, PostSignalReachesClientsAndAnswersDelivered) {
  WsClient news, other;
  ASSERT_TRUE(news.Connect(server_.ws_port(), "/news").ok());
  ASSERT_TRUE(other.Connect(server_.ws_port(), "/other").ok());
  HttpResponse res = Fetch(admin(), http::verb::post, "/v1/signals",
                           {{http::field::content_type, "application/json"}},
                           R"({"text":"hi","path":"/news"})");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(json::parse(res.body())["delivered"], "1");  // uint64 is a string in proto3 JSON
  EXPECT_EQ(*news.Read(), "hi");

  res = Fetch(admin(), http::verb::post, "/v1/signals", {}, R"({"json":"{\"a\":1}"})");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(*news.Read(), R"({"a":1})");
  EXPECT_EQ(*other.Read(), R"({"a":1})");

  res = Fetch(admin(), http::verb::post, "/v1/signals", {},
              R"({"data":{"list":[1,2]},"clientId":")" + other.client_id() + "\"}");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(*other.Read(), R"({"list":[1,2]})");
}

TEST_F(AdminTest, PostBinarySignalTakesBase64AndSendsABinaryFrame) {
  WsClient c;
  ASSERT_TRUE(c.Connect(server_.ws_port(), "/feed").ok());
  // "AAH/AA==" is base64 for the bytes 00 01 ff 00.
  HttpResponse res =
      Fetch(admin(), http::verb::post, "/v1/signals", {}, R"({"binary":"AAH/AA==","path":"/feed"})");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(json::parse(res.body())["delivered"], "1");
  auto frame = c.Read();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(*frame, std::string("\x00\x01\xff\x00", 4));
  EXPECT_TRUE(c.last_was_binary());
  HttpResponse bad = Fetch(admin(), http::verb::post, "/v1/signals", {}, R"({"binary":"!!"})");
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_EQ(json::parse(bad.body())["error"]["code"], "invalid_argument");
}

TEST_F(AdminTest, BadRequestsGetJsonErrors) {
  HttpResponse bad = Fetch(admin(), http::verb::post, "/v1/signals", {}, "{nope");
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_EQ(json::parse(bad.body())["error"]["code"], "invalid_argument");
  HttpResponse unknown_field = Fetch(admin(), http::verb::post, "/v1/signals", {},
                                     R"({"txt":"typo"})");
  EXPECT_EQ(unknown_field.result(), http::status::bad_request);
  HttpResponse invalid_json = Fetch(admin(), http::verb::post, "/v1/signals", {},
                                    R"({"json":"{broken"})");
  EXPECT_EQ(invalid_json.result(), http::status::bad_request);
  HttpResponse no_client = Fetch(admin(), http::verb::post, "/v1/signals", {},
                                 R"({"text":"x","clientId":"nobody"})");
  EXPECT_EQ(no_client.result(), http::status::not_found);
  EXPECT_EQ(json::parse(no_client.body())["error"]["code"], "not_found");
  EXPECT_EQ(Fetch(admin(), http::verb::get, "/v1/signals").result(),
            http::status::method_not_allowed);
  EXPECT_EQ(Fetch(admin(), http::verb::get, "/nothing").result(), http::status::not_found);
}

TEST_F(AdminTest, ListsClientsAsJson) {
  WsClient a;
  ASSERT_TRUE(a.Connect(server_.ws_port(), "/room?x=1").ok());
  HttpResponse res = Fetch(admin(), http::verb::get, "/v1/clients?path=/room");
  ASSERT_EQ(res.result(), http::status::ok);
  json body = json::parse(res.body());
  ASSERT_EQ(body["clients"].size(), 1u);
  EXPECT_EQ(body["clients"][0]["id"], a.client_id());
  EXPECT_EQ(body["clients"][0]["path"], "/room");
  EXPECT_EQ(body["clients"][0]["query"]["x"], "1");
  EXPECT_EQ(body["total"], "1");
  EXPECT_EQ(Fetch(admin(), http::verb::get, "/v1/clients?page_size=x").result(),
            http::status::bad_request);
  HttpResponse bad_token = Fetch(admin(), http::verb::get, "/v1/clients?page_token=x");
  EXPECT_EQ(bad_token.result(), http::status::bad_request);
  EXPECT_EQ(json::parse(bad_token.body())["error"]["code"], "invalid_argument");
}

TEST_F(AdminTest, MetricsArePrometheusTextNamedSigd) {
  WsClient a;
  ASSERT_TRUE(a.Connect(server_.ws_port(), "/").ok());
  ASSERT_TRUE(server_.Send(TextSignal("x")).ok());
  ASSERT_EQ(*a.Read(), "x");
  ASSERT_TRUE(a.Send("not json").ok());
  ASSERT_TRUE(a.Read().ok());
  HttpResponse res = Fetch(admin(), http::verb::get, "/metrics");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(res[http::field::content_type].starts_with("text/plain; version=0.0.4"));
  const std::string& text = res.body();
  std::set<std::string> typed;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.starts_with("#")) continue;
    ASSERT_TRUE(line.starts_with("sigd_")) << line;
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) && !typed.contains(name)) {
        name = name.substr(0, name.size() - std::string(suffix).size());
      }
    }
    EXPECT_TRUE(typed.contains(name)) << "no # TYPE for " << line;
  }
  EXPECT_NE(text.find("sigd_clients 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sigd_rejected_messages_total{code=\"invalid_message\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("sigd_send_to_write_seconds_count 1\n"), std::string::npos) << text;
  // Both I/O threads of the test server send through io_uring.
  EXPECT_NE(text.find("sigd_io_uring_threads 2\n"), std::string::npos) << text;
}

TEST(AdminListen, RefusesNonLoopbackWithoutToken) {
  config::Config config;
  config.listen = "127.0.0.1:0";
  config.grpc_listen = "127.0.0.1:0";
  config.admin_listen = "0.0.0.0:0";
  Server server(config);
  absl::Status status = server.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("loopback"), std::string::npos);
}

TEST(AdminDrain, ReadyzTurns503WhileDraining) {
  auto server = std::make_unique<TestServer>([](config::Config& c) {
    c.admin_listen = "127.0.0.1:0";
    c.drain_timeout = std::chrono::seconds(3);
  });
  const uint16_t admin = server->server().admin_port();
  WsClient lingering;  // never reads, so never answers the close: the drain waits
  ASSERT_TRUE(lingering.Connect(server->ws_port(), "/").ok());
  std::thread stopper([&] { server->server().Stop(); });
  EXPECT_TRUE(WaitFor([&] {
    return Fetch(admin, http::verb::get, "/readyz").result() ==
           http::status::service_unavailable;
  }));
  stopper.join();
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer FromString(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// grpc.health.v1.Health/Check with a hand-encoded HealthCheckRequest.
std::string HealthCheck(TestServer& server, const std::string& service) {
  grpc::GenericStub stub(server.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  std::string request = "\x0a" + std::string(1, static_cast<char>(service.size())) + service;
  grpc::ByteBuffer req = FromString(request), resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &req, &resp,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return "error: " + status.error_message();
  return ToString(resp);
}

TEST(GrpcHealth, ServingForServerAndService) {
  TestServer server;
  const std::string kServing("\x08\x01", 2);
  EXPECT_EQ(HealthCheck(server, ""), kServing);
  EXPECT_EQ(HealthCheck(server, "sigd.v1.SignalService"), kServing);
}

TEST(GrpcHealth, UnknownServiceIsNotFound) {
  TestServer server;
  EXPECT_EQ(HealthCheck(server, "no.such.Service"), "error: unknown service no.such.Service");
}

// Watch sends the status at once, and again when shutdown begins.
TEST(GrpcHealth, WatchSeesServingThenNotServingWhenShutdownBegins) {
  using grpc::health::v1::HealthCheckResponse;
  TestServer server;
  auto stub = grpc::health::v1::Health::NewStub(server.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("sigd.v1.SignalService");
  auto reader = stub->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  std::thread stopper([&] { server.server().Stop(); });
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  while (reader->Read(&response)) {
  }
  EXPECT_FALSE(reader->Finish().ok());  // the server ended the watch
  stopper.join();
}

class ReflectionCall : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit ReflectionCall(std::shared_ptr<grpc::Channel> channel) : stub_(std::move(channel)) {
    context_.set_deadline(std::chrono::system_clock::now() + 5s);
    // ServerReflectionRequest { list_services = "*" } (field 7).
    request_ = FromString(std::string("\x3a\x01*", 3));
    stub_.PrepareBidiStreamingCall(
        &context_, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {}, this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (ok) reply_ += ToString(response_);
  }
  void OnDone(const grpc::Status& status) override { done_.set_value(status); }
  std::pair<grpc::Status, std::string> Wait() {
    grpc::Status s = done_.get_future().get();
    return {s, reply_};
  }

 private:
  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_, response_;
  std::string reply_;
  std::promise<grpc::Status> done_;
};

TEST(GrpcReflection, ListsTheSignalService) {
  TestServer server;
  ReflectionCall call(server.channel());
  auto [status, reply] = call.Wait();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(reply.find("sigd.v1.SignalService"), std::string::npos);
}

}  // namespace
}  // namespace sigd::testing
