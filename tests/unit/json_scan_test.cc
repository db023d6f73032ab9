#include "server/protocol/json_scan.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/protocol/frames.h"
#include "server/protocol/inbound_message.h"
#include "server/protocol/json_compact.h"

namespace sigd::protocol {
namespace {

// The scanner's compact form of `text` as one whole value, or nullopt where
// it declines.
std::optional<std::string> Scan(std::string_view text, int max_depth = kDefaultMaxJsonDepth) {
  JsonScanner scan(text, max_depth);
  std::string out;
  if (!scan.Value(0, &out) || !scan.AtEndAfterSpace()) return std::nullopt;
  return out;
}

std::string TreeCompact(std::string_view text) {
  return DumpCompact(nlohmann::ordered_json::parse(text));
}

// `got`, read from `text`, is what the parse tree gives for it: the same
// fields, or the same error.
void ExpectAsTheTree(const absl::StatusOr<InboundMessage>& got, std::string_view text) {
  const absl::StatusOr<InboundMessage> tree = detail::ParseInboundWithTree(text, 64);
  const std::string_view shown = text.substr(0, 80);
  ASSERT_EQ(got.ok(), tree.ok()) << shown << ": " << got.status() << " / " << tree.status();
  if (!got.ok()) {
    EXPECT_EQ(got.status(), tree.status()) << shown;
    return;
  }
  EXPECT_EQ(got->MessageJson(), tree->MessageJson()) << shown;
  EXPECT_EQ(got->frame, tree->frame) << shown;
  EXPECT_EQ(got->path, tree->path) << shown;
  EXPECT_EQ(got->client_id, tree->client_id) << shown;
  EXPECT_EQ(got->message_is_string, tree->message_is_string) << shown;
  EXPECT_EQ(got->direct, tree->direct) << shown;
}

// Whatever the scanner writes is what nlohmann's parse and dump give.
TEST(JsonScan, WritesWhatTheParseTreeWould) {
  for (std::string_view text : {
           R"({"a":1})",
           " { \"a\" : [ 1 , -2 , 0 ] ,\n\t\"b\" : { } , \"c\" : [ ] }\r\n",
           R"(["q\"uote","back\\slash","\b\f\n\r\t"])",
           "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
           R"([true,false,null,123456789012345678,-123456789012345678])",
           // Numbers nlohmann rewrites, written as it writes them.
           "[1.50,1e2,1E2,-0,-0.0,0.1,1e-7,123.456e3,2.5E-3]",
           "[1234567890123456789,18446744073709551615,18446744073709551616]",
           "[-9223372036854775808,-9223372036854775809,1e308]",
           R"({"nested":{"a":{"a":{"a":1}}},"a":2})",
           "\"a string long enough for the eight-byte steps, with \\\"escapes\\\" late\"",
       }) {
    std::optional<std::string> scanned = Scan(text);
    ASSERT_TRUE(scanned.has_value()) << "declined: " << text;
    EXPECT_EQ(*scanned, TreeCompact(text)) << text;
  }
  EXPECT_EQ(Scan(" [ 1 , { \"a\" : true } ] "), R"([1,{"a":true}])");
  EXPECT_EQ(Scan(R"("tab\tquote\"")"), R"("tab\tquote\"")");
}

// Strings with \u and \/ escapes are written back as nlohmann's dump writes
// their values: resolved to UTF-8, a control character as \u00xx (in lower
// case), a quote or backslash with its two-character escape.
TEST(JsonScan, WritesEscapedStringsAsTheParseTreeWould) {
  for (std::string_view text : {
           R"("\u0041")",
           R"("a\/b")",
           R"(["\u00e9\u00E9","\u20ac","\ud83d\ude00","\uD83D\uDE00x","\u0000\u001F\u001f"])",
           R"("\u0008\u0009\u000a\u000C\u000d\u0022\u005c\u005C\u002f\u007f\u0020")",
           R"({"k":"\u4e2d\u6587 \"q\" \n mixed \/ with plain \\ text"})",
           "\"\\u00e9 and caf\xc3\xa9 and a long plain run for the eight-byte steps\"",
       }) {
    std::optional<std::string> scanned = Scan(text);
    ASSERT_TRUE(scanned.has_value()) << "declined: " << text;
    EXPECT_EQ(*scanned, TreeCompact(text)) << text;
  }
  EXPECT_EQ(Scan(R"("\u0041\/\u0001\u005C")"), R"("A/\u0001\\")");
  EXPECT_EQ(Scan(R"("\ud83d\ude00")"), "\"\xf0\x9f\x98\x80\"");
  // Validation only (no output) takes them too.
  JsonScanner scan(R"(["\u0041\/"])", kDefaultMaxJsonDepth);
  EXPECT_TRUE(scan.Value(0, nullptr) && scan.AtEndAfterSpace());
}

