// The server side of RFC 6455's framing, without I/O: bytes from a client go
// in, in pieces of any size, and messages, pings, pongs, a close or the
// protocol error that ends the connection come out. WsSession reads a
// client's socket into a scratch buffer shared by the thread and hands the
// bytes here, so an idle client holds no read buffer at all (Beast's stream
// held 1.5 KiB of one in every session, and its state another kilobyte).
//
// What it checks, with the close code the session answers with:
// - reserved bits (no extension is negotiated), reserved opcodes, an
//   unmasked frame, a fragmented or over-125-byte control frame, a
//   continuation without a message or a new message inside a fragmented one,
//   a length not in its shortest form, a close payload of one byte, a close
//   code that must not be sent, a close reason that is not UTF-8: 1002;
// - a message over the size limit, known from the frame's header alone: 1009
//   (nothing is awaited or allocated for it);
// - text that is not UTF-8, refused at the first byte that cannot continue
//   it, and at the end of a message that stops inside a character: 1007.
//
// A message that arrives whole in one frame, inside the bytes given, is
// unmasked in place and handed out as a view of them: no copy. Only
// fragmented messages, and frames split across reads, are assembled in a
// buffer of the reader's own, which it gives back after the message.
//
//   FrameReader reader(limit);
//   for (char* p = data; ;) {
//     const FrameEvent event = reader.Next(p, data + n);
//     if (event.kind == FrameEvent::kNeedMore) break;  // all of it consumed
//     ...
//   }
#ifndef SIGD_SERVER_WS_FRAME_READER_H_
#define SIGD_SERVER_WS_FRAME_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sigd::ws {

// UTF-8 as RFC 3629 has it (no overlong forms, no surrogates, nothing past
// U+10FFFF), checked piece by piece.
class Utf8Validator {
 public:
  // False as soon as the bytes so far cannot be the start of valid UTF-8.
  bool Feed(const uint8_t* data, size_t size);
  // True when the bytes so far end between characters.
  bool complete() const { return need_ == 0; }
  void Reset() { *this = Utf8Validator(); }

 private:
  // Continuation bytes still to come, and the range the next one must be in
  // (narrower than 0x80-0xBF after E0, ED, F0 and F4).
  uint8_t need_ = 0;
  uint8_t low_ = 0x80;
  uint8_t high_ = 0xBF;
};

bool IsValidUtf8(std::string_view text);

struct FrameEvent {
  enum Kind : uint8_t {
    kNeedMore,  // every byte given was consumed; more are needed
    kMessage,   // data: the message; text: whether it is a text message
    kPing,      // data: the payload, to be echoed in a pong
    kPong,
    kClose,     // code: the peer's (1005 when it sent none); data: its reason
    kError,     // code: what to close with (1002, 1007, 1009); data: why
  };
  Kind kind = kNeedMore;
  bool text = false;
  uint16_t code = 0;
  // Valid until the next call to Next.
  std::string_view data;
};

class FrameReader {
 public:
  explicit FrameReader(uint64_t max_message) : max_message_(max_message) {}

  // Reads from [p, end) up to the next event and moves p past what it read.
  // The bytes are unmasked in place. After a close or an error nothing more
  // is read: every later call consumes its input and returns kNeedMore.
  FrameEvent Next(char*& p, char* end);

  // A close or an error has been read.
  bool done() const { return done_; }
  // Inside a frame: part of its header or its payload is still to come.
  bool within_frame() const { return in_payload_ || header_size_ > 0; }

 private:
  // Checks a complete header; on success the frame's fields are set.
  bool TakeHeader(const uint8_t* header, FrameEvent& error);
  FrameEvent Fail(uint16_t code, std::string_view why);
  FrameEvent ControlEvent(std::string_view payload);
  void Unmask(char* data, size_t size);

  uint64_t max_message_;
  // The current frame: its payload bytes still to read and where the mask
  // stands in them.
  uint64_t remaining_ = 0;
  uint64_t message_size_ = 0;  // of the fragmented message so far
  uint8_t mask_[4] = {};
  uint8_t mask_offset_ = 0;
  uint8_t opcode_ = 0;
  bool fin_ = false;
  bool in_payload_ = false;
  // The data message in progress (text or binary), 0 between messages.
  uint8_t message_opcode_ = 0;
  bool done_ = false;
  // A header split across calls.
  uint8_t header_size_ = 0;
  uint8_t header_[14] = {};
  // The assembled message is freed at the start of the next call, once the
  // event that pointed into it has been handled (so is a split control
  // frame's payload, which control_ holds only until then).
  bool release_message_ = false;
  Utf8Validator utf8_;
  // The assembled message (fragments, or one frame split across calls).
  std::string message_;
  // A control frame split across calls (it may come between the fragments
  // of a message, so it has a buffer of its own).
  std::unique_ptr<std::string> control_;
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_FRAME_READER_H_
