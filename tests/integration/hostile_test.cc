// The hostile-input and fault battery (issue 3): every way a client, a
// backend or the network can misbehave, each with the exact outcome sigd
// promises (close code, HTTP status, error frame, gRPC status). After every
// case the fixture checks that nobody else paid for it: sigd still accepts a
// fresh client, the bystander connected before the case still receives
// broadcasts, and the hub's client count, queued bytes and frames, admission
// tickets and subscriber count are back where they were.
//
// Frames that Beast's client will not produce (unmasked, reserved bits, bad
// close codes, lying lengths) are written byte by byte with RawWsClient.
// Runs under the ctest label `hostile`.
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/http_fetch.h"
#include "tests/support/raw_ws_client.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr uint64_t kLimit = 64 * 1024;  // the default message size limit

std::string ErrorCode(const absl::StatusOr<std::string>& frame) {
  if (!frame.ok()) return absl::StrCat("read failed: ", frame.status().message());
  json j = json::parse(*frame, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return "not an error: " + frame->substr(0, 80);
  return j["error"].value("code", "");
}

// What must be back to its value from before each case.
struct Snapshot {
  size_t clients = 0;
  int64_t queued_bytes = 0;
  int64_t queued_frames = 0;
  uint64_t admitted = 0;
  size_t subscribers = 0;
};

class Hostile : public ::testing::Test {
 protected:
  // Every case's server: a short handshake deadline so half-open and
  // slowloris cases end quickly, and raw relay paths under /raw/.
  void Start(const std::function<void(config::Config&)>& tweak = {}) {
    server_ = std::make_unique<TestServer>([&](config::Config& c) {
      c.handshake_timeout = std::chrono::seconds(1);
      c.raw_paths = {"/raw/*"};
      if (tweak) tweak(c);
    });
    bystander_ = std::make_unique<WsClient>();
    ASSERT_TRUE(bystander_->Connect(port(), "/bystander").ok());
    ASSERT_TRUE(WaitFor([&] { return hub().size() == 1; }));
    baseline_ = Take();
  }

  void TearDown() override {
    if (server_ != nullptr && !HasFatalFailure()) ExpectRecovered();
  }

  uint16_t port() { return server_->ws_port(); }
  hub::Hub& hub() { return server_->server().hub(); }
  const Metrics& metrics() { return server_->server().metrics(); }
  uint64_t Closes(CloseReason reason) {
    return metrics().closes[static_cast<int>(reason)].load();
  }

  Snapshot Take() {
    Snapshot s;
    s.clients = hub().size();
    for (size_t i = 0; i < hub().shard_count(); ++i) {
      s.queued_bytes += metrics().shards[i].queued_bytes.load();
      s.queued_frames += metrics().shards[i].queued_frames.load();
    }
    s.admitted = server_->server().admitted_connections();
    s.subscribers = server_->server().subscriber_count();
    return s;
  }

  // SendSignal, with the bearer token when the case configured one.
  grpc::Status Broadcast(const sigd::v1::SendSignalRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
    sigd::v1::SendSignalResponse response;
    return server_->Stub()->SendSignal(&context, request, &response);
  }

  // The checks after every case.
  void ExpectRecovered() {
    const Snapshot& b = baseline_;
    EXPECT_TRUE(WaitFor([&] { return Take().clients == b.clients; }, 15s))
        << "clients " << Take().clients << " != " << b.clients;
    EXPECT_TRUE(WaitFor([&] {
      const Snapshot now = Take();
      return now.queued_bytes == b.queued_bytes && now.queued_frames == b.queued_frames;
    }, 15s)) << "queued bytes " << Take().queued_bytes << " != " << b.queued_bytes;
    EXPECT_TRUE(WaitFor([&] { return Take().admitted == b.admitted; }, 15s))
        << "admitted " << Take().admitted << " != " << b.admitted;
    EXPECT_TRUE(WaitFor([&] { return Take().subscribers == b.subscribers; }, 15s))
        << "subscribers " << Take().subscribers << " != " << b.subscribers;

    // Alive: a fresh client connects and, with the bystander, gets a broadcast.
    WsClient fresh;
    ASSERT_TRUE(fresh.Connect(port(), "/fresh").ok()) << "sigd no longer accepts clients";
    const std::string marker = "after-the-case";
    ASSERT_TRUE(Broadcast(TextSignal(marker)).ok());
    auto is_marker = [&](const std::string& f) { return f == marker; };
    EXPECT_TRUE(fresh.ReadUntil(is_marker, 10s).ok()) << "fresh client got no broadcast";
    EXPECT_TRUE(bystander_->ReadUntil(is_marker, 10s).ok()) << "bystander got no broadcast";
    ASSERT_TRUE(fresh.Close().ok());
    EXPECT_TRUE(WaitFor([&] { return hub().size() == b.clients; }));
  }

  // A raw client upgraded on `target`, or a fatal failure.
  std::unique_ptr<RawWsClient> Raw(std::string_view target = "/hostile") {
    auto c = std::make_unique<RawWsClient>();
    absl::Status s = c->Connect(port(), target);
    EXPECT_TRUE(s.ok()) << s;
    return c;
  }

  // Sends `frames` on a fresh raw connection and returns the close code
  // sigd answers with (0 when it sent none).
  uint16_t CloseCodeFor(const std::vector<RawFrame>& frames, std::string_view target = "/hostile") {
    auto c = Raw(target);
    for (const RawFrame& f : frames) {
      if (!c->SendFrame(f).ok()) break;  // sigd may close before the last one
    }
    absl::StatusOr<uint16_t> code = c->WaitForClose();
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? *code : 0;
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<WsClient> bystander_;
  Snapshot baseline_;
  std::string token_;
};

// ---- RFC 6455 framing ------------------------------------------------------

TEST_F(Hostile, InvalidUtf8InATextFrameCloses1007) {
  Start();
  const uint64_t before = Closes(CloseReason::kBadPayload);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = "{\"message\":\"\xff\xfe\"}"}}), 1007);
  EXPECT_TRUE(WaitFor([&] { return Closes(CloseReason::kBadPayload) == before + 1; }));
}

