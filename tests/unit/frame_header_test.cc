#include "server/ws/frame_header.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace sigd::ws {
namespace {

std::vector<uint8_t> Header(bool binary, uint64_t size) {
  uint8_t out[kMaxFrameHeader];
  return std::vector<uint8_t>(out, out + EncodeFrameHeader(binary, size, out));
}

TEST(FrameHeader, SmallTextFrameHasTwoBytesFinAndNoMask) {
  EXPECT_EQ(Header(false, 0), (std::vector<uint8_t>{0x81, 0}));
  EXPECT_EQ(Header(false, 125), (std::vector<uint8_t>{0x81, 125}));
}

TEST(FrameHeader, BinaryOpcode) { EXPECT_EQ(Header(true, 3), (std::vector<uint8_t>{0x82, 3})); }

TEST(FrameHeader, SixteenBitLengthFrom126To65535) {
  EXPECT_EQ(Header(false, 126), (std::vector<uint8_t>{0x81, 126, 0, 126}));
  EXPECT_EQ(Header(true, 65535), (std::vector<uint8_t>{0x82, 126, 0xff, 0xff}));
}

TEST(FrameHeader, SixtyFourBitLengthFrom65536) {
  EXPECT_EQ(Header(false, 65536), (std::vector<uint8_t>{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(Header(false, 0x0102030405ull),
            (std::vector<uint8_t>{0x81, 127, 0, 0, 0, 1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace sigd::ws
