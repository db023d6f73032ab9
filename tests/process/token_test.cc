// sigd with --control-token-file driven by the sigctl binary: --token,
// SIGD_TOKEN, and a token rotation with SIGHUP.
#include <csignal>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/process/sigd_process.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file_ = dir_.WriteFile("tokens", "old-token\n");
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd =
        StartSigd({"--control-token-file", token_file_.string()});
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    sigd_ = *std::move(sigd);
  }

  ProcessResult Info(std::vector<std::string> extra,
                     const std::vector<std::pair<std::string, std::string>>& env = {}) {
    std::vector<std::string> argv = {SIGCTL_BINARY, "--server", sigd_->grpc_target()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("info");
    return RunProcess(argv, {}, 20s, env, {"SIGD_TOKEN", "SIGD_SERVER"});
  }

  TempDir dir_;
  std::filesystem::path token_file_;
  std::unique_ptr<SigdProcess> sigd_;
};

TEST_F(TokenTest, SigctlWithoutTokenGetsOneLineUnauthenticated) {
  ProcessResult r = Info({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "UNAUTHENTICATED")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(Info({"--token", "wrong"}).exit_code, 1);
}

TEST_F(TokenTest, TokenFromFlagOrEnvironment) {
  EXPECT_EQ(Info({"--token", "old-token"}).exit_code, 0);
  EXPECT_EQ(Info({}, {{"SIGD_TOKEN", "old-token"}}).exit_code, 0);
}

TEST_F(TokenTest, SighupRotatesTokens) {
  dir_.WriteFile("tokens", "new-token\n");
  sigd_->process.Signal(SIGHUP);
  // The reload is asynchronous to this test: wait for the new token to work.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool rotated = false;
  while (!rotated && std::chrono::steady_clock::now() < deadline) {
    rotated = Info({"--token", "new-token"}).exit_code == 0;
  }
  ASSERT_TRUE(rotated);
  EXPECT_EQ(Info({"--token", "old-token"}).exit_code, 1);
  EXPECT_TRUE(sigd_->process.IsRunning());
}

TEST(TokenStartup, MissingTokenFileIsAOneLineStartupError) {
  ProcessResult r = RunProcess({SIGD_BINARY, "--listen", "127.0.0.1:0", "--grpc-listen",
                                "127.0.0.1:0", "--control-token-file", "/nonexistent/tokens"},
                               {}, 20s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "control-token-file")) << r.err;
}

}  // namespace
}  // namespace sigd::testing
