// UTF-8 as RFC 3629 has it, checked by decoding code points: a reference
// written apart from sigd's Utf8Validator (server/ws/frame_reader.h), for the
// unit tests and the websocket_frame fuzz target to check it and Beast's
// checker against.
#ifndef SIGD_TESTS_SUPPORT_UTF8_REFERENCE_H_
#define SIGD_TESTS_SUPPORT_UTF8_REFERENCE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sigd::testing {

inline bool DecodesAsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_UTF8_REFERENCE_H_
