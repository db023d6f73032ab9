#include "server/protocol/json_scan.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <system_error>

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

// Skips the plain bytes at p, eight at a time while no byte of the eight
// needs a closer look (a quote, a backslash, a control character or a
// byte of a multi-byte sequence): the bulk of a long string.
const unsigned char* SkipPlain(const unsigned char* p, const unsigned char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    const uint64_t quote = w ^ (kOnes * '"');
    const uint64_t backslash = w ^ (kOnes * '\\');
    // High bit of a byte set where that byte is below 0x20, a quote, a
    // backslash or non-ASCII (a byte above one of those may be flagged too,
    // which only sends the eight to the byte loop).
    const uint64_t special = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                             ((backslash - kOnes) & ~backslash) | w;
    if ((special & kHigh) != 0) break;
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

// Past this many keys in one object the scanner declines rather than compare
// every new key with all before it.
constexpr size_t kMaxKeysPerObject = 64;

void Append(std::string* out, const char* begin, const char* end) {
  if (out != nullptr) out->append(begin, end);
}
void Append(std::string* out, char c) {
  if (out != nullptr) out->push_back(c);
}

}  // namespace

bool JsonScanner::String(std::string_view* token) {
  if (Peek() != '"') return false;
  const char* begin = p_++;
  const auto* p = reinterpret_cast<const unsigned char*>(p_);
  const auto* end = reinterpret_cast<const unsigned char*>(end_);
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
        default:
          return false;  // \/ and \u are normalised by nlohmann's dump
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
    const char* escape = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
    if (escape == nullptr) escape = end;
    out.append(p, escape);
    if (escape == end) break;
    switch (escape[1]) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      default: out.push_back(escape[1]); break;  // " or backslash
    }
    p = escape + 2;
  }
  return out;
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
  const uint32_t begin = open_.back().keys_begin;
  if (keys_.size() - begin >= kMaxKeysPerObject) return true;
  for (size_t i = begin; i < keys_.size(); ++i) {
    // Keys with only two-character escapes are equal as text exactly when
    // they are equal as values.
    if (keys_[i] == key) return true;
  }
  keys_.push_back(key);
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
            open_.push_back({object, static_cast<uint32_t>(keys_.size())});
            next = object ? Next::kKey : Next::kValue;
          }
          continue;
        }
        if (c == '"') {
          std::string_view token;
          if (!String(&token)) return false;
          Append(out, token.data(), token.data() + token.size());
        } else if (c == '-' || (c >= '0' && c <= '9')) {
          if (!Number(out)) return false;
        } else if (!Literal(out)) {
          return false;
        }
        next = Next::kAfterValue;
        continue;
      }
      case Next::kKey: {
        std::string_view key;
        if (!String(&key) || RepeatedKey(key) || !Consume(':')) return false;
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

}  // namespace sigd::protocol
