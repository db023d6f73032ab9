#include "server/protocol/json_scan.h"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <system_error>

#include "absl/base/attributes.h"
#include "nlohmann/json.hpp"

namespace sigd::protocol {
namespace {

// Bytes a string may hold as they are: printable ASCII but the quote and the
// backslash. The rest stop the scan for a closer look.
constexpr std::array<bool, 256> MakePlain() {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}
constexpr std::array<bool, 256> kPlain = MakePlain();

// The character a two-character escape stands for, by its second character.
constexpr std::array<char, 256> MakeUnescaped() {
  std::array<char, 256> unescaped{};
  unescaped['"'] = '"';
  unescaped['\\'] = '\\';
  unescaped['/'] = '/';
  unescaped['b'] = '\b';
  unescaped['f'] = '\f';
  unescaped['n'] = '\n';
  unescaped['r'] = '\r';
  unescaped['t'] = '\t';
  return unescaped;
}
constexpr std::array<char, 256> kUnescaped = MakeUnescaped();

// Skips the plain bytes at p, eight at a time while no byte of the eight
// needs a closer look (a quote, a backslash, a control character or a
// byte of a multi-byte sequence): the bulk of a long string. Inlined into
// its callers, which call it once per escape or non-ASCII character.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline const unsigned char* SkipPlain(const unsigned char* p,
                                                                   const unsigned char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    const uint64_t quote = w ^ (kOnes * '"');
    const uint64_t backslash = w ^ (kOnes * '\\');
    // High bit of a byte set where that byte is below 0x20, a quote, a
    // backslash or non-ASCII. A byte above one of those may be flagged
    // too (a borrow), but the lowest flagged byte is always one of them.
    const uint64_t special = (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                              ((backslash - kOnes) & ~backslash) | w) &
                             kHigh;
    if (special != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        return p + (std::countr_zero(special) >> 3);  // p[0] is the low byte
      }
      break;
    }
    p += 8;
  }
  while (p != end && kPlain[*p]) ++p;
  return p;
}

// The length of the well-formed UTF-8 sequence at p (Unicode's table 3-7: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  const auto in = [&](size_t i, unsigned char lo, unsigned char hi) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  const unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (c == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

// Up to this many keys in one object, each new key is compared with those
// before it; past it, the object's keys go into a hash set.
constexpr size_t kLinearKeys = 16;

void Append(std::string* out, const char* begin, const char* end) {
  if (out != nullptr) out->append(begin, end);
}
void Append(std::string* out, char c) {
  if (out != nullptr) out->push_back(c);
}

// The value of the four hex digits at p (either case), if there are four.
bool Hex4(const unsigned char* p, const unsigned char* end, uint32_t* value) {
  if (end - p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const unsigned char c = p[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      digit = (c | 0x20) - 'a' + 10;
    } else {
      return false;
    }
    v = v << 4 | digit;
  }
  *value = v;
  return true;
}

// Past the \u escape at p (a backslash), or null where nlohmann's lexer
// rejects it: four hex digits, a high surrogate only with a low one after
// it, a low one only there. Kept out of String's loop, which is for the
// common bytes.
ABSL_ATTRIBUTE_NOINLINE const unsigned char* SkipUnicodeEscape(const unsigned char* p,
                                                               const unsigned char* end) {
  uint32_t unit;
  if (!Hex4(p + 2, end, &unit)) return nullptr;
  p += 6;
  if (unit >= 0xDC00 && unit <= 0xDFFF) return nullptr;
  if (unit >= 0xD800 && unit <= 0xDBFF) {
    uint32_t low;
    if (end - p < 2 || p[0] != '\\' || p[1] != 'u' || !Hex4(p + 2, end, &low) || low < 0xDC00 ||
        low > 0xDFFF) {
      return nullptr;
    }
    p += 6;
  }
  return p;
}

