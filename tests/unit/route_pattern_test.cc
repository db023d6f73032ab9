#include "server/routes/route_pattern.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace sigd::routes {
namespace {

RoutePattern Parse(std::string_view text) {
  absl::StatusOr<RoutePattern> p = RoutePattern::Parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return p.ok() ? *p : *RoutePattern::Parse("/never-matches-anything-in-these-tests");
}

void ExpectInvalid(std::string_view text) {
  absl::StatusOr<RoutePattern> p = RoutePattern::Parse(text);
  ASSERT_FALSE(p.ok()) << "accepted \"" << text << "\"";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, std::string(text), std::string(p.status().message()));
}

TEST(RoutePattern, ExactMatchesOnlyItself) {
  const RoutePattern p = Parse("/messages");
  EXPECT_FALSE(p.is_prefix());
  EXPECT_EQ(p.text(), "/messages");
  EXPECT_TRUE(p.Matches("/messages"));
  EXPECT_FALSE(p.Matches("/messages/"));
  EXPECT_FALSE(p.Matches("/messages/a"));
  EXPECT_FALSE(p.Matches("/message"));
  EXPECT_FALSE(p.Matches("/messagesx"));
  EXPECT_FALSE(p.Matches(""));
}

TEST(RoutePattern, RootIsAnExactPattern) {
  const RoutePattern p = Parse("/");
  EXPECT_TRUE(p.Matches("/"));
  EXPECT_FALSE(p.Matches("/a"));
}

TEST(RoutePattern, PrefixMatchesEverythingBelowIt) {
  const RoutePattern p = Parse("/chat/*");
  EXPECT_TRUE(p.is_prefix());
  EXPECT_EQ(p.text(), "/chat/*");
  EXPECT_TRUE(p.Matches("/chat/a"));
  EXPECT_TRUE(p.Matches("/chat/a/b"));
  EXPECT_TRUE(p.Matches("/chat/*"));
}

TEST(RoutePattern, PrefixDoesNotMatchItsParentOrSiblings) {
  const RoutePattern p = Parse("/chat/*");
  EXPECT_FALSE(p.Matches("/chat"));
  EXPECT_FALSE(p.Matches("/chat/"));
  EXPECT_FALSE(p.Matches("/chatx"));
  EXPECT_FALSE(p.Matches("/chatx/a"));
  EXPECT_FALSE(p.Matches("/cha"));
  EXPECT_FALSE(p.Matches("/other/chat/a"));
}

TEST(RoutePattern, RootPrefixMatchesEveryNonRootPath) {
  const RoutePattern p = Parse("/*");
  EXPECT_TRUE(p.Matches("/a"));
  EXPECT_TRUE(p.Matches("/a/b"));
  EXPECT_FALSE(p.Matches("/"));
}

TEST(RoutePattern, MatchingIsCaseSensitive) {
  EXPECT_FALSE(Parse("/Chat").Matches("/chat"));
  EXPECT_FALSE(Parse("/chat").Matches("/CHAT"));
  EXPECT_FALSE(Parse("/chat/*").Matches("/Chat/a"));
  EXPECT_TRUE(Parse("/chat/*").Matches("/chat/A"));
}

TEST(RoutePattern, InvalidPatternsAreRejected) {
  ExpectInvalid("");
  ExpectInvalid("chat");
  ExpectInvalid("chat/*");
  ExpectInvalid("*");
  ExpectInvalid("/chat/*/x");
  ExpectInvalid("/*/x");
  ExpectInvalid("/chat*");
  ExpectInvalid("/ch*t");
  ExpectInvalid("/chat/**");
  ExpectInvalid("/chat/a*");
}

TEST(RoutePattern, EqualityIsByText) {
  EXPECT_EQ(Parse("/a/*"), Parse("/a/*"));
  EXPECT_FALSE(Parse("/a/*") == Parse("/a"));
}

TEST(RoutePattern, ExactIsMoreSpecificThanAnyPrefix) {
  EXPECT_GT(Parse("/a").Specificity(), Parse("/a/*").Specificity());
  EXPECT_GT(Parse("/a").Specificity(), Parse("/a/b/c/d/e/f/g/*").Specificity());
  EXPECT_GT(Parse("/").Specificity(), Parse("/*").Specificity());
}

TEST(RoutePattern, LongerPrefixIsMoreSpecific) {
  EXPECT_GT(Parse("/a/b/*").Specificity(), Parse("/a/*").Specificity());
  EXPECT_GT(Parse("/a/*").Specificity(), Parse("/*").Specificity());
  EXPECT_EQ(Parse("/a/*").Specificity(), Parse("/b/*").Specificity());
}

TEST(RoutePattern, ExactPatternsAreEquallySpecific) {
  EXPECT_EQ(Parse("/a").Specificity(), Parse("/a/b/c").Specificity());
}

}  // namespace
}  // namespace sigd::routes
