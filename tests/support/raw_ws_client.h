// A WebSocket client that writes frames byte by byte, for the hostile-input
// battery: Beast's own client refuses to produce protocol violations
// (unmasked frames, reserved bits, bad close codes, lying length headers),
// so this one builds every frame itself. Blocking POSIX socket; every read
// has a deadline (poll), never a sleep.
//
//   RawWsClient c;
//   ASSERT_TRUE(c.Connect(port, "/").ok());
//   c.SendFrame({.opcode = 0x1, .payload = "\xff", .rsv = 0x4});
//   EXPECT_EQ(*c.WaitForClose(), 1002);
#ifndef SIGD_TESTS_SUPPORT_RAW_WS_CLIENT_H_
#define SIGD_TESTS_SUPPORT_RAW_WS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/ws/frame_header.h"

namespace sigd::testing {

using namespace std::chrono_literals;

// WebSocket opcodes (RFC 6455 section 5.2), sigd's own.
using ws::kOpBinary;
using ws::kOpClose;
using ws::kOpContinuation;
using ws::kOpPing;
using ws::kOpPong;
using ws::kOpText;

struct RawFrame {
  uint8_t opcode = kOpText;
  std::string payload;
  bool fin = true;
  bool mask = true;   // clients must mask; false writes a protocol violation
  uint8_t rsv = 0;    // RSV1..3 as bits 0x4, 0x2, 0x1
};

// One frame as it arrived from the server.
struct ReceivedFrame {
  uint8_t opcode = 0;
  bool fin = false;
  std::string payload;
};

// A close frame's payload: the code in network order, then the reason.
std::string ClosePayload(uint16_t code, std::string_view reason = {});

// The bytes of one frame on the wire, masked with a fixed key when asked.
std::string EncodeFrame(const RawFrame& frame);

// A frame header alone, claiming `length` payload bytes (any 64-bit value,
// including ones no one could send), masked.
std::string EncodeHeader(uint8_t first_byte, uint64_t length);

class RawWsClient {
 public:
  RawWsClient() = default;
  ~RawWsClient();
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;

  // TCP connect only (for tests that send something other than an upgrade).
  absl::Status ConnectTcp(uint16_t port);
  // TCP connect plus a WebSocket upgrade on `target`; fails unless 101.
  absl::Status Connect(uint16_t port, std::string_view target = "/");

  absl::Status SendBytes(std::string_view bytes);
  absl::Status SendFrame(const RawFrame& frame) { return SendBytes(EncodeFrame(frame)); }

  // The next frame. DeadlineExceeded on timeout; Unavailable("eof") when the
  // server closed the TCP connection.
  absl::StatusOr<ReceivedFrame> ReadFrame(std::chrono::milliseconds timeout = 5s);
  // Reads frames until the server's close frame and returns its code (1005
  // for an empty close payload). Frames before it are discarded. Fails when
  // the connection ends without a close frame.
  absl::StatusOr<uint16_t> WaitForClose(std::chrono::milliseconds timeout = 5s);
  // Reads raw bytes until the server closes the TCP connection; returns
  // everything it sent. DeadlineExceeded if it stays open.
  absl::StatusOr<std::string> ReadUntilEof(std::chrono::milliseconds timeout = 5s);

  // Ends the connection with a TCP RST (SO_LINGER 0) instead of a FIN.
  void Reset();
  int fd() const { return fd_; }

 private:
  // Appends at least `n` more bytes to buffer_ unless EOF or the deadline.
  absl::Status Fill(size_t n, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;  // received, not yet parsed
};

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_RAW_WS_CLIENT_H_
