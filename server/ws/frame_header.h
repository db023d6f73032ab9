// The RFC 6455 header of a server->client frame, for sigd's own frame writer
// (see ws_session.cc): FIN set, one frame per message, no mask (servers never
// mask), payload length in 7, 16 or 64 bits.
// Kept apart from the session so it can be tested without sockets.
#ifndef SIGD_SERVER_WS_FRAME_HEADER_H_
#define SIGD_SERVER_WS_FRAME_HEADER_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace sigd::ws {

// The longest header: 2 bytes plus a 64-bit length.
inline constexpr size_t kMaxFrameHeader = 10;

// Opcodes (RFC 6455 5.2), for the writer and for FrameReader.
inline constexpr uint8_t kOpContinuation = 0x0;
inline constexpr uint8_t kOpText = 0x1;
inline constexpr uint8_t kOpBinary = 0x2;
inline constexpr uint8_t kOpClose = 0x8;
inline constexpr uint8_t kOpPing = 0x9;
inline constexpr uint8_t kOpPong = 0xA;

// Writes the header of a frame of `opcode` into `out` and returns its length
// (2, 4 or 10).
inline size_t EncodeFrameHeader(uint8_t opcode, uint64_t payload_size, uint8_t* out) {
  out[0] = static_cast<uint8_t>(0x80 | opcode);
  if (payload_size < 126) {
    out[1] = static_cast<uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xffff) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload_size >> 8);
    out[3] = static_cast<uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_size >> (56 - 8 * i));
  return 10;
}

// A data frame's header: text or binary.
inline size_t EncodeFrameHeader(bool binary, uint64_t payload_size, uint8_t* out) {
  return EncodeFrameHeader(binary ? kOpBinary : kOpText, payload_size, out);
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_FRAME_HEADER_H_