// The code point of a \u escape String accepted, whose hex digits are at
// p; p is left past the escape (past both halves of a surrogate pair).
uint32_t CodePointAt(const char*& p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint32_t unit = 0;
  Hex4(u, u + 4, &unit);
  p += 4;
  if (unit < 0xD800 || unit > 0xDBFF) return unit;
  uint32_t low = 0;
  Hex4(u + 6, u + 10, &low);
  p += 6;
  return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | code_point >> 6));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | code_point >> 12));
    out->push_back(static_cast<char>(0x80 | (code_point >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | code_point >> 18));
    out->push_back(static_cast<char>(0x80 | (code_point >> 12 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Appends c, a byte JSON text must escape (below 0x20, a quote or a
// backslash), escaped as nlohmann's dump escapes it: the two-character
// escapes where JSON has one, else \u00xx in lower case.
void AppendEscaped(unsigned char c, std::string* out) {
  switch (c) {
    case '\b': out->append("\\b"); break;
    case '\t': out->append("\\t"); break;
    case '\n': out->append("\\n"); break;
    case '\f': out->append("\\f"); break;
    case '\r': out->append("\\r"); break;
    case '"': out->append("\\\""); break;
    case '\\': out->append("\\\\"); break;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(escaped, sizeof escaped);
    }
  }
}

}  // namespace

bool JsonScanner::String(std::string_view* token, bool* verbatim) {
  if (Peek() != '"') return false;
  const char* begin = p_++;
  const auto* p = reinterpret_cast<const unsigned char*>(p_);
  const auto* end = reinterpret_cast<const unsigned char*>(end_);
  *verbatim = true;
  for (;;) {
    p = SkipPlain(p, end);
    if (p == end) return false;
    if (*p == '"') {
      ++p;
      break;
    }
    if (*p == '\\') {
      if (end - p < 2) return false;
      switch (p[1]) {
        case '"':
        case '\\':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          p += 2;
          continue;
        case '/':  // written back as a plain '/'
          p += 2;
          *verbatim = false;
          continue;
        case 'u':
          p = SkipUnicodeEscape(p, end);
          if (p == nullptr) return false;
          *verbatim = false;
          continue;
        default:
          return false;
      }
    }
    if (*p < 0x20) return false;  // a raw control character: invalid
    const size_t length = Utf8Length(p, end);
    if (length == 0) return false;
    p += length;
  }
  p_ = reinterpret_cast<const char*>(p);
  *token = std::string_view(begin, static_cast<size_t>(p_ - begin));
  return true;
}

std::string JsonScanner::Decode(std::string_view token) {
  std::string out;
  out.reserve(token.size() - 2);
  const char* p = token.data() + 1;
  const char* end = token.data() + token.size() - 1;
  while (p != end) {
    const char* escape =
        static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
    if (escape == nullptr) escape = end;
    out.append(p, escape);
    if (escape == end) break;
    p = escape + 2;
    if (escape[1] == 'u') {
      AppendUtf8(CodePointAt(p), &out);
    } else {
      out.push_back(kUnescaped[static_cast<unsigned char>(escape[1])]);
    }
  }
  return out;
}

void JsonScanner::AppendCompact(std::string_view token, std::string* out) {
  const char* p = token.data();
  const char* end = token.data() + token.size();
  while (p != end) {
    const char* escape =
        static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
    if (escape == nullptr) escape = end;
    out->append(p, escape);
    if (escape == end) break;
    p = escape + 2;
    if (escape[1] == '/') {
      out->push_back('/');
    } else if (escape[1] == 'u') {
      // As nlohmann's dump writes the code point (ensure_ascii off).
      const uint32_t code_point = CodePointAt(p);
      if (code_point < 0x20 || code_point == '"' || code_point == '\\') {
        AppendEscaped(static_cast<unsigned char>(code_point), out);
      } else {
        AppendUtf8(code_point, out);
      }
    } else {
      out->append(escape, 2);  // a two-character escape, kept
    }
  }
}

bool JsonScanner::Boolean(bool* value) {
  const char c = Peek();
  if (c == 't' && end_ - p_ >= 4 && std::memcmp(p_, "true", 4) == 0) {
    p_ += 4;
    *value = true;
    return true;
  }
  if (c == 'f' && end_ - p_ >= 5 && std::memcmp(p_, "false", 5) == 0) {
    p_ += 5;
    *value = false;
    return true;
  }
  return false;
}

bool JsonScanner::Literal(std::string* out) {
  for (std::string_view word : {std::string_view("true"), std::string_view("false"),
                                std::string_view("null")}) {
    if (static_cast<size_t>(end_ - p_) >= word.size() &&
        std::memcmp(p_, word.data(), word.size()) == 0) {
      Append(out, p_, p_ + word.size());
      p_ += word.size();
      return true;
    }
  }
  return false;
}

// A number as nlohmann's parse and dump give it back. An integer that fits
// 64 bits is kept as written (-0 becomes 0); anything else is read as a
// double, correctly rounded as nlohmann's strtod reads it, and written by
// nlohmann's own float formatter (1.50 -> 1.5, 1e2 -> 100.0). One past the
// range of a double is an error: declined.
bool JsonScanner::Number(std::string* out) {
  const char* begin = p_;
  const auto digits = [this] {
    const char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  };
  if (*p_ == '-') ++p_;
  if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
  if (*p_ == '0') {
    ++p_;
  } else {
    digits();
  }
  bool integer = true;
  if (p_ != end_ && *p_ == '.') {
    ++p_;
    if (!digits()) return false;
    integer = false;
  }
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (!digits()) return false;
    integer = false;
  }
  if (integer) {
    if (p_ - begin == 2 && begin[0] == '-' && begin[1] == '0') {
      Append(out, '0');
      return true;
    }
    // Up to 18 digits always fits; longer ones may not.
    if (p_ - begin <= 18) {
      Append(out, begin, p_);
      return true;
    }
    std::from_chars_result fits;
    if (*begin == '-') {
      int64_t value;
      fits = std::from_chars(begin, p_, value);
    } else {
      uint64_t value;
      fits = std::from_chars(begin, p_, value);
    }
    if (fits.ec == std::errc() && fits.ptr == p_) {
      Append(out, begin, p_);
      return true;
    }
  }
  double value;
  const std::from_chars_result read = std::from_chars(begin, p_, value);
  if (read.ec != std::errc() || read.ptr != p_ || !std::isfinite(value)) return false;
  if (out != nullptr) {
    char buffer[64];
    char* end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, value);
    out->append(buffer, static_cast<size_t>(end - buffer));
  }
  return true;
}

bool JsonScanner::RepeatedKey(std::string_view key) {
  // Keys with only two-character escapes are equal as text exactly when they
  // are equal as values.
  Open& open = open_.back();
  if (open.large) return !large_keys_[large_open_ - 1].insert(key).second;
  for (size_t i = open.keys_begin; i < keys_.size(); ++i) {
    if (keys_[i] == key) return true;
  }
  if (keys_.size() - open.keys_begin < kLinearKeys) {
    keys_.push_back(key);
    return false;
  }
  // A large object: its keys move to a set of their own, so that each new
  // key costs the same however many came before it (hostile input may send
  // thousands). The sets stay for the message's next large object at the
  // same level of nesting (absl frees a set's table on clear past 127
  // slots, so only small ones keep it).
  if (large_keys_.size() == large_open_) large_keys_.emplace_back();
  absl::flat_hash_set<std::string_view>& set = large_keys_[large_open_++];
  set.insert(keys_.begin() + open.keys_begin, keys_.end());
  set.insert(key);
  keys_.resize(open.keys_begin);
  open.large = true;
  return false;
}

bool JsonScanner::Value(int depth, std::string* out) {
  const size_t base = open_.size();
  // What the loop expects next: a value, an object's key, or what follows a
  // value (a comma, a closing bracket, or the end of the top value).
  enum class Next { kValue, kKey, kAfterValue } next = Next::kValue;
  for (;;) {
    switch (next) {
      case Next::kValue: {
        const char c = Peek();
        if (c == '{' || c == '[') {
          if (++depth > max_depth_) return false;
          ++p_;
          const bool object = c == '{';
          Append(out, c);
          if (Peek() == (object ? '}' : ']')) {
            ++p_;
            Append(out, object ? '}' : ']');
            --depth;
            next = Next::kAfterValue;
          } else {
            open_.push_back({object, false, static_cast<uint32_t>(keys_.size())});
            next = object ? Next::kKey : Next::kValue;
          }
          continue;
        }
        if (c == '"') {
          std::string_view token;
          bool verbatim;
          if (!String(&token, &verbatim)) return false;
          if (verbatim) {
            Append(out, token.data(), token.data() + token.size());
          } else if (out != nullptr) {
            AppendCompact(token, out);
          }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
          if (!Number(out)) return false;
        } else if (!Literal(out)) {
          return false;
        }
        next = Next::kAfterValue;
        continue;
      }
      case Next::kKey: {
        // A key with a \u or \/ escape is declined: equal keys may then
        // differ as text, and RepeatedKey compares text.
        std::string_view key;
        bool verbatim;
        if (!String(&key, &verbatim) || !verbatim || RepeatedKey(key) || !Consume(':')) {
          return false;
        }
        Append(out, key.data(), key.data() + key.size());
        Append(out, ':');
        next = Next::kValue;
        continue;
      }
      case Next::kAfterValue: {
        if (open_.size() == base) return true;
        const bool object = open_.back().object;
        const char c = Peek();
        if (c == ',') {
          ++p_;
          Append(out, ',');
          next = object ? Next::kKey : Next::kValue;
        } else if (c == (object ? '}' : ']')) {
          ++p_;
          Append(out, c);
          keys_.resize(open_.back().keys_begin);
          if (open_.back().large) large_keys_[--large_open_].clear();
          open_.pop_back();
          --depth;
        } else {
          return false;
        }
        continue;
      }
    }
  }
}

void AppendJsonString(std::string_view value, std::string* out) {
  out->reserve(out->size() + value.size() + 2);
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(value.data());
  const auto* end = p + value.size();
  while (p != end) {
    const unsigned char* run = p;
    for (;;) {
      p = SkipPlain(p, end);
      if (p == end || *p < 0x80) break;
      ++p;  // a byte of a multi-byte sequence, kept as it is
    }
    out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (p == end) break;
    AppendEscaped(*p++, out);
  }
  out->push_back('"');
}

}  // namespace sigd::protocol