TEST_F(Hostile, InvalidUtf8SplitAcrossFragmentsCloses1007) {
  Start();
  // The first fragment ends inside a valid two-byte sequence; the second
  // continues with a byte that cannot follow it.
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = "{\"message\":\"caf\xc3", .fin = false},
                          {.opcode = kOpContinuation, .payload = "\x28\"}"}}),
            1007);
  // Fail fast: the bad fragment is refused before the message is complete.
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = "{\"message\":\"\xed\xa0", .fin = false},
                          {.opcode = kOpContinuation, .payload = "\x80", .fin = false}}),
            1007);
}

TEST_F(Hostile, FragmentedMessageIsReassembledAroundAPing) {
  Start();
  auto c = Raw();
  ASSERT_TRUE(c->SendFrame({.opcode = kOpText, .payload = "{\"mess", .fin = false}).ok());
  ASSERT_TRUE(c->SendFrame({.opcode = kOpContinuation, .payload = "age\":\"caf\xc3", .fin = false})
                  .ok());
  // Control frames may come between fragments.
  ASSERT_TRUE(c->SendFrame({.opcode = kOpPing, .payload = "mid"}).ok());
  ASSERT_TRUE(c->SendFrame({.opcode = kOpContinuation, .payload = "\xa9\"}"}).ok());
  auto pong = c->ReadFrame();
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->opcode, kOpPong);
  EXPECT_EQ(pong->payload, "mid");
  auto echo = c->ReadFrame();
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->opcode, kOpText);
  EXPECT_EQ(echo->payload, "caf\xc3\xa9");
  EXPECT_EQ(*bystander_->Read(), "caf\xc3\xa9");
}

TEST_F(Hostile, DataFrameInsideAFragmentedMessageCloses1002) {
  Start();
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = "{\"message\":", .fin = false},
                          {.opcode = kOpText, .payload = "1}"}}),
            1002);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpBinary, .payload = "ab", .fin = false},
                          {.opcode = kOpBinary, .payload = "cd"}},
                         "/raw/x"),
            1002);
}

TEST_F(Hostile, ContinuationWithoutAStartCloses1002) {
  Start();
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpContinuation, .payload = "{\"message\":1}"}}), 1002);
}

TEST_F(Hostile, ControlFrameOver125BytesCloses1002) {
  Start();
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpPing, .payload = std::string(126, 'p')}}), 1002);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpPong, .payload = std::string(126, 'p')}}), 1002);
}

TEST_F(Hostile, FragmentedControlFrameCloses1002) {
  Start();
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpPing, .payload = "a", .fin = false},
                          {.opcode = kOpContinuation, .payload = "b"}}),
            1002);
}

TEST_F(Hostile, ReservedBitsClose1002) {
  Start();
  // RSV1 means compression, which sigd did not negotiate; RSV2 and RSV3
  // have no meaning at all.
  for (uint8_t rsv : {0x4, 0x2, 0x1, 0x7}) {
    EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = "{\"message\":1}", .rsv = rsv}}), 1002)
        << "rsv " << int{rsv};
  }
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpPing, .payload = "x", .rsv = 0x4}}), 1002);
}

TEST_F(Hostile, ReservedOpcodesClose1002) {
  Start();
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    EXPECT_EQ(CloseCodeFor({{.opcode = op, .payload = "x"}}), 1002) << "opcode " << int{op};
  }
}

TEST_F(Hostile, UnmaskedClientFrameCloses1002) {
  Start();
  const uint64_t before = Closes(CloseReason::kProtocol);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = "{\"message\":1}", .mask = false}}),
            1002);
  EXPECT_TRUE(WaitFor([&] { return Closes(CloseReason::kProtocol) == before + 1; }));
}

TEST_F(Hostile, InvalidCloseCodesAreAnsweredWith1002) {
  Start();
  // 0-999 are unused; 1004-1006 and 1015 must never be sent; 1016-2999 are
  // reserved for future RFCs.
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999}) {
    EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(code)}}), 1002)
        << "code " << code;
  }
}

TEST_F(Hostile, CloseCodesAbove4999AreEchoedLikeAnyOtherApplicationCode) {
  // RFC 6455 defines no meaning for 5000-65535; Beast (and the Autobahn
  // suite, which scores it "informational") treats them as application
  // codes, so sigd echoes them and closes cleanly.
  Start();
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(5000)}}), 5000);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(65535)}}), 65535);
}

TEST_F(Hostile, CloseWithAOneBytePayloadCloses1002) {
  Start();
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = "\x03"}}), 1002);
}

TEST_F(Hostile, CloseWithAnInvalidUtf8ReasonCloses1002) {
  Start();
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(1000, "bye \xff\xfe")}}),
            1002);
}

