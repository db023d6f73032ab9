#include "server/util/url.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace sigd::util {
namespace {

using Query = std::map<std::string, std::string>;

std::string Decode(std::string_view in, bool plus_as_space = false) {
  absl::StatusOr<std::string> out = PercentDecode(in, plus_as_space);
  EXPECT_TRUE(out.ok()) << in << ": " << out.status();
  return out.ok() ? *out : "<error>";
}

Target Parse(std::string_view target) {
  absl::StatusOr<Target> t = ParseTarget(target);
  EXPECT_TRUE(t.ok()) << target << ": " << t.status();
  return t.ok() ? *t : Target{"<error>", {}};
}

void ExpectBadDecode(std::string_view in) {
  for (bool plus : {false, true}) {
    absl::StatusOr<std::string> out = PercentDecode(in, plus);
    ASSERT_FALSE(out.ok()) << "decoded \"" << in << "\" to \"" << *out << "\"";
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

void ExpectBadTarget(std::string_view target) {
  absl::StatusOr<Target> t = ParseTarget(target);
  ASSERT_FALSE(t.ok()) << "accepted \"" << target << "\" as path \"" << t->path << "\"";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PercentDecode, DecodesEscapes) {
  EXPECT_EQ(Decode("/chat%20room"), "/chat room");
  EXPECT_EQ(Decode("a%2Fb"), "a/b");
  EXPECT_EQ(Decode("a%2fb"), "a/b");
  EXPECT_EQ(Decode("%41%42%43"), "ABC");
  EXPECT_EQ(Decode("%25"), "%");
  EXPECT_EQ(Decode("%2520"), "%20");  // decoded once, not twice
}

TEST(PercentDecode, DecodesUtf8Escapes) {
  EXPECT_EQ(Decode("/caf%C3%A9"), "/caf\xC3\xA9");
  EXPECT_EQ(Decode("%E2%82%AC"), "\xE2\x82\xAC");  // euro sign
  EXPECT_EQ(Decode("%F0%9F%98%80"), "\xF0\x9F\x98\x80");
}

TEST(PercentDecode, LeavesPlainTextAlone) {
  EXPECT_EQ(Decode(""), "");
  EXPECT_EQ(Decode("/a/b-c_d.e~f"), "/a/b-c_d.e~f");
  EXPECT_EQ(Decode("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(PercentDecode, PlusIsASpaceOnlyWhenAsked) {
  EXPECT_EQ(Decode("a+b", /*plus_as_space=*/false), "a+b");
  EXPECT_EQ(Decode("a+b", /*plus_as_space=*/true), "a b");
  EXPECT_EQ(Decode("a%2Bb", /*plus_as_space=*/true), "a+b");
}

TEST(PercentDecode, BadEscapesAreInvalid) {
  ExpectBadDecode("%");
  ExpectBadDecode("%2");
  ExpectBadDecode("abc%");
  ExpectBadDecode("abc%4");
  ExpectBadDecode("%zz");
  ExpectBadDecode("%g0");
  ExpectBadDecode("%0g");
  ExpectBadDecode("% 20");
  ExpectBadDecode("%00");
  ExpectBadDecode("a%00b");
}

TEST(ParseTarget, SplitsPathAndQuery) {
  const Target t = Parse("/chat%20room?welcome=1&x=y");
  EXPECT_EQ(t.path, "/chat room");
  EXPECT_EQ(t.query, (Query{{"welcome", "1"}, {"x", "y"}}));
}

TEST(ParseTarget, PathWithoutQuery) {
  const Target t = Parse("/messages");
  EXPECT_EQ(t.path, "/messages");
  EXPECT_TRUE(t.query.empty());
  EXPECT_EQ(Parse("/").path, "/");
}

TEST(ParseTarget, PathKeepsPlusAndTrailingSlash) {
  EXPECT_EQ(Parse("/a+b").path, "/a+b");
  EXPECT_EQ(Parse("/chat/").path, "/chat/");
}

TEST(ParseTarget, EscapedQuestionMarkStaysInThePath) {
  const Target t = Parse("/a%3Fb?c=d");
  EXPECT_EQ(t.path, "/a?b");
  EXPECT_EQ(t.query, (Query{{"c", "d"}}));
}

TEST(ParseTarget, QueryIsDecodedWithPlusAsSpace) {
  const Target t = Parse("/p?name=Ada+Lovelace&sym=a%2Bb&k%20ey=%C3%A9");
  EXPECT_EQ(t.query, (Query{{"name", "Ada Lovelace"}, {"sym", "a+b"}, {"k ey", "\xC3\xA9"}}));
}

TEST(ParseTarget, RepeatedKeysFirstWins) {
  EXPECT_EQ(Parse("/p?a=1&a=2&a=3").query, (Query{{"a", "1"}}));
  EXPECT_EQ(Parse("/p?a&a=2").query, (Query{{"a", ""}}));
}

TEST(ParseTarget, KeysWithoutEqualsHaveEmptyValues) {
  EXPECT_EQ(Parse("/p?welcome&x=1").query, (Query{{"welcome", ""}, {"x", "1"}}));
  EXPECT_EQ(Parse("/p?x=").query, (Query{{"x", ""}}));
  EXPECT_EQ(Parse("/p?x=a=b").query, (Query{{"x", "a=b"}}));
}

TEST(ParseTarget, EmptyPairsAreSkipped) {
  EXPECT_EQ(Parse("/p?&&a=1&&b=2&").query, (Query{{"a", "1"}, {"b", "2"}}));
  EXPECT_TRUE(Parse("/p?").query.empty());
  EXPECT_TRUE(Parse("/p?&").query.empty());
  EXPECT_EQ(Parse("/p?").path, "/p");
}

TEST(ParseTarget, FragmentIsDropped) {
  EXPECT_EQ(Parse("/p#frag").path, "/p");
  EXPECT_TRUE(Parse("/p#frag").query.empty());
  const Target t = Parse("/p?a=1#frag&b=2");
  EXPECT_EQ(t.path, "/p");
  EXPECT_EQ(t.query, (Query{{"a", "1"}}));
}

TEST(ParseTarget, TargetMustStartWithSlash) {
  ExpectBadTarget("");
  ExpectBadTarget("chat");
  ExpectBadTarget("?a=1");
  ExpectBadTarget("http://host/chat");
  ExpectBadTarget("*");
  ExpectBadTarget("%2Fchat");
}

TEST(ParseTarget, BadEscapesAreInvalid) {
  ExpectBadTarget("/a%");
  ExpectBadTarget("/a%zz");
  ExpectBadTarget("/a%00b");
  ExpectBadTarget("/a?x=%2");
  ExpectBadTarget("/a?%zz=1");
  ExpectBadTarget("/a?x=%00");
}

TEST(RemoveQueryParam, CutsEveryTokenPairAndKeepsTheRestVerbatim) {
  std::optional<std::string> token;
  EXPECT_EQ(RemoveQueryParam("/chat?welcome=1&token=abc.def&x=%20y", "token", &token),
            "/chat?welcome=1&x=%20y");
  EXPECT_EQ(token, "abc.def");
  EXPECT_EQ(RemoveQueryParam("/chat?token=a&%74oken=b&token", "token", &token), "/chat");
  EXPECT_EQ(token, "a");  // the first one counts; every one is removed
  EXPECT_EQ(RemoveQueryParam("/chat?tokens=1&a=2", "token", &token), "/chat?tokens=1&a=2");
  EXPECT_EQ(token, std::nullopt);
  EXPECT_EQ(RemoveQueryParam("/chat", "token", &token), "/chat");
  EXPECT_EQ(token, std::nullopt);
  EXPECT_EQ(RemoveQueryParam("/c?token=%zz&a=1", "token", &token), "/c?a=1");
  EXPECT_EQ(token, "");  // a bad escape is no token, and is still removed
}

}  // namespace
}  // namespace sigd::util
