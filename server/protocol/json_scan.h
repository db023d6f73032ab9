// A fast path for the JSON sigd relays: one pass over the text that validates
// it and writes its compact form, with no parse tree.
//
// Why: a message goes through sigd once per broadcast, and nlohmann-json
// builds a tree of it (a byte at a time into std::string), then serialises
// the tree again. For a 256 KiB message that was 5-6 ms of the I/O thread
// (about 3x what uWebSockets.js spends on the same relay), most of it in
// the lexer and dump_escaped.
//
// The scanner vouches for text whose objects repeat no key and whose keys
// use only the two-character escapes (\" \\ \b \f \n \r \t). Literals,
// integers and strings without a \u or \/ escape it copies as written. A
// string with one it writes back as nlohmann's dump would: the escapes
// resolved to UTF-8, then a quote, backslash or control character escaped
// as dump escapes it (\" \\ \n and the like, else \u00xx in lower case).
// Other numbers it writes as nlohmann's formatter does. Its output is then
// byte for byte what nlohmann's dump of the parsed value gives. For
// anything else (a key with a \u or \/ escape, a repeated key, nesting
// past the limit, and every error) it declines, and the caller reads the
// text with nlohmann-json's SAX parser (json_compact.h), which gives the
// normalised value or the error message. The fuzz target inbound_message
// checks that both paths agree with nlohmann's parse tree.
//
//   JsonScanner scan(text, max_depth);
//   std::string compact;
//   if (scan.Value(0, &compact) && scan.AtEndAfterSpace()) use(compact);
//   else fall back to nlohmann.
#ifndef SIGD_SERVER_PROTOCOL_JSON_SCAN_H_
#define SIGD_SERVER_PROTOCOL_JSON_SCAN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"

namespace sigd::protocol {

class JsonScanner {
 public:
  JsonScanner(std::string_view text, int max_depth)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  // Skips JSON whitespace (space, tab, CR, LF).
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool AtEndAfterSpace() {
    SkipSpace();
    return p_ == end_;
  }
  // The next character after whitespace, or '\0' at the end.
  char Peek() {
    SkipSpace();
    return p_ == end_ ? '\0' : *p_;
  }
  // Consumes `c` (after whitespace) if it is next.
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++p_;
    return true;
  }

  // Scans one value (after whitespace) nested inside `depth` containers and
  // appends its compact form to `out` (nothing when out is null: validation
  // only). False when the scanner does not vouch for it (see above); where
  // it stopped is then unspecified, and the scanner is not to be used again.
  bool Value(int depth, std::string* out);

  // Scans a string at the next position; `token` is its text with the
  // quotes. `verbatim` says whether that is also its compact form (no \u
  // or \/ escape in it). False as for Value.
  bool String(std::string_view* token, bool* verbatim);

  // The value of a string token String accepted, its escapes resolved.
  static std::string Decode(std::string_view token);

  // Appends the compact form of a string token String accepted: what
  // nlohmann's dump writes for its value.
  static void AppendCompact(std::string_view token, std::string* out);

  // true/false after whitespace; false for anything else.
  bool Boolean(bool* value);

 private:
  bool Number(std::string* out);
  bool Literal(std::string* out);
  // Whether `key` (a token) repeats a key of the innermost open object.
  bool RepeatedKey(std::string_view key);

  struct Open {
    bool object;
    bool large;           // its keys are in large_keys_, not keys_
    uint32_t keys_begin;  // the object's keys are keys_[keys_begin..]
  };

  const char* p_;
  const char* end_;
  const int max_depth_;
  absl::InlinedVector<Open, 8> open_;
  absl::InlinedVector<std::string_view, 16> keys_;
  // The keys of the large objects open, innermost last, and spare sets.
  std::vector<absl::flat_hash_set<std::string_view>> large_keys_;
  size_t large_open_ = 0;
};

// Appends `value` (valid UTF-8) as a JSON string, written as nlohmann's dump
// writes it (ensure_ascii off): the compact form of a string value.
void AppendJsonString(std::string_view value, std::string* out);

}  // namespace sigd::protocol

#endif  // SIGD_SERVER_PROTOCOL_JSON_SCAN_H_