TEST_F(Hostile, CloseHandshakeEchoesTheCode) {
  Start();
  const uint64_t before = Closes(CloseReason::kClient);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(1000, "bye")}}), 1000);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(1001)}}), 1001);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(3000, "app")}}), 3000);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ClosePayload(4999)}}), 4999);
  // An empty close has no code; the answer is a normal closure.
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpClose, .payload = ""}}), 1000);
  EXPECT_TRUE(WaitFor([&] { return Closes(CloseReason::kClient) == before + 5; }));
}

TEST_F(Hostile, PingPayloadIsEchoedInThePong) {
  Start();
  auto c = Raw();
  std::string full(125, '\0');
  for (size_t i = 0; i < full.size(); ++i) full[i] = static_cast<char>(255 - i);
  for (const std::string& payload : {std::string(), std::string("hello"), full}) {
    ASSERT_TRUE(c->SendFrame({.opcode = kOpPing, .payload = payload}).ok());
    auto pong = c->ReadFrame();
    ASSERT_TRUE(pong.ok()) << pong.status();
    EXPECT_EQ(pong->opcode, kOpPong);
    EXPECT_TRUE(pong->fin);
    EXPECT_EQ(pong->payload, payload);
  }
  // An unsolicited pong is ignored, and the connection carries on.
  ASSERT_TRUE(c->SendFrame({.opcode = kOpPong, .payload = "unasked"}).ok());
  ASSERT_TRUE(c->SendFrame({.opcode = kOpText, .payload = R"({"message":"still","direct":true})"})
                  .ok());
  auto frame = c->ReadFrame();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->payload, "still");
}

TEST_F(Hostile, PingFloodIsAnsweredInOrderAndCostsOthersNothing) {
  Start();
  auto c = Raw();
  constexpr int kPings = 5000;
  std::string flood;
  for (int i = 0; i < kPings; ++i) {
    flood += EncodeFrame({.opcode = kOpPing, .payload = absl::StrCat("p", i)});
  }
  ASSERT_TRUE(c->SendBytes(flood).ok());
  // While the flood is being answered, others still get their signals.
  ASSERT_TRUE(Broadcast(TextSignal("during the flood")).ok());
  EXPECT_EQ(*bystander_->Read(), "during the flood");
  for (int i = 0; i < kPings; ++i) {
    auto pong = c->ReadFrame();
    ASSERT_TRUE(pong.ok()) << i << ": " << pong.status();
    if (pong->opcode == kOpText) {  // the broadcast, somewhere in the pongs
      --i;
      continue;
    }
    ASSERT_EQ(pong->opcode, kOpPong) << i;
    ASSERT_EQ(pong->payload, absl::StrCat("p", i));
  }
}

TEST_F(Hostile, PingsFromAClientThatNeverReadsWaitInItsSocketNotInSigd) {
  Start();
  auto c = Raw();
  // Each 100-byte ping owes the client a 102-byte pong. The client sends
  // without blocking and reads nothing, until its connection stops taking
  // bytes: sigd stops reading a client once the pongs it owes pass a bound,
  // and the kernel's buffers (a few MiB on loopback) fill. Were sigd to read
  // on, it would hold every pong itself and take all 64 MiB.
  const std::string ping = EncodeFrame({.opcode = kOpPing, .payload = std::string(100, 'p')});
  std::string block;
  for (int i = 0; i < 1000; ++i) block += ping;
  constexpr size_t kCap = 64 << 20;
  size_t accepted = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (accepted < kCap && std::chrono::steady_clock::now() < deadline) {
    const size_t offset = accepted % block.size();
    const ssize_t n = ::send(c->fd(), block.data() + offset, block.size() - offset,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      accepted += static_cast<size_t>(n);
      continue;
    }
    ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) << "send: " << errno;
    // Full for now: done when it stays full (sigd has stopped reading).
    pollfd writable{c->fd(), POLLOUT, 0};
    if (::poll(&writable, 1, 1000) == 0) break;
  }
  EXPECT_LT(accepted, kCap / 2) << "sigd went on reading pings whose pongs it could not send";
  // Others are not held up meanwhile.
  ASSERT_TRUE(Broadcast(TextSignal("while held")).ok());
  EXPECT_EQ(*bystander_->Read(), "while held");
  // Once the client reads, the pongs flow and sigd reads on: every whole
  // ping sent is answered, in order.
  const size_t pings = accepted / ping.size();
  for (size_t i = 0; i < pings; ++i) {
    auto frame = c->ReadFrame();
    ASSERT_TRUE(frame.ok()) << i << ": " << frame.status();
    if (frame->opcode == kOpText) {  // the broadcast
      --i;
      continue;
    }
    ASSERT_EQ(frame->opcode, kOpPong) << i;
    ASSERT_EQ(frame->payload, std::string(100, 'p')) << i;
  }
}

// ---- Size limits -------------------------------------------------------------

TEST_F(Hostile, OversizeFrameCloses1009) {
  Start();
  const uint64_t before = Closes(CloseReason::kTooBig);
  const std::string body = R"({"message":")" + std::string(kLimit, 'x') + "\"}";
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = body}}), 1009);
  EXPECT_TRUE(WaitFor([&] { return Closes(CloseReason::kTooBig) == before + 1; }));
}

TEST_F(Hostile, OversizeFragmentedMessageCloses1009) {
  Start();
  // Each fragment is well under the limit; together they are over it.
  const std::string part(40 * 1024, 'x');
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpText, .payload = "{\"message\":\"" + part, .fin = false},
                          {.opcode = kOpContinuation, .payload = part, .fin = false},
                          {.opcode = kOpContinuation, .payload = "\"}"}}),
            1009);
}

