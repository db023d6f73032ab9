// ws::EndsWithCompleteUtf8: the end-of-message UTF-8 check that Beast 1.74
// skips when a text message's last fragment is empty (found by the
// websocket_frame fuzz target; WsSession closes such a client with 1007).
#include "server/ws/utf8_tail.h"

#include "gtest/gtest.h"

namespace sigd::ws {
namespace {

TEST(Utf8Tail, CompleteTextPasses) {
  EXPECT_TRUE(EndsWithCompleteUtf8(""));
  EXPECT_TRUE(EndsWithCompleteUtf8("hi"));
  EXPECT_TRUE(EndsWithCompleteUtf8("caf\xc3\xa9"));              // 2 bytes
  EXPECT_TRUE(EndsWithCompleteUtf8("\xe2\x82\xac"));              // 3 bytes
  EXPECT_TRUE(EndsWithCompleteUtf8("x\xf0\x9f\x98\x80"));         // 4 bytes
}

TEST(Utf8Tail, TruncatedSequenceAtTheEndFails) {
  EXPECT_FALSE(EndsWithCompleteUtf8("{\"message\":1}\xde"));      // the fuzzer's case
  EXPECT_FALSE(EndsWithCompleteUtf8("\xe2\x82"));
  EXPECT_FALSE(EndsWithCompleteUtf8("a\xf0\x9f\x98"));
  EXPECT_FALSE(EndsWithCompleteUtf8("\xf0"));
}

}  // namespace
}  // namespace sigd::ws
