// Works around a Boost.Beast 1.74 hole in UTF-8 validation, found by the
// websocket_frame fuzz target: Beast checks text incrementally but runs its
// end-of-message check (no truncated multi-byte sequence) only on a final
// frame that carries payload. A message whose last fragment is empty passes
// with a dangling lead byte ("...\xde" then an empty FIN continuation), and on
// a raw relay path sigd would forward that invalid text to other clients,
// whose browsers then fail their own connections. Everything before the tail
// has been validated by Beast, so checking the tail completes the check.
//
//   if (ws.got_text() && !EndsWithCompleteUtf8(text)) StartClose(1007, ...);
#ifndef SIGD_SERVER_WS_UTF8_TAIL_H_
#define SIGD_SERVER_WS_UTF8_TAIL_H_

#include <cstddef>
#include <string_view>

namespace sigd::ws {

// False when `text` ends inside a multi-byte UTF-8 sequence. Assumes the rest
// of `text` is valid UTF-8 (as Beast guarantees up to its end).
inline bool EndsWithCompleteUtf8(std::string_view text) {
  size_t continuation = 0;
  while (continuation < 3 && continuation < text.size() &&
         (static_cast<unsigned char>(text[text.size() - 1 - continuation]) & 0xC0) == 0x80) {
    ++continuation;
  }
  if (continuation == text.size()) return continuation == 0;
  const auto lead = static_cast<unsigned char>(text[text.size() - 1 - continuation]);
  const size_t needed = lead < 0x80             ? 0
                        : (lead & 0xE0) == 0xC0 ? 1
                        : (lead & 0xF0) == 0xE0 ? 2
                        : (lead & 0xF8) == 0xF0 ? 3
                                                : 4;  // not a lead byte
  return needed == continuation;
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_UTF8_TAIL_H_