TEST_F(Hostile, HugeLengthHeaderCloses1009WithoutWaitingForThePayload) {
  Start();
  // A header claiming 2^62 bytes: refused from the header alone (nothing is
  // allocated or awaited).
  auto c = Raw();
  ASSERT_TRUE(c->SendBytes(EncodeHeader(0x80 | kOpBinary, uint64_t{1} << 62)).ok());
  auto code = c->WaitForClose();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1009);
  // With the most significant bit set the length is illegal as well as too
  // big; Beast 1.74 checks the size first, so the answer is 1009 too.
  auto d = Raw();
  ASSERT_TRUE(d->SendBytes(EncodeHeader(0x80 | kOpText, ~uint64_t{0})).ok());
  code = d->WaitForClose();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1009);
}

TEST_F(Hostile, MessageExactlyAtTheLimitIsAcceptedAndOneByteMoreIsNot) {
  Start();
  std::string exact(kLimit, '\0');
  for (size_t i = 0; i < exact.size(); ++i) exact[i] = static_cast<char>(i % 251);
  auto c = Raw("/raw/limit");
  ASSERT_TRUE(c->SendFrame({.opcode = kOpBinary, .payload = exact}).ok());
  auto echo = c->ReadFrame();
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->opcode, kOpBinary);
  EXPECT_TRUE(echo->payload == exact);
  EXPECT_EQ(CloseCodeFor({{.opcode = kOpBinary, .payload = exact + "!"}}, "/raw/limit"), 1009);
}

TEST_F(Hostile, SixteenMebibyteMessageEchoesIntactWhenTheLimitAllowsIt) {
  Start([](config::Config& c) { c.max_message_bytes = 16 * 1024 * 1024; });
  std::string big(16 * 1024 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7) ^ (i >> 12));
  WsClient c;  // Beast's client fragments it on the way in
  ASSERT_TRUE(c.Connect(port(), "/raw/big").ok());
  ASSERT_TRUE(c.SendBinary(big, 30s).ok());
  auto echo = c.Read(30s);
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_TRUE(c.last_was_binary());
  EXPECT_EQ(echo->size(), big.size());
  EXPECT_TRUE(*echo == big) << "16 MiB echo altered";
}

// ---- Messages ----------------------------------------------------------------

TEST_F(Hostile, BadJsonGetsAnErrorFrameAndTheConnectionStays) {
  Start();
  WsClient a;
  ASSERT_TRUE(a.Connect(port(), "/").ok());
  const std::string bad[] = {
      "not json",
      "{\"message\":",
      R"(["message"])",
      R"("message")",
      R"({"message":"x","path":5})",
      R"({"message":"x","clientId":true})",
      R"({"message":"x","direct":"yes"})",
      R"({"message":1e999})",
      R"({"message":"\ud800"})",
      "",
  };
  const uint64_t before = metrics().invalid_messages.load();
  for (const std::string& input : bad) {
    ASSERT_TRUE(a.Send(input).ok());
    EXPECT_EQ(ErrorCode(a.Read()), "invalid_message") << input;
  }
  EXPECT_EQ(metrics().invalid_messages.load(), before + std::size(bad));
  // Still connected, and nobody else heard anything but the good message.
  ASSERT_TRUE(a.Send(R"({"message":"fine"})").ok());
  EXPECT_EQ(*a.Read(), "fine");
  EXPECT_EQ(*bystander_->Read(), "fine");
}

TEST_F(Hostile, MissingMessageKeyGetsAnErrorFrame) {
  Start();
  WsClient a;
  ASSERT_TRUE(a.Connect(port(), "/").ok());
  for (const char* input : {R"({})", R"({"path":"/x"})", R"({"messages":1,"direct":true})"}) {
    ASSERT_TRUE(a.Send(input).ok());
    EXPECT_EQ(ErrorCode(a.Read()), "invalid_message") << input;
  }
  ASSERT_TRUE(a.Send(R"({"message":null,"direct":true})").ok());  // null is a message
  EXPECT_EQ(*a.Read(), "null");
}

TEST_F(Hostile, TenThousandDeepNestingGetsAnErrorFrame) {
  Start();
  WsClient a;
  ASSERT_TRUE(a.Connect(port(), "/").ok());
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(10000, '}');
  for (const std::string& value :
       {std::string(10000, '[') + std::string(10000, ']'), objects}) {
    ASSERT_TRUE(a.Send(R"({"message":)" + value + "}").ok());
    EXPECT_EQ(ErrorCode(a.Read()), "invalid_message");
  }
  ASSERT_TRUE(a.Send(R"({"message":[[["ok"]]],"direct":true})").ok());
  EXPECT_EQ(*a.Read(), R"([[["ok"]]])");
}

TEST_F(Hostile, BinaryFrameOnAJsonPathGetsAnErrorFrame) {
  Start();
  WsClient a;
  ASSERT_TRUE(a.Connect(port(), "/").ok());
  ASSERT_TRUE(a.SendBinary(R"({"message":"x"})").ok());
  EXPECT_EQ(ErrorCode(a.Read()), "invalid_message");
  ASSERT_TRUE(a.Send(R"({"message":"text still works","direct":true})").ok());
  EXPECT_EQ(*a.Read(), "text still works");
}

