// sigd as a process under a service manager: SIGTERM or SIGINT stops it
// cleanly, with status 0, closing browsers with 1001 (going away) and ending
// the control plane's streams.
#include <algorithm>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/process/sigd_process.h"
#include "tests/support/process.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;

// Drain (5 s by default) plus slack; a healthy sigd exits well before.
constexpr auto kExitDeadline = 15s;

class ShutdownTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd = StartSigd();
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    sigd_ = *std::move(sigd);
  }

  std::unique_ptr<SigdProcess> sigd_;
};

TEST_P(ShutdownTest, ExitsZeroWithNoClients) {
  sigd_->process.Signal(GetParam());
  std::optional<int> status = sigd_->process.Wait(kExitDeadline);
  ASSERT_TRUE(status.has_value()) << "sigd still running";
  EXPECT_EQ(*status, 0) << sigd_->process.Stdout() << sigd_->process.Stderr();
}

TEST_P(ShutdownTest, ClosesClientsWithGoingAwayAndExitsZero) {
  std::vector<std::unique_ptr<WsClient>> clients;
  for (const char* path : {"/a", "/a", "/b?welcome=1"}) {
    clients.push_back(std::make_unique<WsClient>());
    absl::Status connected = clients.back()->Connect(sigd_->ws_port, path);
    ASSERT_TRUE(connected.ok()) << connected;
  }

  sigd_->process.Signal(GetParam());
  for (auto& client : clients) {
    absl::StatusOr<uint16_t> code = client->WaitForClose(kExitDeadline);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 1001);
  }
  std::optional<int> status = sigd_->process.Wait(kExitDeadline);
  ASSERT_TRUE(status.has_value()) << "sigd still running";
  EXPECT_EQ(*status, 0) << sigd_->process.Stdout() << sigd_->process.Stderr();
}

TEST_P(ShutdownTest, StopsAcceptingConnections) {
  sigd_->process.Signal(GetParam());
  ASSERT_TRUE(sigd_->process.Wait(kExitDeadline).has_value());
  WsClient late;
  EXPECT_FALSE(late.Connect(sigd_->ws_port, "/a", {}, 5s).ok());
}

TEST_P(ShutdownTest, EndsSubscriberStreams) {
  ChildProcess tail;
  ProcessOptions options;
  options.unset_env = {"SIGD_SERVER"};
  ASSERT_TRUE(tail.Start({SIGCTL_BINARY, "--server", sigd_->grpc_target(), "tail",
                          "--route", "/a"},
                         options)
                  .ok());
  ASSERT_TRUE(tail.WaitForStdout("\"SUBSCRIBED\"", 20s)) << tail.Stderr();

  sigd_->process.Signal(GetParam());
  // The stream ends with a status, so tail stops on its own and says why in
  // one line; it does not wait for a connection that will never come back.
  std::optional<int> tail_status = tail.Wait(kExitDeadline);
  ASSERT_TRUE(tail_status.has_value()) << "tail still running";
  EXPECT_NE(*tail_status, 0);
  const std::string err = tail.Stderr();
  EXPECT_TRUE(absl::StartsWith(err, "sigctl: ")) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;

  std::optional<int> status = sigd_->process.Wait(kExitDeadline);
  ASSERT_TRUE(status.has_value()) << "sigd still running";
  EXPECT_EQ(*status, 0);
}

INSTANTIATE_TEST_SUITE_P(Signals, ShutdownTest, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == SIGTERM ? std::string("Sigterm")
                                                        : std::string("Sigint");
                         });

}  // namespace
}  // namespace sigd::testing
