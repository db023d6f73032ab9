// ws::FrameReader and ws::Utf8Validator: the server side of RFC 6455's
// framing that WsSession feeds with what it reads. The integration suites
// (Hostile.*) drive the same rules through real sockets; here every split of
// the input and every byte value can be tried.
#include "server/ws/frame_reader.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/raw_ws_client.h"
#include "tests/support/utf8_reference.h"

namespace sigd::ws {
namespace {

using testing::ClosePayload;
using testing::DecodesAsUtf8;
using Frame = testing::RawFrame;

// A client's frame: masked, the length in its shortest form.
std::string Encode(const Frame& frame) { return testing::EncodeFrame(frame); }
std::string Close(uint16_t code, std::string_view reason = {}) {
  return ClosePayload(code, reason);
}

// An event as a comparable string.
std::string Describe(const FrameEvent& e) {
  switch (e.kind) {
    case FrameEvent::kNeedMore:
      return "more";
    case FrameEvent::kMessage:
      return absl::StrCat(e.text ? "text:" : "binary:", std::string(e.data));
    case FrameEvent::kPing:
      return absl::StrCat("ping:", std::string(e.data));
    case FrameEvent::kPong:
      return absl::StrCat("pong:", std::string(e.data));
    case FrameEvent::kClose:
      return absl::StrCat("close:", e.code, ":", std::string(e.data));
    case FrameEvent::kError:
      return absl::StrCat("error:", e.code);
  }
  return "?";
}

// Feeds `bytes` in pieces of the given sizes (the rest in one piece), and
// returns every event but kNeedMore, with "eof" if the reader was left
// within a frame or a message.
std::vector<std::string> Read(std::string bytes, const std::vector<size_t>& pieces = {},
                              uint64_t limit = 1 << 20) {
  FrameReader reader(limit);
  std::vector<std::string> events;
  size_t at = 0;
  auto feed = [&](size_t n) {
    // Each piece in a buffer of its own, as separate reads would be.
    std::string piece = bytes.substr(at, n);
    at += piece.size();
    char* p = piece.data();
    char* const end = p + piece.size();
    while (true) {
      const FrameEvent e = reader.Next(p, end);
      if (e.kind == FrameEvent::kNeedMore) {
        EXPECT_EQ(p, end) << "kNeedMore before the input was consumed";
        break;
      }
      events.push_back(Describe(e));
    }
  };
  for (size_t n : pieces) feed(n);
  feed(bytes.size() - at);
  if (!reader.done() && reader.within_frame()) events.push_back("eof");
  return events;
}

std::string Stream() {
  std::string s;
  s += Encode({.opcode = 1, .payload = R"({"message":"hi"})"});
  s += Encode({.opcode = 2, .payload = std::string("\0\1\2", 3)});
  s += Encode({.opcode = 1, .payload = ""});
  s += Encode({.opcode = 9, .payload = "ping!"});
  s += Encode({.opcode = 1, .payload = "caf\xc3", .fin = false});
  s += Encode({.opcode = 10, .payload = "pong"});
  s += Encode({.opcode = 0, .payload = "", .fin = false});
  s += Encode({.opcode = 0, .payload = "\xa9!"});
  s += Encode({.opcode = 2, .payload = std::string(126, 'x')});
  s += Encode({.opcode = 1, .payload = std::string(70000, 'y')});
  s += Encode({.opcode = 8, .payload = Close(1000, "bye")});
  return s;
}

const std::vector<std::string> kStreamEvents = {
    R"(text:{"message":"hi"})", std::string("binary:\0\1\2", 10), "text:",
    "ping:ping!",               "pong:pong",                     "text:caf\xc3\xa9!",
    "binary:" + std::string(126, 'x'), "text:" + std::string(70000, 'y'), "close:1000:bye",
};

TEST(FrameReader, ReadsMessagesControlFramesAndFragments) {
  EXPECT_EQ(Read(Stream()), kStreamEvents);
}

TEST(FrameReader, GivesTheSameEventsHoweverTheBytesAreSplit) {
  const std::string s = Stream();
  // Every cut into two pieces.
  for (size_t cut = 0; cut <= s.size(); cut += (cut < 200 || cut > s.size() - 200) ? 1 : 97) {
    ASSERT_EQ(Read(s, {cut}), kStreamEvents) << "cut at " << cut;
  }
  // One byte at a time, and pieces of odd sizes.
  ASSERT_EQ(Read(s, std::vector<size_t>(s.size(), 1)), kStreamEvents);
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<size_t> pieces;
    for (size_t total = 0; total < s.size();) {
      pieces.push_back(random() % 300);
      total += pieces.back();
    }
    ASSERT_EQ(Read(s, pieces), kStreamEvents) << "round " << round;
  }
}

TEST(FrameReader, HandsOutAWholeFrameInPlace) {
  std::string bytes = Encode({.opcode = 1, .payload = "in place"});
  FrameReader reader(1024);
  char* p = bytes.data();
  const FrameEvent e = reader.Next(p, bytes.data() + bytes.size());
  ASSERT_EQ(e.kind, FrameEvent::kMessage);
  EXPECT_EQ(e.data, "in place");
  EXPECT_EQ(e.data.data(), bytes.data() + 6) << "copied instead of unmasked in place";
}

TEST(FrameReader, RefusesWhatRfc6455Forbids) {
  struct Case {
    std::string name;
    std::string bytes;
    uint16_t code;
  };
  std::string non_minimal_16 = "\x81\xfe";
  non_minimal_16 += std::string("\x00\x7d", 2) + "mask" + std::string(125, 'a');
  std::string non_minimal_64 = "\x82\xff";
  non_minimal_64 += std::string("\0\0\0\0\0\0\xff\xff", 8) + "mask";
  const Case cases[] = {
      {"rsv1", Encode({.payload = "x", .rsv = 4}), 1002},
      {"rsv3 on a ping", Encode({.opcode = 9, .payload = "x", .rsv = 1}), 1002},
      {"opcode 3", Encode({.opcode = 3, .payload = "x"}), 1002},
      {"opcode 0xb", Encode({.opcode = 0xb, .payload = "x"}), 1002},
      {"unmasked", Encode({.payload = "x", .mask = false}), 1002},
      {"fragmented ping", Encode({.opcode = 9, .payload = "x", .fin = false}), 1002},
      {"ping of 126 bytes", Encode({.opcode = 9, .payload = std::string(126, 'p')}), 1002},
      {"continuation first", Encode({.opcode = 0, .payload = "x"}), 1002},
      {"text inside a fragmented message",
       Encode({.payload = "a", .fin = false}) + Encode({.payload = "b"}), 1002},
      {"16-bit length under 126", non_minimal_16, 1002},
      {"64-bit length under 65536", non_minimal_64, 1002},
      {"close of one byte", Encode({.opcode = 8, .payload = "\x03"}), 1002},
      {"close code 1005", Encode({.opcode = 8, .payload = Close(1005)}), 1002},
      {"close code 1014", Encode({.opcode = 8, .payload = Close(1014)}), 1002},
      {"close code 2999", Encode({.opcode = 8, .payload = Close(2999)}), 1002},
      {"close code 999", Encode({.opcode = 8, .payload = Close(999)}), 1002},
      {"close reason not UTF-8", Encode({.opcode = 8, .payload = Close(1000, "\xff")}), 1002},
      {"invalid UTF-8", Encode({.payload = "a\xff"}), 1007},
      {"a surrogate", Encode({.payload = "\xed\xa0\x80"}), 1007},
      {"text ending inside a character", Encode({.payload = "\xe2\x82"}), 1007},
      {"... in an empty last fragment",
       Encode({.payload = "\xde", .fin = false}) + Encode({.opcode = 0, .payload = ""}), 1007},
      {"over the limit", Encode({.opcode = 2, .payload = std::string(101, 'b')}), 1009},
      {"fragments over the limit",
       Encode({.opcode = 2, .payload = std::string(60, 'b'), .fin = false}) +
           Encode({.opcode = 0, .payload = std::string(41, 'b')}),
       1009},
  };
  for (const Case& c : cases) {
    const std::vector<std::string> events = Read(c.bytes, {}, /*limit=*/100);
    ASSERT_FALSE(events.empty()) << c.name;
    EXPECT_EQ(events.back(), absl::StrCat("error:", c.code)) << c.name;
    EXPECT_EQ(events.size(), 1u) << c.name;
  }
}

TEST(FrameReader, RefusesAnOversizeFrameFromItsHeaderAlone) {
  // The header claims 2^62 bytes; nothing of the payload is needed (or
  // awaited) to refuse it, and a length with its top bit set is refused so
  // too, as Beast refuses it.
  for (uint64_t length : {uint64_t{1} << 62, ~uint64_t{0}, uint64_t{65537}}) {
    std::string header = "\x82\xff";
    for (int shift = 56; shift >= 0; shift -= 8) header.push_back(static_cast<char>(length >> shift));
    header += "mask";
    EXPECT_EQ(Read(header, {}, 65536), std::vector<std::string>{"error:1009"}) << length;
  }
}

TEST(FrameReader, TakesAMessageExactlyAtTheLimit) {
  const std::string exact(100, 'e');
  EXPECT_EQ(Read(Encode({.opcode = 2, .payload = exact}), {}, 100),
            std::vector<std::string>{"binary:" + exact});
  EXPECT_EQ(Read(Encode({.opcode = 2, .payload = exact.substr(0, 60), .fin = false}) +
                     Encode({.opcode = 0, .payload = exact.substr(60)}),
                 {}, 100),
            std::vector<std::string>{"binary:" + exact});
}

TEST(FrameReader, ReadsNothingAfterACloseOrAnError) {
  const std::string after = Encode({.payload = "after"});
  EXPECT_EQ(Read(Encode({.opcode = 8, .payload = ""}) + after),
            std::vector<std::string>{"close:1005:"});
  EXPECT_EQ(Read(Encode({.opcode = 8, .payload = Close(4999, "app")}) + after),
            std::vector<std::string>{"close:4999:app"});
  EXPECT_EQ(Read(Encode({.opcode = 3, .payload = ""}) + after),
            std::vector<std::string>{"error:1002"});
}

TEST(FrameReader, ReportsAFrameLeftUnfinished) {
  const std::string frame = Encode({.payload = "unfinished"});
  for (size_t cut = 1; cut < frame.size(); ++cut) {
    EXPECT_EQ(Read(frame.substr(0, cut)), std::vector<std::string>{"eof"}) << cut;
  }
}

TEST(Utf8Validator, AgreesWithADecoderOnEverySequenceOfUpToThreeBytes) {
  std::string s;
  for (uint32_t v = 0; v < (1u << 24); v += (v < (1u << 16) ? 1 : 3)) {
    for (size_t len : {1, 2, 3}) {
      if (len < 3 && v >= (1u << (8 * len))) continue;
      s.clear();
      for (size_t k = 0; k < len; ++k) s.push_back(static_cast<char>(v >> (8 * (len - 1 - k))));
      ASSERT_EQ(IsValidUtf8(s), DecodesAsUtf8(s)) << absl::CEscape(s);
    }
  }
}

TEST(Utf8Validator, AgreesWithADecoderOnFourByteSequencesAndLongText) {
  std::mt19937 random(11);
  const uint8_t interesting[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                                 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0,
                                 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff};
  std::string s(4, '\0');
  for (uint8_t a : interesting) {
    for (uint8_t b : interesting) {
      for (uint8_t c : interesting) {
        for (uint8_t d : interesting) {
          s[0] = static_cast<char>(a), s[1] = static_cast<char>(b);
          s[2] = static_cast<char>(c), s[3] = static_cast<char>(d);
          ASSERT_EQ(IsValidUtf8(s), DecodesAsUtf8(s)) << absl::CEscape(s);
        }
      }
    }
  }
  // Long text (the eight-byte ASCII steps), valid and with one bad byte
  // anywhere, fed whole and in pieces.
  const std::string valid = std::string(37, 'a') + "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" +
                            std::string(50, 'z') + "\xf4\x8f\xbf\xbf";
  for (size_t bad = 0; bad <= valid.size(); ++bad) {
    std::string text = valid;
    if (bad < text.size()) text[bad] = static_cast<char>(0xff);
    const bool expected = DecodesAsUtf8(text);
    ASSERT_EQ(IsValidUtf8(text), expected) << bad;
    Utf8Validator pieces;
    bool ok = true;
    for (size_t at = 0; at < text.size() && ok;) {
      const size_t n = std::min<size_t>(1 + random() % 9, text.size() - at);
      ok = pieces.Feed(reinterpret_cast<const uint8_t*>(text.data() + at), n);
      at += n;
    }
    ASSERT_EQ(ok && pieces.complete(), expected) << "in pieces, bad byte at " << bad;
  }
}

}  // namespace
}  // namespace sigd::ws