TEST_F(Hostile, RawPathRelaysTextAndBinaryVerbatim) {
  Start();
  WsClient a, b;
  ASSERT_TRUE(a.Connect(port(), "/raw/echo?welcome=1").ok());
  ASSERT_TRUE(b.Connect(port(), "/raw/echo").ok());
  ASSERT_TRUE(a.Send("not json at all").ok());
  EXPECT_EQ(*a.Read(), "not json at all");  // no welcome frame on raw paths
  EXPECT_FALSE(a.last_was_binary());
  EXPECT_EQ(*b.Read(), "not json at all");
  const std::string bytes("\x00\x01\xff\xc3\x28", 5);  // not UTF-8, fine in binary
  ASSERT_TRUE(a.SendBinary(bytes).ok());
  for (WsClient* c : {&a, &b}) {
    auto frame = c->Read();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(*frame, bytes);
    EXPECT_TRUE(c->last_was_binary());
  }
}

// Between messages the server reads only a message's first byte (an idle
// session holds no read buffer): messages of no byte, one byte and more, with
// pings in between, must still arrive whole and in order.
TEST_F(Hostile, RawPathRelaysEmptyAndOneByteMessagesWhole) {
  Start();
  WsClient a;
  ASSERT_TRUE(a.Connect(port(), "/raw/sizes").ok());
  const std::string big(60000, 'x');
  const std::string messages[] = {"", "1", "", "22", "\xc3\xa9", big, "z"};
  for (const std::string& m : messages) {
    ASSERT_TRUE(a.Ping().ok());
    ASSERT_TRUE(a.Send(m).ok());
  }
  ASSERT_TRUE(a.SendBinary(std::string(1, '\0')).ok());
  for (const std::string& m : messages) {
    auto frame = a.Read();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(*frame, m);
    EXPECT_FALSE(a.last_was_binary());
  }
  auto frame = a.Read();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(*frame, std::string(1, '\0'));
  EXPECT_TRUE(a.last_was_binary());
  EXPECT_EQ(a.pongs_received(), 7);
}

TEST_F(Hostile, AnyPathIsAccepted) {
  Start();
  for (const char* target : {"/never/configured", "/%E2%9C%93?x=1", "/a//b/", "/.hidden"}) {
    WsClient c;
    ASSERT_TRUE(c.Connect(port(), target).ok()) << target;
    ASSERT_TRUE(Broadcast(TextSignal(target)).ok());
    EXPECT_EQ(*c.Read(), target);
    EXPECT_EQ(*bystander_->Read(), target);
  }
}

// Broadcasts that reach clients while their own close handshake is under way
// (Beast refuses writes then) must leave nothing in the queue gauges; the
// checks after the case compare them with the baseline.
TEST_F(Hostile, ClientsClosingDuringABroadcastStreamLeaveNothingQueued) {
  Start();
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    while (!stop.load()) ASSERT_TRUE(Broadcast(TextSignal("stream")).ok());
  });
  for (int i = 0; i < 40; ++i) {
    auto c = Raw("/closing");
    ASSERT_TRUE(c->ReadFrame().ok());  // the stream reaches it
    ASSERT_TRUE(c->SendFrame({.opcode = kOpClose, .payload = ClosePayload(1000)}).ok());
    EXPECT_EQ(*c->WaitForClose(), 1000);
  }
  stop = true;
  sender.join();
}

// ---- HTTP side of the --listen port -------------------------------------------

TEST_F(Hostile, PathTraversalNeverLeavesThePublicFolder) {
  Start();
  std::ofstream(server_->public_dir() / "index.html") << "public";
  // A secret next to the public folder, which traversal would reach.
  const std::string secret_name = server_->public_dir().filename().string() + ".secret";
  const auto secret = server_->public_dir().parent_path() / secret_name;
  std::ofstream(secret) << "TOP-SECRET";
  const std::pair<std::string, http::status> cases[] = {
      {"/../" + secret_name, http::status::not_found},
      {"/%2e%2e/" + secret_name, http::status::not_found},
      {"/%2E%2E%2F" + secret_name, http::status::not_found},
      {"/..%2f" + secret_name, http::status::not_found},
      {"/x/../../" + secret_name, http::status::not_found},
      {"/..\\" + secret_name, http::status::not_found},
      {"/../etc/passwd", http::status::not_found},
      {"/%2e%2e/%2e%2e/etc/passwd", http::status::not_found},
      {"/%00", http::status::bad_request},
      {"/%zz", http::status::bad_request},
  };
  for (const auto& [target, status] : cases) {
    HttpResponse res = Fetch(port(), http::verb::get, target);
    EXPECT_EQ(res.result(), status) << target;
    EXPECT_EQ(res.body().find("TOP-SECRET"), std::string::npos) << target;
    EXPECT_EQ(res.body().find("root:"), std::string::npos) << target;
  }
  std::filesystem::remove(secret);
}

TEST_F(Hostile, GarbageInsteadOfAnHttpRequestIsClosedUnanswered) {
  Start();
  RawWsClient c;
  ASSERT_TRUE(c.ConnectTcp(port()).ok());
  std::string garbage = "\x01\x02 NOT HTTP \xff\xfe\r\n\r\n";
  for (int i = 0; i < 200; ++i) garbage.push_back(static_cast<char>(i * 37));
  ASSERT_TRUE(c.SendBytes(garbage).ok());
  auto answer = c.ReadUntilEof();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, "");
}

TEST_F(Hostile, TlsClientHelloOnThePlainPortIsClosedUnanswered) {
  Start();
  RawWsClient c;
  ASSERT_TRUE(c.ConnectTcp(port()).ok());
  // A TLS 1.2 record header and ClientHello start, as a browser sends for
  // https:// or wss:// to a plain port.
  std::string hello("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11);
  for (int i = 0; i < 32; ++i) hello.push_back(static_cast<char>(i * 11));  // random
  hello += std::string("\x00\x00\x02\x13\x01\x01\x00", 7);
  ASSERT_TRUE(c.SendBytes(hello).ok());
  auto answer = c.ReadUntilEof();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, "");
}

