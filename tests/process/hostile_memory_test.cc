// Memory after hostile traffic, measured on the real sigd binary: the part of
// the hostile battery (tests/integration/hostile_test.cc) that needs a whole
// process, because resident memory is a per-process figure. Rounds of
// oversize frames, lying length headers, resets mid-frame, bad JSON, ping
// floods and a client that never reads during a broadcast storm must leave
// sigd's RSS where the first round left it: nothing accumulates per attack.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "signal.grpc.pb.h"
#include "tests/process/sigd_process.h"
#include "tests/support/raw_ws_client.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;

// VmRSS of `pid` in KiB, or 0.
uint64_t RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      uint64_t kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

class HostileMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd =
        StartSigd({"--io-threads", "2", "--raw-path", "/raw/*"});
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    sigd_ = *std::move(sigd);
    stub_ = sigd::v1::SignalService::NewStub(
        grpc::CreateChannel(sigd_->grpc_target(), grpc::InsecureChannelCredentials()));
  }

  uint64_t Clients() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    sigd::v1::ServerInfo info;
    return stub_->GetServerInfo(&context, {}, &info).ok() ? info.clients() : ~uint64_t{0};
  }

  grpc::Status Broadcast(std::string text) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    sigd::v1::SendSignalRequest request;
    request.set_text(std::move(text));
    sigd::v1::SendSignalResponse response;
    return stub_->SendSignal(&context, request, &response);
  }

  // One round of every attack that makes sigd allocate.
  void Attack() {
    const uint16_t port = sigd_->ws_port;
    for (int i = 0; i < 30; ++i) {  // oversize frame: 1009
      RawWsClient c;
      ASSERT_TRUE(c.Connect(port, "/big").ok());
      (void)c.SendFrame({.opcode = kOpText, .payload = std::string(70 * 1024, 'x')});
      ASSERT_EQ(*c.WaitForClose(), 1009);
    }
    for (int i = 0; i < 30; ++i) {  // a header claiming 2^62 bytes: 1009
      RawWsClient c;
      ASSERT_TRUE(c.Connect(port, "/huge").ok());
      ASSERT_TRUE(c.SendBytes(EncodeHeader(0x82, uint64_t{1} << 62)).ok());
      ASSERT_EQ(*c.WaitForClose(), 1009);
    }
    for (int i = 0; i < 30; ++i) {  // half a 60 KiB frame, then a reset
      RawWsClient c;
      ASSERT_TRUE(c.Connect(port, "/raw/reset").ok());
      std::string frame = EncodeFrame({.opcode = kOpBinary, .payload = std::string(60 * 1024, 'r')});
      frame.resize(frame.size() / 2);
      ASSERT_TRUE(c.SendBytes(frame).ok());
      c.Reset();
    }
    {  // bad JSON and ping floods on one connection
      RawWsClient c;
      ASSERT_TRUE(c.Connect(port, "/bad").ok());
      std::string burst;
      for (int i = 0; i < 50; ++i) {
        burst += EncodeFrame({.opcode = kOpText, .payload = std::string(16 * 1024, '[')});
        for (int p = 0; p < 20; ++p) burst += EncodeFrame({.opcode = kOpPing, .payload = "flood"});
      }
      ASSERT_TRUE(c.SendBytes(burst).ok());
      for (int i = 0; i < 50 * 21; ++i) ASSERT_TRUE(c.ReadFrame().ok()) << i;
    }
    {  // a client that never reads during a 32 KiB broadcast storm: 1013
      WsClient slow;
      ASSERT_TRUE(slow.Connect(port, "/slow").ok());
      const std::string big(32 * 1024, 's');
      for (int i = 0; i < 400; ++i) ASSERT_TRUE(Broadcast(big).ok());
      auto code = slow.WaitForClose(20s);
      ASSERT_TRUE(code.ok()) << code.status();
      ASSERT_EQ(*code, 1013);
    }
    ASSERT_TRUE(WaitFor([&] { return Clients() == 0; }, 20s)) << Clients();
  }

  std::unique_ptr<SigdProcess> sigd_;
  std::unique_ptr<sigd::v1::SignalService::Stub> stub_;
};

TEST_F(HostileMemory, RssDoesNotGrowWithRoundsOfHostileTraffic) {
  // The first round warms the allocator up; later rounds must not add to it.
  Attack();
  if (HasFatalFailure()) return;
  const uint64_t after_first = RssKib(sigd_->process.pid());
  ASSERT_GT(after_first, 0u);
  for (int round = 0; round < 4; ++round) {
    Attack();
    if (HasFatalFailure()) return;
  }
  const uint64_t after_last = RssKib(sigd_->process.pid());
  // Allocator noise, not per-round growth: 4 more rounds push about 50 MB
  // through sigd.
  EXPECT_LE(after_last, after_first + 8 * 1024)
      << "RSS after round 1: " << after_first << " KiB, after round 5: " << after_last << " KiB";
  RecordProperty("rss_after_first_round_kib", std::to_string(after_first));
  RecordProperty("rss_after_fifth_round_kib", std::to_string(after_last));
  std::printf("sigd RSS: %llu KiB after round 1, %llu KiB after round 5\n",
              static_cast<unsigned long long>(after_first),
              static_cast<unsigned long long>(after_last));
  ASSERT_TRUE(sigd_->process.IsRunning());
}

}  // namespace
}  // namespace sigd::testing