// What nlohmann would rewrite in ways the scanner does not, it leaves to
// the SAX path.
TEST(JsonScan, DeclinesWhatTheParseTreeNormalises) {
  for (std::string_view text : {
           R"({"\u0041":1})",  // a key with an escape: equal keys may differ as text
           R"({"a\/b":1})",
           R"({"a":1,"a":2})",  // -> {"a":2}
           R"({"a":{"b":1,"b":2}})",
       }) {
    EXPECT_EQ(Scan(text), std::nullopt) << text;
  }
  // The same key in different objects is no repeat.
  EXPECT_EQ(Scan(R"({"a":{"a":1},"b":{"a":2}})"), R"({"a":{"a":1},"b":{"a":2}})");
}

// Objects of many keys (their keys go to a hash set past the first few) are
// taken while no key repeats, at any nesting, and declined on a repeat.
TEST(JsonScan, FindsARepeatedKeyAmongMany) {
  const auto keys = [](int from, int to) {
    std::string out;
    for (int i = from; i < to; ++i) out += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
    return out;
  };
  const std::string many = "{\"first\":0" + keys(0, 100) + "}";
  ASSERT_EQ(Scan(many), TreeCompact(many));
  // Large objects inside large objects, and the same keys in each.
  const std::string nested = "{\"a\":" + many + keys(0, 40) + ",\"b\":[" + many + "," + many +
                             "]" + keys(40, 80) + ",\"c\":{\"first\":1" + keys(0, 20) + "}}";
  ASSERT_EQ(Scan(nested), TreeCompact(nested));
  for (const std::string& repeated : {
           "{\"first\":0" + keys(0, 100) + ",\"k50\":1}",   // among the set's keys
           "{\"first\":0" + keys(0, 100) + ",\"first\":1}", // the first, moved into the set
           "{\"first\":0" + keys(0, 10) + ",\"k3\":1" + keys(10, 50) + "}",
           "{\"x\":" + many + keys(0, 40) + ",\"k39\":1}",   // after a large inner object
           "[" + many + ",{\"first\":0" + keys(0, 30) + ",\"k29\":0}]",
       }) {
    EXPECT_EQ(Scan(repeated), std::nullopt) << repeated.substr(0, 60);
    EXPECT_EQ(*FrameFromJsonText(repeated, kDefaultMaxJsonDepth), TreeCompact(repeated));
  }
}

TEST(JsonScan, DeclinesEveryError) {
  for (std::string_view text : {
           "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\"}", "{\"a\" 1}", "{1:1}", "01", "-",
           "1 2", "tru", "nul", "1.", ".5", "1e", "1e+", "+1", "1e400", "-1e400",
           "[1,{\"x\":1e999}]", "\"open", "\"bad \\x escape\"", "\"raw \x01 control\"",
           "\"\xc0\x80\"",          // overlong
           "\"\xed\xa0\x80\"",      // a surrogate
           "\"\xf4\x90\x80\x80\"",  // past U+10FFFF
           "\"\xe2\x82\"",          // cut short
           // \u escapes nlohmann's lexer rejects.
           R"("\u00")", R"("\u00g0")", R"("\ud800")", R"("\ud800x")", R"("\ud800\u0041")",
           R"("\ud800\ud800")", R"("\udc00")", R"("\ud83d\")", R"("\u")",
           "\xef\xbb\xbf{}",        // a byte-order mark: nlohmann decides
           "[1]]", "{}}",
       }) {
    EXPECT_EQ(Scan(text), std::nullopt) << text;
  }
}