TEST_F(Hostile, OversizedHttpHeadersAre431) {
  Start();
  RawWsClient c;
  ASSERT_TRUE(c.ConnectTcp(port()).ok());
  ASSERT_TRUE(c.SendBytes("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                          "X-Padding: " +
                          std::string(20 * 1024, 'a') + "\r\n\r\n")
                  .ok());
  auto answer = c.ReadUntilEof();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 431 ")) << answer->substr(0, 40);
}

TEST_F(Hostile, HalfOpenConnectionIsClosedAtTheHandshakeDeadline) {
  Start();
  const auto start = std::chrono::steady_clock::now();
  RawWsClient c;  // connects and says nothing
  ASSERT_TRUE(c.ConnectTcp(port()).ok());
  auto answer = c.ReadUntilEof(5s);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, "");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);  // not before the deadline
}

TEST_F(Hostile, SlowlorisUpgradeIsClosedAtTheTotalDeadline) {
  Start();
  const auto start = std::chrono::steady_clock::now();
  RawWsClient c;
  ASSERT_TRUE(c.ConnectTcp(port()).ok());
  ASSERT_TRUE(c.SendBytes("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n").ok());
  // One header line at a time, each within the deadline: the deadline is for
  // the whole request and is not reset by them.
  bool closed = false;
  std::string answer;
  for (int i = 0; i < 100 && !closed; ++i) {
    if (!c.SendBytes(absl::StrCat("X-Slow-", i, ": b\r\n")).ok()) {
      closed = true;
      break;
    }
    // Waits up to 100 ms for the close this test expects.
    absl::StatusOr<std::string> eof = c.ReadUntilEof(100ms);
    if (eof.ok()) {
      closed = true;
      answer = *eof;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer, "");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 5s);
}

TEST_F(Hostile, AbruptResetMidFrameAndMidHandshakeFreesEverything) {
  Start();
  const uint64_t resets = Closes(CloseReason::kReset);
  {
    auto c = Raw();
    ASSERT_TRUE(WaitFor([&] { return hub().size() == baseline_.clients + 1; }));
    // A header promising 1000 bytes, 10 of them, then a TCP reset.
    std::string partial = EncodeFrame({.opcode = kOpText, .payload = std::string(1000, 'x')});
    partial.resize(16);
    ASSERT_TRUE(c->SendBytes(partial).ok());
    c->Reset();
  }
  EXPECT_TRUE(WaitFor([&] { return Closes(CloseReason::kReset) == resets + 1; }));
  {
    RawWsClient c;
    ASSERT_TRUE(c.ConnectTcp(port()).ok());
    ASSERT_TRUE(c.SendBytes("GET /chat HTTP/1.1\r\nHost: x\r\nUpgr").ok());
    c.Reset();
  }
}

// ---- Slow consumers ------------------------------------------------------------

TEST_F(Hostile, ClientThatNeverReadsDuringABroadcastStormIsClosed1013) {
  Start([](config::Config& c) {
    c.queue_max_bytes = 64 * 1024;
    c.queue_max_frames = 16;
  });
  WsClient slow;  // reads nothing until the storm is over
  ASSERT_TRUE(slow.Connect(port(), "/").ok());
  const uint64_t dropped = metrics().slow_clients_dropped.load();
  const uint64_t slow_closes = Closes(CloseReason::kSlow);
  const uint64_t out = metrics().frames_out.load();
  const uint64_t lost_slow = metrics().frames_dropped_slow.load();
  const uint64_t lost_gone = metrics().frames_dropped_gone.load();
  // Small enough that a reading client's queue (one frame in flight, the
  // next arriving before the write's completion runs) is never full.
  const std::string big(16 * 1024, 'x');
  int sent = 0;
  // Loopback socket buffers absorb a few megabytes before the queue fills.
  while (metrics().slow_clients_dropped.load() == dropped && sent < 6000) {
    ASSERT_TRUE(Broadcast(TextSignal(absl::StrCat(sent, big))).ok());
    auto frame = bystander_->Read();
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_EQ(*frame, absl::StrCat(sent, big)) << "the bystander missed a message";
    ++sent;
  }
  EXPECT_EQ(metrics().slow_clients_dropped.load(), dropped + 1);
  // The storm goes on for the others after the drop.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Broadcast(TextSignal(absl::StrCat("after ", i))).ok());
    ASSERT_EQ(*bystander_->Read(), absl::StrCat("after ", i));
  }
  // When the slow client finally reads, what was in flight ends with 1013.
  auto code = slow.WaitForClose(10s);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1013);
  EXPECT_TRUE(WaitFor([&] { return Closes(CloseReason::kSlow) == slow_closes + 1; }));
  // Every frame meant for the slow client was written or counted as lost to
  // its slowness, the one that overflowed its queue included.
  const uint64_t written_to_slow = metrics().frames_out.load() - out - (sent + 50);
  EXPECT_EQ(written_to_slow + metrics().frames_dropped_slow.load() - lost_slow,
            static_cast<uint64_t>(sent));
  EXPECT_EQ(metrics().frames_dropped_gone.load(), lost_gone);
}

