// The RFC 6455 header of a server->client data frame, for sigd's own frame
// writer (see ws_session.cc): FIN set, one frame per message, text or binary
// opcode, no mask (servers never mask), payload length in 7, 16 or 64 bits.
// Kept apart from the session so it can be tested without sockets.
#ifndef SIGD_SERVER_WS_FRAME_HEADER_H_
#define SIGD_SERVER_WS_FRAME_HEADER_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace sigd::ws {

// The longest header: 2 bytes plus a 64-bit length.
inline constexpr size_t kMaxFrameHeader = 10;

// Writes the header into `out` and returns its length (2, 4 or 10).
inline size_t EncodeFrameHeader(bool binary, uint64_t payload_size, uint8_t* out) {
  out[0] = 0x80 | (binary ? 0x2 : 0x1);
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

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_FRAME_HEADER_H_
