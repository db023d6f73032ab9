#include "server/ws/frame_reader.h"

#include <cstring>

#include "server/ws/frame_header.h"

namespace sigd::ws {

namespace {

// The header's size once its first two bytes are known.
size_t HeaderSize(const uint8_t* first_two) {
  const uint8_t length = first_two[1] & 0x7F;
  return 2 + (length == 126 ? 2 : length == 127 ? 8 : 0) + ((first_two[1] & 0x80) ? 4 : 0);
}

// The close codes a peer may send (RFC 6455 7.4), as Beast 1.74 has them:
// 1012 and 1013 are registered, 1014 is treated as reserved, and codes past
// 4999 are taken as the application's.
bool IsValidCloseCode(uint16_t code) {
  if (code < 1000) return false;
  if (code <= 1003) return true;
  if (code <= 1006) return false;
  if (code <= 1013) return true;
  return code >= 3000;
}

}  // namespace

bool Utf8Validator::Feed(const uint8_t* data, size_t size) {
  const uint8_t* p = data;
  const uint8_t* const end = data + size;
  while (p < end) {
    if (need_ > 0) {
      const uint8_t byte = *p++;
      if (byte < low_ || byte > high_) return false;
      --need_;
      low_ = 0x80;
      high_ = 0xBF;
      continue;
    }
    // Between characters: ASCII eight bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ULL) break;
      p += 8;
    }
    while (p < end && *p < 0x80) ++p;
    if (p == end) break;
    const uint8_t lead = *p++;
    if (lead < 0xC2) return false;  // a continuation byte, or an overlong pair
    if (lead < 0xE0) {
      need_ = 1;
    } else if (lead < 0xF0) {
      need_ = 2;
      if (lead == 0xE0) low_ = 0xA0;   // overlong
      if (lead == 0xED) high_ = 0x9F;  // surrogates
    } else if (lead < 0xF5) {
      need_ = 3;
      if (lead == 0xF0) low_ = 0x90;   // overlong
      if (lead == 0xF4) high_ = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
  }
  return true;
}

bool IsValidUtf8(std::string_view text) {
  Utf8Validator validator;
  return validator.Feed(reinterpret_cast<const uint8_t*>(text.data()), text.size()) &&
         validator.complete();
}

FrameEvent FrameReader::Fail(uint16_t code, std::string_view why) {
  done_ = true;
  FrameEvent event;
  event.kind = FrameEvent::kError;
  event.code = code;
  event.data = why;
  return event;
}

void FrameReader::Unmask(char* data, size_t size) {
  uint8_t key[4];
  for (int i = 0; i < 4; ++i) key[i] = mask_[(mask_offset_ + i) & 3];
  size_t i = 0;
  if (size >= 8) {
    uint32_t half;
    std::memcpy(&half, key, 4);
    const uint64_t wide = (uint64_t{half} << 32) | half;
    for (; i + 8 <= size; i += 8) {
      uint64_t word;
      std::memcpy(&word, data + i, 8);
      word ^= wide;
      std::memcpy(data + i, &word, 8);
    }
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ key[i & 3]);
  mask_offset_ = static_cast<uint8_t>((mask_offset_ + size) & 3);
}

bool FrameReader::TakeHeader(const uint8_t* header, FrameEvent& error) {
  fin_ = (header[0] & 0x80) != 0;
  opcode_ = header[0] & 0x0F;
  if ((header[0] & 0x70) != 0) {
    error = Fail(1002, "reserved bits set");
    return false;
  }
  switch (opcode_) {
    case kOpContinuation:
    case kOpText:
    case kOpBinary:
    case kOpClose:
    case kOpPing:
    case kOpPong:
      break;
    default:
      error = Fail(1002, "reserved opcode");
      return false;
  }
  const bool control = opcode_ >= kOpClose;
  uint64_t length = header[1] & 0x7F;
  size_t at = 2;
  if (length == 126) {
    length = (uint64_t{header[2]} << 8) | header[3];
    at = 4;
    if (length < 126) {
      error = Fail(1002, "frame length not in its shortest form");
      return false;
    }
  } else if (length == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | header[2 + i];
    at = 10;
    if (length <= 0xFFFF) {
      error = Fail(1002, "frame length not in its shortest form");
      return false;
    }
  }
  if (control && !fin_) {
    error = Fail(1002, "fragmented control frame");
    return false;
  }
  if (control && length > 125) {
    error = Fail(1002, "control frame over 125 bytes");
    return false;
  }
  if ((header[1] & 0x80) == 0) {
    error = Fail(1002, "unmasked frame from a client");
    return false;
  }
  if (opcode_ == kOpContinuation && message_opcode_ == 0) {
    error = Fail(1002, "continuation frame outside a message");
    return false;
  }
  if ((opcode_ == kOpText || opcode_ == kOpBinary) && message_opcode_ != 0) {
    error = Fail(1002, "new message inside a fragmented one");
    return false;
  }
  if (!control) {
    // Checked before the length's top bit, as Beast does: a header claiming
    // 2^63 bytes or more is answered 1009 too.
    if (length > max_message_ - message_size_) {
      error = Fail(1009, "message too big");
      return false;
    }
    if ((length >> 63) != 0) {
      error = Fail(1002, "frame length with its top bit set");
      return false;
    }
    if (opcode_ != kOpContinuation) {
      message_opcode_ = opcode_;
      utf8_.Reset();
    }
    message_size_ += length;
  }
  std::memcpy(mask_, header + at, 4);
  mask_offset_ = 0;
  remaining_ = length;
  return true;
}

FrameEvent FrameReader::ControlEvent(std::string_view payload) {
  FrameEvent event;
  event.data = payload;
  if (opcode_ == kOpPing) {
    event.kind = FrameEvent::kPing;
    return event;
  }
  if (opcode_ == kOpPong) {
    event.kind = FrameEvent::kPong;
    return event;
  }
  done_ = true;
  event.kind = FrameEvent::kClose;
  if (payload.empty()) {
    event.code = 1005;
    return event;
  }
  if (payload.size() == 1) return Fail(1002, "close frame with a one-byte payload");
  event.code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                     static_cast<uint8_t>(payload[1]));
  if (!IsValidCloseCode(event.code)) return Fail(1002, "invalid close code");
  event.data = payload.substr(2);
  if (!IsValidUtf8(event.data)) return Fail(1002, "close reason not UTF-8");
  return event;
}

