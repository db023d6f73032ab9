#include "server/protocol/inbound_message.h"

#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace sigd::protocol {
namespace {

// `count` opening brackets followed by as many closing ones.
std::string Nested(int count, char open = '[', char close = ']') {
  return std::string(count, open) + std::string(count, close);
}

void ExpectInvalid(std::string_view text, int max_depth = kDefaultMaxJsonDepth) {
  absl::StatusOr<InboundMessage> m = ParseInbound(text, max_depth);
  ASSERT_FALSE(m.ok()) << "accepted: " << text.substr(0, 80);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
  EXPECT_FALSE(m.status().message().empty());
}

// ---- valid messages ------------------------------------------------------

TEST(InboundMessage, ParsesEveryKey) {
  absl::StatusOr<InboundMessage> m =
      ParseInbound(R"({"message":{"a":1},"path":"/x","clientId":"abc","direct":true})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->MessageJson(), R"({"a":1})");
  EXPECT_EQ(m->frame, R"({"a":1})");
  EXPECT_EQ(m->path, "/x");
  EXPECT_EQ(m->client_id, "abc");
  EXPECT_TRUE(m->direct);
}

TEST(InboundMessage, OnlyMessageIsRequired) {
  absl::StatusOr<InboundMessage> m = ParseInbound(R"({"message":1})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->MessageJson(), "1");
  EXPECT_EQ(m->path, "");
  EXPECT_EQ(m->client_id, "");
  EXPECT_FALSE(m->direct);
}

TEST(InboundMessage, DirectFalseIsNotDirect) {
  absl::StatusOr<InboundMessage> m = ParseInbound(R"({"message":1,"direct":false})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->direct);
}

TEST(InboundMessage, KeysMatchCaseInsensitively) {
  absl::StatusOr<InboundMessage> m =
      ParseInbound(R"({"Message":"hi","PATH":"/p","ClientID":"id1","DiReCt":true})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->frame, "hi");
  EXPECT_EQ(m->path, "/p");
  EXPECT_EQ(m->client_id, "id1");
  EXPECT_TRUE(m->direct);
}

TEST(InboundMessage, UnknownKeysAreIgnored) {
  absl::StatusOr<InboundMessage> m =
      ParseInbound(R"({"message":2,"extra":[1,2],"type":"chat","path2":5,"direct_":"x"})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->MessageJson(), "2");
  EXPECT_EQ(m->path, "");
  EXPECT_EQ(m->client_id, "");
  EXPECT_FALSE(m->direct);
}

TEST(InboundMessage, EmptyPathAndClientIdCountAsAbsent) {
  absl::StatusOr<InboundMessage> m = ParseInbound(R"({"message":1,"path":"","clientId":""})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->path.empty());
  EXPECT_TRUE(m->client_id.empty());
  EXPECT_FALSE(m->direct);
}

// ---- the message value ---------------------------------------------------

struct MessageCase {
  const char* message;       // as written inside the frame
  const char* message_json;  // compact re-serialisation
  const char* frame;         // what goes out to clients
};

void PrintTo(const MessageCase& c, std::ostream* os) { *os << "message " << c.message; }

class InboundMessageValue : public ::testing::TestWithParam<MessageCase> {};

TEST_P(InboundMessageValue, AnyJsonValueIsAMessage) {
  const MessageCase& c = GetParam();
  absl::StatusOr<InboundMessage> m =
      ParseInbound(std::string(R"({"message": )") + c.message + "}");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->MessageJson(), c.message_json);
  EXPECT_EQ(m->frame, c.frame);
}

INSTANTIATE_TEST_SUITE_P(
    EveryJsonType, InboundMessageValue,
    ::testing::Values(MessageCase{"null", "null", "null"},
                      MessageCase{"true", "true", "true"},
                      MessageCase{"false", "false", "false"},
                      MessageCase{"42", "42", "42"},
                      MessageCase{"-2.5", "-2.5", "-2.5"},
                      MessageCase{R"("hi")", R"("hi")", "hi"},
                      MessageCase{R"("")", R"("")", ""},
                      MessageCase{R"("say \"hi\"")", R"("say \"hi\"")", R"(say "hi")"},
                      MessageCase{R"("caf\u00e9")", "\"caf\xC3\xA9\"", "caf\xC3\xA9"},
                      MessageCase{"[1, 2, [ ]]", "[1,2,[]]", "[1,2,[]]"},
                      MessageCase{R"({ "a" : 1 , "b" : [ true ] })", R"({"a":1,"b":[true]})",
                                  R"({"a":1,"b":[true]})"},
                      MessageCase{"{}", "{}", "{}"}));

TEST(InboundMessage, StringMessageGivesRawFrameAndQuotedJson) {
  absl::StatusOr<InboundMessage> m = ParseInbound(R"({"message":"hello world"})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->frame, "hello world");
  EXPECT_EQ(m->MessageJson(), "\"hello world\"");
  EXPECT_TRUE(m->message_is_string);
  // Escapes as compact JSON writes them, whichever way they were sent.
  m = ParseInbound("{\"message\":\"q\\\"b\\\\ \\u0001\\u00e9\\/\\n caf\xc3\xa9\"}");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->frame, "q\"b\\ \x01\xc3\xa9/\n caf\xc3\xa9");
  EXPECT_EQ(m->MessageJson(), "\"q\\\"b\\\\ \\u0001\xc3\xa9/\\n caf\xc3\xa9\"");
}

TEST(InboundMessage, KeyOrderIsKept) {
  absl::StatusOr<InboundMessage> m = ParseInbound(R"({"message":{"b":1,"a":2}})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->frame, R"({"b":1,"a":2})");
}

TEST(InboundMessage, NullMessageIsPresent) {
  absl::StatusOr<InboundMessage> m = ParseInbound(R"({"message":null})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->MessageJson(), "null");
  EXPECT_EQ(m->frame, "null");
}

// ---- invalid messages ----------------------------------------------------

TEST(InboundMessage, NonStringPathIsInvalid) {
  ExpectInvalid(R"({"message":1,"path":5})");
  ExpectInvalid(R"({"message":1,"path":["/x"]})");
  ExpectInvalid(R"({"message":1,"path":{"p":"/x"}})");
  ExpectInvalid(R"({"message":1,"path":true})");
  ExpectInvalid(R"({"message":1,"path":null})");  // null is not a string either
}

TEST(InboundMessage, NonStringClientIdIsInvalid) {
  ExpectInvalid(R"({"message":1,"clientId":7})");
  ExpectInvalid(R"({"message":1,"clientId":["a"]})");
  ExpectInvalid(R"({"message":1,"clientid":false})");
  ExpectInvalid(R"({"message":1,"clientId":null})");
}

TEST(InboundMessage, NonBooleanDirectIsInvalid) {
  ExpectInvalid(R"({"message":1,"direct":"true"})");
  ExpectInvalid(R"({"message":1,"direct":1})");
  ExpectInvalid(R"({"message":1,"direct":[]})");
  ExpectInvalid(R"({"message":1,"direct":null})");
}

TEST(InboundMessage, MissingMessageIsInvalid) {
  ExpectInvalid(R"({})");
  ExpectInvalid(R"({"path":"/x","clientId":"a","direct":true})");
  ExpectInvalid(R"({"messages":1})");
}

TEST(InboundMessage, NonObjectIsInvalid) {
  ExpectInvalid(R"([{"message":1}])");
  ExpectInvalid(R"("message")");
  ExpectInvalid("42");
  ExpectInvalid("null");
  ExpectInvalid("true");
}

TEST(InboundMessage, InvalidJsonIsInvalid) {
  ExpectInvalid(R"({"message":1)");
  ExpectInvalid(R"({"message":1}})");
  ExpectInvalid(R"({'message':1})");
  ExpectInvalid(R"({message:1})");
  ExpectInvalid(R"({"message":1,})");
  ExpectInvalid(R"({"message":1} {"message":2})");
  ExpectInvalid("not json");
}

TEST(InboundMessage, LoneSurrogateIsInvalid) {
  ExpectInvalid(R"({"message":"\ud800"})");
  ExpectInvalid(R"({"message":"\udc00x"})");
}

TEST(InboundMessage, OverflowingNumberIsInvalid) {
  ExpectInvalid(R"({"message":1e999})");
  ExpectInvalid(R"({"message":-1e999})");
}

TEST(InboundMessage, EmptyInputIsInvalid) {
  ExpectInvalid("");
  ExpectInvalid("   ");
}

// ---- nesting depth -------------------------------------------------------

TEST(InboundMessage, TenThousandDeepArrayIsRejectedWithoutCrashing) {
  ExpectInvalid(Nested(10000));
  ExpectInvalid(std::string(10000, '['));  // unterminated as well
}

TEST(InboundMessage, TenThousandDeepMessageIsRejectedWithoutCrashing) {
  ExpectInvalid(R"({"message":)" + Nested(10000) + "}");
  ExpectInvalid(R"({"message":)" + Nested(10000, '{', '}') + "}");  // also invalid JSON
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(10000, '}');
  ExpectInvalid(R"({"message":)" + objects + "}");
}

TEST(InboundMessage, DepthRejectionSaysWhy) {
  absl::StatusOr<InboundMessage> m = ParseInbound(R"({"message":)" + Nested(100) + "}", 64);
  ASSERT_FALSE(m.ok());
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "64", std::string(m.status().message()));
}

TEST(InboundMessage, DepthExactlyAtTheLimitIsAccepted) {
  // The frame object is one level, so the message may nest max_depth - 1.
  const int limit = kDefaultMaxJsonDepth;
  const std::string at_limit = R"({"message":)" + Nested(limit - 1) + "}";
  absl::StatusOr<InboundMessage> m = ParseInbound(at_limit, limit);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->MessageJson(), Nested(limit - 1));

  ExpectInvalid(R"({"message":)" + Nested(limit) + "}", limit);
}

TEST(InboundMessage, SmallDepthLimitApplies) {
  EXPECT_TRUE(ParseInbound(R"({"message":[1]})", 2).ok());
  ExpectInvalid(R"({"message":[[1]]})", 2);
  ExpectInvalid(R"({"message":{"a":{}}})", 2);
}

TEST(WithinJsonDepth, CountsArraysAndObjects) {
  EXPECT_TRUE(WithinJsonDepth("", 0));
  EXPECT_TRUE(WithinJsonDepth("1", 0));
  EXPECT_FALSE(WithinJsonDepth("[]", 0));
  EXPECT_TRUE(WithinJsonDepth("[]", 1));
  EXPECT_TRUE(WithinJsonDepth("[[]]", 2));
  EXPECT_FALSE(WithinJsonDepth("[[]]", 1));
  EXPECT_FALSE(WithinJsonDepth(R"({"a":[{}]})", 2));
  EXPECT_TRUE(WithinJsonDepth(R"({"a":[{}]})", 3));
}

TEST(WithinJsonDepth, SiblingsDoNotAddUp) {
  EXPECT_TRUE(WithinJsonDepth("[[],[],[],[[]]]", 3));
  EXPECT_FALSE(WithinJsonDepth("[[],[],[],[[[]]]]", 3));
}

TEST(WithinJsonDepth, BracketsInsideStringsAreNotCounted) {
  EXPECT_TRUE(WithinJsonDepth(R"({"a":"[[[[{{{{"})", 1));
  EXPECT_TRUE(WithinJsonDepth(R"(["]]]]", "[[[["])", 1));
}

TEST(WithinJsonDepth, EscapedQuotesDoNotEndAString) {
  // The \" keeps the string open, so the brackets after it are still text.
  EXPECT_TRUE(WithinJsonDepth(R"({"a":"x\"[[[[","b":1})", 1));
  // An escaped backslash does end it: \\" closes the string, and the
  // brackets that follow count.
  EXPECT_FALSE(WithinJsonDepth(R"({"a":"x\\",[[[1]]]})", 3));
  EXPECT_TRUE(WithinJsonDepth(R"({"a":"x\\",[[[1]]]})", 4));
}

TEST(InboundMessage, BracketsInsideStringsDoNotTripTheDepthLimit) {
  const std::string many(200, '[');
  absl::StatusOr<InboundMessage> m =
      ParseInbound(R"({"message":"a\")" + many + R"("})", 4);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->frame, "a\"" + many);
}

}  // namespace
}  // namespace sigd::protocol
