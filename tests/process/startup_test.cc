// What sigd does as it starts: a second sigd cannot take an address the
// first one listens on (it exits with a clear error instead of sharing the
// port, as gRPC's default SO_REUSEPORT would have let it), a missing public
// folder is reported, and the threads carry names.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/process/sigd_process.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

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

  // The second sigd exited 1 with `error` and left the first one running.
  void ExpectRefused(const ProcessResult& second, const std::string& error) {
    EXPECT_FALSE(second.timed_out) << "the second sigd kept running: " << second.err;
    EXPECT_EQ(second.exit_code, 1) << second.err;
    EXPECT_TRUE(absl::StrContains(second.err, error)) << second.err;
    EXPECT_TRUE(first_->process.IsRunning());
  }

  std::unique_ptr<SigdProcess> first_;
};

TEST_F(ListenTest, SecondSigdOnTheSameGrpcAddressExitsInsteadOfSharingIt) {
  const std::string taken = first_->grpc_target();
  ExpectRefused(RunSecond("127.0.0.1:0", taken), absl::StrCat("cannot listen for gRPC on ", taken));
}

TEST_F(ListenTest, SecondSigdOnTheSameWebSocketAddressExits) {
  const std::string taken = absl::StrCat("127.0.0.1:", first_->ws_port);
  ExpectRefused(RunSecond(taken, "127.0.0.1:0"), absl::StrCat("cannot listen on ", taken));
}

TEST(Startup, WarnsWhenThePublicFolderIsMissing) {
  ChildProcess sigd;
  TempDir dir;
  const std::string missing = (dir.path() / "no-such-folder").string();
  ASSERT_TRUE(sigd.Start({SIGD_BINARY, "--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0",
                          "--public", missing, "--log-level", "info"},
                         {.unset_env = SigdEnvironmentNames()})
                  .ok());
  // The warning comes before the ready line, and sigd serves anyway.
  EXPECT_TRUE(sigd.WaitFor(
      ChildProcess::Stream::kEither,
      [](const std::string& out) { return absl::StrContains(out, "sigd ready:"); }, 20s));
  const std::string out = sigd.Stdout() + sigd.Stderr();
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("public folder ", missing,
                                                  " is not a directory")))
      << out;
  EXPECT_TRUE(sigd.IsRunning());
}

std::vector<std::string> ThreadNames(pid_t pid) {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"))) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.push_back(name);
  }
  return names;
}

TEST(ThreadNames, EachIoThreadAndTheGrpcThreadAreNamed) {
  absl::StatusOr<std::unique_ptr<SigdProcess>> sigd = StartSigd({"--io-threads", "3"});
  ASSERT_TRUE(sigd.ok()) << sigd.status();
  // Named by their creator before the ready line.
  const std::vector<std::string> names = ThreadNames((*sigd)->process.pid());
  const auto count = [&](const std::string& name) {
    return std::count(names.begin(), names.end(), name);
  };
  for (const char* name : {"sigd-io-0", "sigd-io-1", "sigd-io-2", "sigd-grpc"}) {
    EXPECT_EQ(count(name), 1) << name << " among " << absl::StrJoin(names, ", ");
  }
  EXPECT_EQ(count("sigd-io-3"), 0);
}

}  // namespace
}  // namespace sigd::testing