FrameEvent FrameReader::Next(char*& p, char* const end) {
  if (release_message_) {
    release_message_ = false;
    std::string().swap(message_);
  }
  // Kept only while a control frame's payload is still arriving.
  if (control_ != nullptr && !(in_payload_ && opcode_ >= kOpClose)) control_.reset();
  if (done_) {
    p = end;
    return {};
  }
  while (true) {
    if (!in_payload_) {
      const uint8_t* header;
      size_t size;
      const auto* here = reinterpret_cast<const uint8_t*>(p);
      if (header_size_ == 0 && end - p >= 2 &&
          static_cast<size_t>(end - p) >= (size = HeaderSize(here))) {
        header = here;
        p += size;
      } else {
        // The header arrives in pieces: gather it.
        auto gather = [&](size_t want) {
          while (header_size_ < want && p < end) header_[header_size_++] = static_cast<uint8_t>(*p++);
        };
        gather(2);
        if (header_size_ < 2) return {};
        size = HeaderSize(header_);
        gather(size);
        if (header_size_ < size) return {};
        header = header_;
        header_size_ = 0;
      }
      FrameEvent error;
      if (!TakeHeader(header, error)) {
        p = end;
        return error;
      }
      in_payload_ = true;
    }

    const size_t available = static_cast<size_t>(end - p);
    const size_t take = remaining_ < available ? static_cast<size_t>(remaining_) : available;
    if (opcode_ >= kOpClose) {
      Unmask(p, take);
      if (control_ == nullptr && take == remaining_) {
        const std::string_view payload(p, take);
        p += take;
        in_payload_ = false;
        FrameEvent event = ControlEvent(payload);
        if (done_) p = end;
        return event;
      }
      if (control_ == nullptr) control_ = std::make_unique<std::string>();
      control_->append(p, take);
      p += take;
      remaining_ -= take;
      if (remaining_ > 0) return {};
      in_payload_ = false;
      FrameEvent event = ControlEvent(*control_);
      if (done_) p = end;
      return event;
    }

    const bool text = message_opcode_ == kOpText;
    Unmask(p, take);
    if (fin_ && opcode_ != kOpContinuation && take == remaining_ && message_.empty()) {
      // A whole message in one frame, all of it here (none of it came with
      // an earlier call): handed out in place.
      if (text && !(utf8_.Feed(reinterpret_cast<const uint8_t*>(p), take) && utf8_.complete())) {
        p = end;
        return Fail(1007, "invalid UTF-8 in a text message");
      }
      FrameEvent event;
      event.kind = FrameEvent::kMessage;
      event.text = text;
      event.data = std::string_view(p, take);
      p += take;
      in_payload_ = false;
      message_opcode_ = 0;
      message_size_ = 0;
      return event;
    }
    if (text && !utf8_.Feed(reinterpret_cast<const uint8_t*>(p), take)) {
      p = end;
      return Fail(1007, "invalid UTF-8 in a text message");
    }
    message_.append(p, take);
    p += take;
    remaining_ -= take;
    if (remaining_ > 0) return {};
    in_payload_ = false;
    if (!fin_) continue;
    if (text && !utf8_.complete()) {
      p = end;
      return Fail(1007, "text message ends inside a character");
    }
    FrameEvent event;
    event.kind = FrameEvent::kMessage;
    event.text = text;
    event.data = message_;
    message_opcode_ = 0;
    message_size_ = 0;
    release_message_ = true;
    return event;
  }
}

}  // namespace sigd::ws
