// The compact form of any JSON text, through nlohmann-json's SAX events: what
// the one-pass scan (json_scan.h) declines goes here.
//
// Why not nlohmann's parse tree: ordered_json keeps an object's keys in a
// vector and finds each new key by linear search, so one object of n keys
// costs n²/2 comparisons. A 64 KiB message of 6,500 short keys took sigd's
// I/O thread 114-182 ms, stalling every other client of that thread. Here
// each object past 16 keys indexes them in a hash map, and the values,
// kept in a tree, are written out once at the end: linear in the input,
// whatever the nesting.
//
// The output is the tree's, byte for byte: the same lexer reads the text
// (escapes, numbers, a leading BOM), numbers are written by nlohmann's own
// formatter, strings and keys by AppendJsonString (json_scan.h: what
// nlohmann's dump writes), and a key repeated in one object keeps its
// first place and its last value, as ordered_json does. The fuzz target
// inbound_message compares the two on every input.
//
//   std::optional<CompactJson> v = CompactJsonOf(text, /*members=*/false);
//   if (!v) reject("invalid JSON");
//   send(v->kind == CompactJson::kString ? v->text : v->json);
#ifndef SIGD_SERVER_PROTOCOL_JSON_COMPACT_H_
#define SIGD_SERVER_PROTOCOL_JSON_COMPACT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sigd::protocol {

struct CompactMember;

struct CompactJson {
  enum Kind { kString, kBoolean, kObject, kOther };
  Kind kind = kOther;
  std::string json;  // compact
  std::string text;  // kString: the string's value
  bool boolean = false;
  // With `members`, for a top value that is an object: its members in
  // order, keys decoded (theirs have no members listed), instead of `json`.
  std::vector<CompactMember> members;
};

struct CompactMember {
  std::string key;
  CompactJson value;
};

// nullopt for anything that is not one valid JSON value (with whitespace
// around it). Nesting is not limited here: check it first (WithinJsonDepth).
// With `members` and an object at the top, fills `members` instead of `json`
// (what ParseInbound needs of the envelope).
std::optional<CompactJson> CompactJsonOf(std::string_view text, bool members);

}  // namespace sigd::protocol

#endif  // SIGD_SERVER_PROTOCOL_JSON_COMPACT_H_