// A client that stops reading while a large frame is on its way, then
// half-closes: sigd's read ends there, and the write stuck on the client's
// shut window must not keep the connection (and its session) for as long as
// the client keeps it shut. It is cut after the close grace, and the frame
// is counted as lost.
TEST_F(Hostile, ClientThatStopsReadingAndHalfClosesIsCutAfterTheGrace) {
  Start([](config::Config& c) { c.max_message_bytes = 16 * 1024 * 1024; });
  RawWsClient stuck;
  ASSERT_TRUE(stuck.Connect(port(), "/stuck").ok());
  const int small = 4096;
  setsockopt(stuck.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_TRUE(WaitFor([&] { return hub().size() == 2; }));
  const uint64_t gone = metrics().frames_dropped_gone.load();
  // More than loopback's socket buffers take while the client reads nothing.
  ASSERT_TRUE(Broadcast(TextSignal(std::string(12 * 1024 * 1024, 'x'), "/stuck")).ok());
  // The write is on the socket once its first bytes reach the client.
  ASSERT_TRUE(WaitFor([&] {
    int unread = 0;
    return ioctl(stuck.fd(), FIONREAD, &unread) == 0 && unread > 0;
  }));
  shutdown(stuck.fd(), SHUT_WR);
  ASSERT_TRUE(WaitFor([&] { return hub().size() == 1; }));
  EXPECT_TRUE(WaitFor([&] { return metrics().frames_dropped_gone.load() > gone; }, 15s))
      << "the write to the half-closed client is still pending";
}

// A SubscribeSignals stream whose client never calls Read: events pile up in
// gRPC's flow-control window and then in sigd's bounded queue. On a channel
// of its own with a fixed 64 KiB window: with gRPC's bandwidth probing the
// client may widen the window at any moment (to megabytes), and sigd's queue
// then drains into it, so what stays queued would depend on timing.
class StuckSubscriber {
 public:
  StuckSubscriber(const std::string& target, const sigd::v1::SubscribeSignalsRequest& request)
      : stub_(sigd::v1::SignalService::NewStub(FixedWindowChannel(target))),
        reader_(stub_->SubscribeSignals(&context_, request)) {}
  ~StuckSubscriber() { context_.TryCancel(); }

 private:
  static std::shared_ptr<grpc::Channel> FixedWindowChannel(const std::string& target) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  }

  std::unique_ptr<sigd::v1::SignalService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<sigd::v1::SignalEvent>> reader_;
};

TEST_F(Hostile, GrpcSubscriberThatNeverReadsMakesTheSenderGetRouteBusy) {
  Start([](config::Config& c) { c.subscriber_queue = 4; });
  WsClient sender;
  ASSERT_TRUE(sender.Connect(port(), "/stuck").ok());
  {
    StuckSubscriber stuck(server_->grpc_target(), Routes({"/stuck"}));
    ASSERT_TRUE(WaitFor([&] { return server_->server().subscriber_count() == 1; }));
    const uint64_t busy = metrics().route_busy.load();
    const std::string message = R"({"message":")" + std::string(32 * 1024, 'e') + "\"}";
    int sent = 0;
    while (metrics().route_busy.load() == busy && sent < 3000) {
      ASSERT_TRUE(sender.Send(message).ok());
      ++sent;
      // Let the event reach the subscriber before the next one.
      const uint64_t accounted = sent;
      ASSERT_TRUE(WaitFor([&] {
        return metrics().route_events.load() + metrics().route_busy.load() - busy >= accounted;
      }));
    }
    ASSERT_GT(metrics().route_busy.load(), busy) << "no route_busy after " << sent << " messages";
    auto frame = sender.ReadUntil([](const std::string& f) { return f.find("error") != f.npos; });
    EXPECT_EQ(ErrorCode(frame), "route_busy");
    // Routed messages were never broadcast.
    ASSERT_TRUE(Broadcast(TextSignal("marker")).ok());
    EXPECT_EQ(*bystander_->Read(), "marker");
  }
  // Gone: its queued events are dropped and counted, the route is free again.
  ASSERT_TRUE(WaitFor([&] { return server_->server().subscriber_count() == 0; }));
  EXPECT_GT(metrics().subscriber_events_dropped.load(), 0u);
}

TEST_F(Hostile, GroupMemberThatNeverReadsPassesEventsToTheNextMember) {
  // Room for 64 events each: the live member, sent one event at a time,
  // never falls that far behind even on a loaded machine.
  Start([](config::Config& c) { c.subscriber_queue = 64; });
  WsClient sender;
  ASSERT_TRUE(sender.Connect(port(), "/work").ok());
  StuckSubscriber stuck(server_->grpc_target(), Routes({"/work"}, false, "workers"));
  ASSERT_TRUE(WaitFor([&] { return server_->server().subscriber_count() == 1; }));
  Subscriber live(server_->channel(), Routes({"/work"}, false, "workers"));
  ASSERT_TRUE(live.WaitSubscribed());
  const uint64_t busy = metrics().route_busy.load();
  const uint64_t events = metrics().route_events.load();
  // Enough 32 KiB events to fill the stuck member's flow-control window and
  // queue many times over.
  constexpr int kMessages = 800;
  const std::string pad(32 * 1024, 'w');
  // One at a time, so the live member (which reads) never has a full queue.
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(sender.Send(absl::StrCat(R"({"message":")", i, " ", pad, "\"}")).ok());
    ASSERT_TRUE(WaitFor([&] {
      return metrics().route_events.load() + metrics().route_busy.load() - busy >=
             events + i + 1;
    }));
  }
  EXPECT_EQ(metrics().route_events.load(), events + kMessages);
  EXPECT_EQ(metrics().route_busy.load(), busy);  // the group always had a taker
  // The live member got every event from some point on: the last 100 all.
  std::vector<int> got;
  while (auto e = live.Next(2s)) {
    got.push_back(std::stoi(json::parse(e->data().message_json()).get<std::string>()));
    if (got.back() == kMessages - 1) break;
  }
  ASSERT_GE(got.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(got[got.size() - 100 + i], kMessages - 100 + i);
  }
  ASSERT_TRUE(Broadcast(TextSignal("marker")).ok());
  EXPECT_EQ(*sender.Read(), "marker");  // no error frame came before it
}