TEST(JsonScan, DeclinesNestingPastTheLimit) {
  EXPECT_EQ(Scan("[[1]]", 2), "[[1]]");
  EXPECT_EQ(Scan("[[[1]]]", 2), std::nullopt);
  EXPECT_EQ(Scan("[[],[[]]]", 2), std::nullopt);
  EXPECT_EQ(Scan("[[],[]]", 2), "[[],[]]");
}

TEST(JsonScan, DecodesEveryEscape) {
  JsonScanner scan(R"("a\"b\\c\bd\fe\nf\rg\th")", kDefaultMaxJsonDepth);
  std::string_view token;
  bool verbatim = false;
  ASSERT_TRUE(scan.String(&token, &verbatim));
  EXPECT_TRUE(verbatim);
  EXPECT_EQ(JsonScanner::Decode(token), "a\"b\\c\bd\fe\nf\rg\th");
  EXPECT_EQ(JsonScanner::Decode(R"("")"), "");
  JsonScanner escaped(R"("\u0041\/\u00e9\ud83d\ude00\u0000.")", kDefaultMaxJsonDepth);
  ASSERT_TRUE(escaped.String(&token, &verbatim));
  EXPECT_FALSE(verbatim);
  EXPECT_EQ(JsonScanner::Decode(token), std::string("A/\xc3\xa9\xf0\x9f\x98\x80\0.", 10));
}

// Each input through ParseInbound and FrameFromJsonText gives what the parse
// tree alone gives: the same fields, or the same error.
TEST(JsonScan, InboundAndBackendPathsAgreeWithTheParseTree) {
  for (std::string_view text : {
           R"({"message":"hi"})",
           R"({"Message":{"b":[1,2]},"PATH":"/p","clientid":"c","Direct":true})",
           R"({"message":1,"message":2})",
           R"({"MESSAGE":"x","message":"y"})",
           R"({"message":1,"path":5})",
           R"({"message":1,"path":"/a","Path":5})",
           R"({"message":1,"direct":"yes"})",
           R"({"message":{"a":1,"a":2}})",
           R"({"message":"\u00e9\/"})",
           R"({"message":"\u0022\u005c\u0001\u007f","path":"/\u00e9","clientId":"\ud83d\ude00"})",
           R"({"m\u0065ssage":["\u0041"],"message":"x"})",
           R"({"message":"\ud800"})",
           R"({"message":1.5,"other":{"x":[1,{"y":null}]}})",
           R"({"path":"/only"})",
           R"({})",
           R"([1])",
           R"("just a string")",
           R"({"message":"a\"b"} trailing)",
           "\xef\xbb\xbf{\"message\":1}",
           "{\"message\":\"\xed\xa0\x80\"}",
       }) {
    ExpectAsTheTree(ParseInbound(text), text);
    const absl::StatusOr<std::string> frame = FrameFromJsonText(text, 64);
    const absl::StatusOr<std::string> frame_tree = detail::FrameFromJsonTextWithTree(text, 64);
    ASSERT_EQ(frame.ok(), frame_tree.ok()) << text;
    if (frame.ok()) {
      EXPECT_EQ(*frame, *frame_tree) << text;
    } else {
      EXPECT_EQ(frame.status(), frame_tree.status()) << text;
    }
  }
}

