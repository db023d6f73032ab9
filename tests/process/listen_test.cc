// A second sigd cannot take an address the first one listens on: it exits
// with a clear error instead of sharing the port (gRPC's default
// SO_REUSEPORT would have let two servers split the connections).
#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/process/sigd_process.h"
#include "tests/support/process.h"

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;

class ListenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd = StartSigd();
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    first_ = *std::move(sigd);
  }

  // A second sigd on `ws` and `grpc`; it should exit at once. (Were it to
  // start, RunProcess would kill it after the timeout and say so.)
  ProcessResult RunSecond(const std::string& ws, const std::string& grpc) {
    return RunProcess({SIGD_BINARY, "--listen", ws, "--grpc-listen", grpc, "--public",
                       first_->public_dir.path().string(), "--log-level", "info"},
                      {}, 15s, {}, SigdEnvironmentNames());
  }

  std::unique_ptr<SigdProcess> first_;
};

TEST_F(ListenTest, SecondSigdOnTheSameGrpcAddressExitsInsteadOfSharingIt) {
  const std::string taken = first_->grpc_target();
  ProcessResult second = RunSecond("127.0.0.1:0", taken);
  EXPECT_FALSE(second.timed_out) << "a second sigd kept running on " << taken;
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_TRUE(absl::StrContains(second.err, absl::StrCat("cannot listen for gRPC on ", taken)))
      << second.err;
  EXPECT_TRUE(first_->process.IsRunning());
}

TEST_F(ListenTest, SecondSigdOnTheSameWebSocketAddressExits) {
  const std::string taken = absl::StrCat("127.0.0.1:", first_->ws_port);
  ProcessResult second = RunSecond(taken, "127.0.0.1:0");
  EXPECT_FALSE(second.timed_out) << "a second sigd kept running on " << taken;
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_TRUE(absl::StrContains(second.err, absl::StrCat("cannot listen on ", taken)))
      << second.err;
  EXPECT_TRUE(first_->process.IsRunning());
}

}  // namespace
}  // namespace sigd::testing
