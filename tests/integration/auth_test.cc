// Bearer tokens on the control plane: gRPC metadata and the admin /v1 API.
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/http_fetch.h"
#include "tests/support/test_server.h"

namespace sigd::testing {
namespace {

namespace http = boost::beast::http;

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() {
    char path[] = "/tmp/sigd-tokens-XXXXXX";
    const int fd = mkstemp(path);
    close(fd);
    token_file_ = path;
    WriteTokens("  first-token  \n\n# a comment\nsecond-token\n");
    server_ = std::make_unique<TestServer>([this](config::Config& c) {
      c.control_token_file = token_file_;
      c.admin_listen = "127.0.0.1:0";
    });
  }
  ~AuthTest() override { std::remove(token_file_.c_str()); }

  void WriteTokens(const std::string& text) { std::ofstream(token_file_) << text; }

  grpc::Status Info(const std::string& authorization) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    sigd::v1::ServerInfo info;
    return server_->Stub()->GetServerInfo(&context, {}, &info);
  }

  std::string token_file_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(AuthTest, GrpcCallsNeedAConfiguredBearerToken) {
  EXPECT_EQ(Info("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Info("Bearer wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Info("Basic first-token").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Info("Bearer first-token").ok());   // whitespace in the file trimmed
  EXPECT_TRUE(Info("bearer second-token").ok());  // the scheme is case-insensitive
  EXPECT_EQ(server_->Send(TextSignal("x")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(server_->server().metrics().auth_failures.load(), 4u);
}

TEST_F(AuthTest, SubscribeWithoutTokenEndsUnauthenticated) {
  Subscriber anonymous(server_->channel(), Routes({"/r"}));
  auto status = anonymous.WaitEnded();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Subscriber allowed(server_->channel(), Routes({"/r"}), "second-token");
  EXPECT_TRUE(allowed.WaitSubscribed());
}

TEST_F(AuthTest, AdminApiNeedsTheTokenButProbesDoNot) {
  const uint16_t admin = server_->server().admin_port();
  HttpResponse refused = Fetch(admin, http::verb::get, "/v1/clients");
  EXPECT_EQ(refused.result(), http::status::unauthorized);
  EXPECT_EQ(refused[http::field::www_authenticate], "Bearer");
  HttpResponse wrong = Fetch(admin, http::verb::post, "/v1/signals",
                             {{http::field::authorization, "Bearer nope"}}, R"({"text":"x"})");
  EXPECT_EQ(wrong.result(), http::status::unauthorized);
  HttpResponse ok = Fetch(admin, http::verb::get, "/v1/clients",
                          {{http::field::authorization, "Bearer first-token"}});
  EXPECT_EQ(ok.result(), http::status::ok);
  for (const char* probe : {"/metrics", "/healthz", "/readyz"}) {
    EXPECT_EQ(Fetch(admin, http::verb::get, probe).result(), http::status::ok) << probe;
  }
}

TEST_F(AuthTest, ReloadSwapsTokensAndKeepsThemOnABadFile) {
  WriteTokens("third-token\n");
  ASSERT_TRUE(server_->server().ReloadTokens().ok());
  EXPECT_EQ(Info("Bearer first-token").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Info("Bearer third-token").ok());
  WriteTokens("\n# nothing but comments\n");
  EXPECT_FALSE(server_->server().ReloadTokens().ok());
  EXPECT_TRUE(Info("Bearer third-token").ok());
}

TEST(ControlPlaneBinding, RefusesNonLoopbackGrpcWithoutTokens) {
  config::Config config;
  config.listen = "127.0.0.1:0";
  config.grpc_listen = "0.0.0.0:0";
  Server server(config);
  absl::Status status = server.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("control-token-file"), std::string::npos)
      << status;
}

}  // namespace
}  // namespace sigd::testing