// The messages pages send go through the scan, not the slower path.
TEST(JsonScan, TakesTheMessagesPagesSend) {
  for (std::string_view text : {
           R"({"message":"hi"})",
           R"({"message":"hi","path":"/room"})",
           R"({"Message":{"type":"chat","text":"a \"quote\"\n","ts":1732900000123,"x":0.25},"clientId":"ab12","direct":false})",
           R"({"message":[1,2.5,-3e-2,null,true,{}]})",
           "{\"message\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
           // What Python's json.dumps writes by default (ensure_ascii) and
           // JSON.stringify for a control character.
           R"({"message": {"text": "caf\u00e9 \ud83d\ude00", "tab": "a\u0001b"}, "path": "/caf\u00e9"})",
           R"({"message":"\u00e9\/"})",
       }) {
    EXPECT_TRUE(detail::ScanAccepts(text, kDefaultMaxJsonDepth)) << text;
  }
  // And declines the rest, which the second path then takes.
  for (std::string_view text : {
           R"({"m\u0065ssage":"hi"})",
           R"({"message":1,"message":2})",
           R"({"message":"hi",)",
       }) {
    EXPECT_FALSE(detail::ScanAccepts(text, kDefaultMaxJsonDepth)) << text;
  }
}

// The second path (json_compact.h) gives what the tree gives, for what the
// scan declines and for what it takes.
TEST(JsonCompact, AgreesWithTheParseTree) {
  std::string many_keys = R"({"message":{)";
  for (int i = 0; i < 5000; ++i) many_keys += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  many_keys += R"("last":"\u0041\/"}})";
  for (const std::string& text : std::vector<std::string>{
           R"({"message":{"a":1,"b":[{"c":2,"c":[3]}],"a":{"d":null}}})",
           R"({"message":"\u00e9\ud83d\ude00\/\u0001","PATH":"/\u0070","path":7})",
           R"({"message":[1.50,1e2,-0,-0.0,18446744073709551616,1e-400]})",
           R"({"direct":true,"message":{},"clientid":"\u0063"})",
           "\xef\xbb\xbf{\"message\":1}",
           R"({"message":1,"direct":"no"})",
           R"({"message":1,"clientId":[]})",
           R"({"path":"/x"})",
           R"([{"message":1}])",
           R"({"message":1)",
           R"({"message":1e400})",
           "{\"message\":\"\xff\"}",
           many_keys,
           // Nested as deep as the limit allows, with a large string at the
           // bottom: written out once, not copied at every level.
           std::string(63, '[') + "\"\\u0041" + std::string(20000, 'x') + "\"" +
               std::string(63, ']'),
           R"({"message":)" + std::string(62, '[') + "{\"k\":1,\"k\":\"\\u0041\"}" +
               std::string(62, ']') + "}",
       }) {
    ExpectAsTheTree(detail::ParseInboundCompact(text, 64), text);
  }
}

TEST(JsonCompact, ARepeatedKeyKeepsItsFirstPlaceAndItsLastValue) {
  const std::string text = R"({"a":{"x":1},"b":{"x":[1]},"a":[2,{"c":3,"c":{"d":1}}],"b":"\u0034"})";
  const std::optional<CompactJson> v = CompactJsonOf(text, /*members=*/false);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->json, R"({"a":[2,{"c":{"d":1}}],"b":"4"})");
  EXPECT_EQ(v->json, DumpCompact(nlohmann::ordered_json::parse(text)));
  const std::optional<CompactJson> envelope = CompactJsonOf(text, /*members=*/true);
  ASSERT_TRUE(envelope.has_value());
  ASSERT_EQ(envelope->members.size(), 2u);
  EXPECT_EQ(envelope->members[0].key, "a");
  EXPECT_EQ(envelope->members[0].value.json, R"([2,{"c":{"d":1}}])");
  EXPECT_EQ(envelope->members[1].value.kind, CompactJson::kString);
  EXPECT_EQ(envelope->members[1].value.text, "4");
}