TEST_F(Hostile, SubscriberCancelledMidStreamFallsBackToBroadcast) {
  Start();
  WsClient sender;
  ASSERT_TRUE(sender.Connect(port(), "/orders").ok());
  auto sub = std::make_unique<Subscriber>(server_->channel(), Routes({"/orders"}));
  ASSERT_TRUE(sub->WaitSubscribed());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(sender.Send(absl::StrCat(R"({"message":)", i, "}")).ok());
  }
  ASSERT_TRUE(sub->Next().has_value());
  sub->Cancel();  // while events are still flowing
  auto status = sub->WaitEnded();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::CANCELLED);
  sub.reset();
  ASSERT_TRUE(WaitFor([&] { return server_->server().subscriber_count() == 0; }));
  // The route is gone: the path is back to default broadcast.
  ASSERT_TRUE(sender.Send(R"({"message":"broadcast again"})").ok());
  // Messages sigd read after the route went away were broadcast; once one
  // was, every later one was too (no message was routed to a dead stream).
  std::vector<int> broadcast;
  while (true) {
    auto frame = bystander_->Read();
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (*frame == "broadcast again") break;
    broadcast.push_back(std::stoi(*frame));
  }
  for (size_t i = 0; i < broadcast.size(); ++i) {
    EXPECT_EQ(broadcast[i], 200 - static_cast<int>(broadcast.size() - i));
  }
  EXPECT_EQ(*sender.ReadUntil([](const std::string& f) { return f == "broadcast again"; }),
            "broadcast again");
}

// ---- Control plane ---------------------------------------------------------------

TEST_F(Hostile, UnauthenticatedAndWronglyAuthenticatedGrpcCallsAreRefused) {
  char path[] = "/tmp/sigd-hostile-tokens-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "right-token\n";
  token_ = "right-token";
  Start([&](config::Config& c) { c.control_token_file = path; });
  std::remove(path);  // read at start
  WsClient target;
  ASSERT_TRUE(target.Connect(port(), "/t").ok());
  const uint64_t failures = metrics().auth_failures.load();
  auto stub = server_->Stub();
  int calls = 0;
  for (const std::string& authorization :
       {std::string(), std::string("Bearer wrong-token"), std::string("Bearer "),
        std::string("Basic right-token"), std::string("Bearer right-token-and-more")}) {
    auto ctx = [&] {
      auto c = std::make_unique<grpc::ClientContext>();
      c->set_deadline(std::chrono::system_clock::now() + 5s);
      if (!authorization.empty()) c->AddMetadata("authorization", authorization);
      return c;
    };
    sigd::v1::SendSignalResponse sent;
    EXPECT_EQ(stub->SendSignal(ctx().get(), TextSignal("forged"), &sent).error_code(),
              grpc::StatusCode::UNAUTHENTICATED) << authorization;
    sigd::v1::ListClientsResponse list;
    EXPECT_EQ(stub->ListClients(ctx().get(), {}, &list).error_code(),
              grpc::StatusCode::UNAUTHENTICATED) << authorization;
    sigd::v1::DisconnectClientRequest kick;
    kick.set_client_id(target.client_id());
    sigd::v1::DisconnectClientResponse kicked;
    EXPECT_EQ(stub->DisconnectClient(ctx().get(), kick, &kicked).error_code(),
              grpc::StatusCode::UNAUTHENTICATED) << authorization;
    sigd::v1::ServerInfo info;
    EXPECT_EQ(stub->GetServerInfo(ctx().get(), {}, &info).error_code(),
              grpc::StatusCode::UNAUTHENTICATED) << authorization;
    Subscriber sub(server_->channel(), Routes({"/t"}),
                   authorization.starts_with("Bearer ") ? authorization.substr(7) : "");
    auto ended = sub.WaitEnded();
    ASSERT_TRUE(ended.has_value());
    EXPECT_EQ(ended->error_code(), grpc::StatusCode::UNAUTHENTICATED) << authorization;
    calls += 5;
  }
  EXPECT_EQ(metrics().auth_failures.load(), failures + calls);
  // Nothing forged got through: the target is still connected and its next
  // frame is the real broadcast.
  ASSERT_TRUE(Broadcast(TextSignal("genuine")).ok());
  EXPECT_EQ(*target.Read(), "genuine");
}

TEST_F(Hostile, OversizedGrpcMessageIsResourceExhausted) {
  Start();
  WsClient c;
  ASSERT_TRUE(c.Connect(port(), "/").ok());
  // gRPC's own limit is --max-message-bytes + 64 KiB.
  EXPECT_EQ(Broadcast(TextSignal(std::string(kLimit + 64 * 1024 + 1, 'x'))).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  Subscriber big_request(server_->channel(),
                         Routes({"/" + std::string(kLimit + 64 * 1024, 'r')}));
  auto ended = big_request.WaitEnded();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The same channel still works, and nothing was sent.
  ASSERT_TRUE(Broadcast(TextSignal("small")).ok());
  EXPECT_EQ(*c.Read(), "small");
}

}  // namespace
}  // namespace sigd::testing
