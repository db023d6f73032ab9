#include "server/protocol/frames.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigd::protocol {
namespace {

void ExpectInvalid(std::string_view json_text, int max_depth = 64) {
  absl::StatusOr<std::string> f = FrameFromJsonText(json_text, max_depth);
  ASSERT_FALSE(f.ok()) << "accepted: " << json_text.substr(0, 80) << " -> " << *f;
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << f.status();
}

std::string Frame(std::string_view json_text, int max_depth = 64) {
  absl::StatusOr<std::string> f = FrameFromJsonText(json_text, max_depth);
  EXPECT_TRUE(f.ok()) << json_text << ": " << f.status();
  return f.ok() ? *f : "<error>";
}

TEST(Frames, ErrorFrameExactText) {
  EXPECT_EQ(ErrorFrame(kInvalidMessage, "missing \"message\""),
            R"({"error":{"code":"invalid_message","message":"missing \"message\""}})");
  EXPECT_EQ(ErrorFrame(kUnknownClient, "no such client"),
            R"({"error":{"code":"unknown_client","message":"no such client"}})");
}

TEST(Frames, ErrorCodesAreTheDocumentedOnes) {
  EXPECT_EQ(kInvalidMessage, "invalid_message");
  EXPECT_EQ(kUnknownClient, "unknown_client");
  EXPECT_EQ(kNoHandler, "no_handler");
  EXPECT_EQ(kRouteBusy, "route_busy");
}

TEST(Frames, ErrorFrameEscapesItsMessage) {
  const std::string frame = ErrorFrame(kNoHandler, "a \"quoted\" \\ path\nnext");
  EXPECT_EQ(frame,
            R"({"error":{"code":"no_handler","message":"a \"quoted\" \\ path\nnext"}})");
  // And it round-trips: the error object is the only key.
  const nlohmann::json j = nlohmann::json::parse(frame);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j["error"]["message"], "a \"quoted\" \\ path\nnext");
}

TEST(Frames, ErrorFrameSurvivesInvalidUtf8) {
  // Messages can quote client input; a bad byte must not throw.
  const std::string frame = ErrorFrame(kInvalidMessage, "bad \xFF byte");
  EXPECT_NO_THROW(nlohmann::json::parse(frame)) << frame;
}

TEST(Frames, WelcomeFrameExactText) {
  EXPECT_EQ(WelcomeFrame("abc123"), R"({"welcome":{"clientId":"abc123"}})");
  EXPECT_EQ(WelcomeFrame("q\"x"), R"({"welcome":{"clientId":"q\"x"}})");
}

TEST(FrameFromJsonText, StringGoesOutRaw) {
  EXPECT_EQ(Frame(R"("hi")"), "hi");
  EXPECT_EQ(Frame(R"("")"), "");
  EXPECT_EQ(Frame(R"(  "padded"  )"), "padded");
  EXPECT_EQ(Frame(R"("say \"hi\"\n")"), "say \"hi\"\n");
  EXPECT_EQ(Frame(R"("\u00e9")"), "\xC3\xA9");
  EXPECT_EQ(Frame(R"("{\"a\":1}")"), R"({"a":1})");
}

TEST(FrameFromJsonText, ObjectGoesOutCompact) {
  EXPECT_EQ(Frame(R"({ "a" : 1 })"), R"({"a":1})");
  EXPECT_EQ(Frame(R"({"a": {"b": [1, "x", null]}, "c": false})"),
            R"({"a":{"b":[1,"x",null]},"c":false})");
  EXPECT_EQ(Frame("{}"), "{}");
}

TEST(FrameFromJsonText, ArrayGoesOutCompact) {
  EXPECT_EQ(Frame("[1, 2,\n 3 ]"), "[1,2,3]");
  EXPECT_EQ(Frame(R"([ "a" , [ ] , { } ])"), R"(["a",[],{}])");
}

TEST(FrameFromJsonText, ScalarsGoOutCompact) {
  EXPECT_EQ(Frame("42"), "42");
  EXPECT_EQ(Frame(" -7 "), "-7");
  EXPECT_EQ(Frame("2.5"), "2.5");
  EXPECT_EQ(Frame("true"), "true");
  EXPECT_EQ(Frame("false"), "false");
  EXPECT_EQ(Frame("null"), "null");
}

TEST(FrameFromJsonText, WhitespaceIsRemoved) {
  EXPECT_EQ(Frame("\t{\r\n  \"k\" :\t[ 1 ,\n2 ] \n}\n"), R"({"k":[1,2]})");
}

TEST(FrameFromJsonText, InvalidJsonIsInvalidArgument) {
  ExpectInvalid("");
  ExpectInvalid("hi");
  ExpectInvalid("{");
  ExpectInvalid(R"({"a":1,})");
  ExpectInvalid("[1] [2]");
  ExpectInvalid(R"("\ud800")");
  ExpectInvalid("1e999");
  ExpectInvalid("'single'");
}

TEST(FrameFromJsonText, TooDeepIsInvalidArgument) {
  ExpectInvalid(std::string(10000, '[') + std::string(10000, ']'));
  ExpectInvalid("[[[1]]]", 2);
  EXPECT_EQ(Frame("[[1]]", 2), "[[1]]");
  absl::StatusOr<std::string> f = FrameFromJsonText("[[[1]]]", 2);
  ASSERT_FALSE(f.ok());
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "deeper", std::string(f.status().message()));
}

TEST(FrameFromJsonText, BracketsInStringsDoNotCountAsDepth) {
  EXPECT_EQ(Frame(R"("[[[[[")", 1), "[[[[[");
  EXPECT_EQ(Frame(R"(["\"[[[["])", 1), R"(["\"[[[["])");
}

TEST(DumpCompact, NoWhitespaceAndUtf8Kept) {
  const nlohmann::json j = {{"a", {1, 2}}, {"b", "\xC3\xA9"}};
  EXPECT_EQ(DumpCompact(j), "{\"a\":[1,2],\"b\":\"\xC3\xA9\"}");
}

TEST(DumpCompact, InvalidUtf8IsReplacedNotThrown) {
  const nlohmann::json j = std::string("x\xFFy");
  std::string out;
  EXPECT_NO_THROW(out = DumpCompact(j));
  EXPECT_EQ(out, "\"x\xEF\xBF\xBDy\"");  // U+FFFD
}

}  // namespace
}  // namespace sigd::protocol