// A string value written as nlohmann's dump writes it: every ASCII byte,
// text past ASCII, and an empty string.
TEST(JsonCompact, WritesStringsAsDumpDoes) {
  std::string every_ascii;
  for (int c = 0; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  for (const std::string& value : {every_ascii, std::string("caf\xc3\xa9 \xf0\x9f\x98\x80 \x7f"),
                                   std::string()}) {
    std::string out = "x";
    AppendJsonString(value, &out);
    EXPECT_EQ(out, "x" + DumpCompact(nlohmann::ordered_json(value)));
  }
}

TEST(JsonCompact, RejectsWhatIsNotOneJsonValue) {
  for (std::string_view text : {"", "{", "[1,]", "1 2", "{\"a\":1,}", "\"\\x\"", "1e400"}) {
    EXPECT_FALSE(CompactJsonOf(text, /*members=*/false).has_value()) << text;
  }
}

// What docs/protocol.md promises about the frame of a non-string message.
TEST(JsonScan, NormalisesAsDocumented) {
  const auto frame = [](std::string_view text) {
    absl::StatusOr<InboundMessage> m = ParseInbound(text);
    return m.ok() ? m->frame : "rejected: " + std::string(m.status().message());
  };
  EXPECT_EQ(frame(R"({"message":{"b":1,"a":[1,2]}})"), R"({"b":1,"a":[1,2]})");
  EXPECT_EQ(frame(R"({"message":{"a":1,"b":2,"a":3}})"), R"({"a":3,"b":2})");
  EXPECT_EQ(frame(R"({"message":[1.50,1e2,-0,7]})"), "[1.5,100.0,0,7]");
  EXPECT_EQ(frame(R"({"message":["\u0041\/"]})"), R"(["A/"])");
  EXPECT_EQ(frame(R"({"message":["\u0041\/\u00e9\u001F\u000A"]})"),
            "[\"A/\xc3\xa9\\u001f\\n\"]");
}

// A frame is counted by its size in a client's outbound queue, so it must
// not hold much more memory than that: not the rest of a large envelope,
// nor the space of escapes that decoding removed, nor a backend's
// indentation.
TEST(JsonScan, FramesHoldNoMoreMemoryThanTheirSize) {
  const std::string pad(64000, 'x');
  for (const std::string& text : {
           R"({"message":0,"pad":")" + pad + R"("})",
           R"({"message":[1,2],"pad":")" + pad + R"("})",
           R"({"message":")" + [] {
             std::string escapes;
             for (int i = 0; i < 10000; ++i) escapes += "\\u0041";
             return escapes;
           }() + R"("})",
           R"({"message":{"k":1,"k":2},"pad":")" + pad + R"("})",  // the SAX path
       }) {
    const absl::StatusOr<InboundMessage> m = ParseInbound(text);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_LE(m->frame.capacity(), m->frame.size() + std::max<size_t>(256, m->frame.size() / 4))
        << text.substr(0, 40) << ": " << m->frame.size() << " bytes in " << m->frame.capacity();
  }
  const std::string spaced = "[1" + std::string(100000, ' ') + "]";
  const absl::StatusOr<std::string> frame = FrameFromJsonText(spaced, kDefaultMaxJsonDepth);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, "[1]");
  EXPECT_LE(frame->capacity(), 256u + 3u);
}

// A large message, as a page posting a document would send: relayed whole,
// escapes resolved, and re-serialised as the tree would.
TEST(JsonScan, RelaysALargeMessage) {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "line \"" + std::to_string(i) + "\"\\n caf\xc3\xa9 ";
  std::string escaped;
  for (char c : body) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  const std::string text = R"({"message":")" + escaped + R"(","path":"/docs"})";
  const absl::StatusOr<InboundMessage> m = ParseInbound(text);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->frame, body);
  EXPECT_EQ(m->path, "/docs");
  const absl::StatusOr<InboundMessage> tree = detail::ParseInboundWithTree(text, 64);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(m->MessageJson(), tree->MessageJson());
}

}  // namespace
}  // namespace sigd::protocol
