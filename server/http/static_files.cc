#include "server/http/static_files.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <utility>

#include "absl/status/status.h"

namespace sigd::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIndexFile = "index.html";
constexpr std::string_view kOctetStream = "application/octet-stream";

// Sorted by extension so lookup can binary-search. Text types say utf-8
// explicitly: without it browsers guess from the locale and mangle non-ASCII.
// JavaScript is text/javascript (RFC 9239); module scripts and WebAssembly
// streaming compilation refuse to run when the type is wrong.
constexpr std::array<std::pair<std::string_view, std::string_view>, 32>
    kMimeTypes = {{
        {"avif", "image/avif"},
        {"bmp", "image/bmp"},
        {"css", "text/css; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"gif", "image/gif"},
        {"htm", "text/html; charset=utf-8"},
        {"html", "text/html; charset=utf-8"},
        {"ico", "image/x-icon"},
        {"jpeg", "image/jpeg"},
        {"jpg", "image/jpeg"},
        {"js", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"md", "text/markdown; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"mp3", "audio/mpeg"},
        {"mp4", "video/mp4"},
        {"ogg", "audio/ogg"},
        {"otf", "font/otf"},
        {"pdf", "application/pdf"},
        {"png", "image/png"},
        {"svg", "image/svg+xml"},
        {"ttf", "font/ttf"},
        {"txt", "text/plain; charset=utf-8"},
        {"wasm", "application/wasm"},
        {"wav", "audio/wav"},
        {"webm", "video/webm"},
        {"webmanifest", "application/manifest+json"},
        {"webp", "image/webp"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"xml", "application/xml"},
    }};
static_assert(std::is_sorted(kMimeTypes.begin(), kMimeTypes.end()),
              "MimeTypeFor binary-searches kMimeTypes");

constexpr std::array<std::string_view, 7> kDayNames = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// IMF-fixdate has a four-digit year, so times outside years 1..9999 cannot be
// written; they are clamped rather than producing a malformed header.
constexpr std::time_t kMinHttpTime = -62135596800;  // 0001-01-01T00:00:00Z
constexpr std::time_t kMaxHttpTime = 253402300799;  // 9999-12-31T23:59:59Z

// A tiny cursor over a date string. Each method consumes input only when it
// matches; the parsers chain them with && so the first miss fails the parse.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool Done() const { return s_.empty(); }

  bool Literal(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }

  // Exactly `digits` decimal digits.
  bool Number(int digits, int* out) {
    if (s_.size() < static_cast<size_t>(digits)) return false;
    int value = 0;
    for (int i = 0; i < digits; ++i) {
      char c = s_[i];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    s_.remove_prefix(digits);
    *out = value;
    return true;
  }

  // One of `names`, matched exactly (HTTP dates are case-sensitive).
  template <size_t N>
  bool Name(const std::array<std::string_view, N>& names, int* index) {
    for (size_t i = 0; i < N; ++i) {
      if (Literal(names[i])) {
        *index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
};

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month0) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                31, 31, 30, 31, 30, 31};
  return month0 == 1 && IsLeapYear(year) ? 29 : kDays[month0];
}

// Range-checks the broken-down fields (timegm would silently normalise
// "Feb 31" into March) and converts. Second 60 is allowed for leap seconds.
bool ToTime(int year, int month0, int day, int hour, int minute, int second,
            std::time_t* out) {
  if (year < 1 || month0 < 0 || month0 > 11 || day < 1 ||
      day > DaysInMonth(year, month0) || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month0;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  *out = timegm(&tm);
  return true;
}

bool ReadClock(Cursor& c, int* hour, int* minute, int* second) {
  return c.Number(2, hour) && c.Literal(":") && c.Number(2, minute) &&
         c.Literal(":") && c.Number(2, second);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool ParseImfFixdate(std::string_view text, std::time_t* out) {
  Cursor c(text);
  int wday, day, month, year, hour, minute, second;
  if (!(c.Name(kDayNames, &wday) && c.Literal(", ") && c.Number(2, &day) &&
        c.Literal(" ") && c.Name(kMonthNames, &month) && c.Literal(" ") &&
        c.Number(4, &year) && c.Literal(" ") &&
        ReadClock(c, &hour, &minute, &second) && c.Literal(" GMT") &&
        c.Done())) {
    return false;
  }
  return ToTime(year, month, day, hour, minute, second, out);
}

// Obsolete RFC 850 form: "Sunday, 06-Nov-94 08:49:37 GMT".
bool ParseRfc850(std::string_view text, std::time_t* out) {
  Cursor c(text);
  int wday, day, month, yy, hour, minute, second;
  if (!(c.Name(kLongDayNames, &wday) && c.Literal(", ") && c.Number(2, &day) &&
        c.Literal("-") && c.Name(kMonthNames, &month) && c.Literal("-") &&
        c.Number(2, &yy) && c.Literal(" ") &&
        ReadClock(c, &hour, &minute, &second) && c.Literal(" GMT") &&
        c.Done())) {
    return false;
  }
  // Two-digit years: RFC 9110 says to read them as the most recent past year
  // with those digits; a fixed pivot at 70 is what every server does and is
  // right until 2070.
  int year = yy < 70 ? 2000 + yy : 1900 + yy;
  return ToTime(year, month, day, hour, minute, second, out);
}

// Obsolete asctime form: "Sun Nov  6 08:49:37 1994" (day padded by a space).
bool ParseAsctime(std::string_view text, std::time_t* out) {
  Cursor c(text);
  int wday, month, day, year, hour, minute, second;
  if (!(c.Name(kDayNames, &wday) && c.Literal(" ") &&
        c.Name(kMonthNames, &month) && c.Literal(" "))) {
    return false;
  }
  if (c.Literal(" ")) {
    if (!c.Number(1, &day)) return false;
  } else if (!c.Number(2, &day)) {
    return false;
  }
  if (!(c.Literal(" ") && ReadClock(c, &hour, &minute, &second) &&
        c.Literal(" ") && c.Number(4, &year) && c.Done())) {
    return false;
  }
  return ToTime(year, month, day, hour, minute, second, out);
}

// The opaque part of an entity tag, without any W/ prefix, so that weak
// comparison (RFC 9110 8.8.3.2) is a plain string compare.
std::string_view OpaqueTag(std::string_view etag) {
  if (etag.substr(0, 2) == "W/") etag.remove_prefix(2);
  return etag;
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

// Plain std helpers: Debian's Abseil is built with its own absl::string_view,
// which does not convert from std::string_view, so absl/strings is avoided.
std::string_view StripWhitespace(std::string_view s) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void AppendHex(std::uint64_t value, std::string* out) {
  char buf[16];
  // 16 hex digits always fit a uint64, so to_chars cannot fail here.
  out->append(buf, std::to_chars(buf, buf + sizeof(buf), value, 16).ptr);
}

// Walks an If-None-Match value: "*" or a comma-separated list of
// entity-tags. A malformed element ends the walk without a match: serving the
// full response is always safe, a wrong 304 is not.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  std::string_view ours = OpaqueTag(etag);
  size_t i = 0;
  while (i < header.size()) {
    if (IsOws(header[i]) || header[i] == ',') {
      ++i;
      continue;
    }
    if (header[i] == '*') return true;
    if (header.compare(i, 2, "W/") == 0) i += 2;
    if (i >= header.size() || header[i] != '"') return false;
    size_t close = header.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    std::string_view theirs = header.substr(i, close - i + 1);
    if (!ours.empty() && theirs == ours) return true;
    i = close + 1;
    // Only OWS may separate a tag from the next comma.
    while (i < header.size() && IsOws(header[i])) ++i;
    if (i < header.size() && header[i] != ',') return false;
  }
  return false;
}

// True when `p` is `root` or lies below it. Both must be canonical, so a
// component-wise prefix test is exact ("/srv/pub" is not inside "/srv/p").
bool IsInside(const fs::path& root, const fs::path& p) {
  return std::mismatch(root.begin(), root.end(), p.begin(), p.end()).first ==
         root.end();
}

absl::Status NotFound() { return absl::NotFoundError("no such file"); }

}  // namespace

std::string MimeTypeFor(std::string_view file_name) {
  size_t slash = file_name.find_last_of('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  size_t dot = file_name.find_last_of('.');
  // A leading dot marks a hidden file (".htaccess"), not an extension.
  if (dot == std::string_view::npos || dot == 0) return std::string(kOctetStream);
  std::string ext(file_name.substr(dot + 1));
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  auto it = std::lower_bound(
      kMimeTypes.begin(), kMimeTypes.end(), ext,
      [](const auto& entry, const std::string& key) { return entry.first < key; });
  if (it == kMimeTypes.end() || it->first != ext) return std::string(kOctetStream);
  return std::string(it->second);
}

std::string FormatHttpDate(std::time_t t) {
  t = std::clamp(t, kMinHttpTime, kMaxHttpTime);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) {
    t = 0;
    gmtime_r(&t, &tm);
  }
  // Formatted by hand: strftime's %a and %b follow the locale, HTTP's do not.
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDayNames[tm.tm_wday].data(), tm.tm_mday,
                kMonthNames[tm.tm_mon].data(), tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

// Besides IMF-fixdate this accepts the two obsolete HTTP-date forms, since
// RFC 9110 5.6.7 requires recipients to; anything else returns false.
bool ParseHttpDate(std::string_view text, std::time_t* out) {
  text = StripWhitespace(text);
  std::time_t t = 0;
  if (!ParseImfFixdate(text, &t) && !ParseRfc850(text, &t) &&
      !ParseAsctime(text, &t)) {
    return false;
  }
  *out = t;
  return true;
}

bool IsNotModified(const StaticFile& file, std::string_view if_none_match,
                   std::string_view if_modified_since) {
  if_none_match = StripWhitespace(if_none_match);
  if_modified_since = StripWhitespace(if_modified_since);
  // RFC 9110 13.1.3: If-Modified-Since is ignored when If-None-Match is sent.
  if (!if_none_match.empty()) {
    return IfNoneMatchMatches(if_none_match, file.etag);
  }
  if (if_modified_since.empty()) return false;
  std::time_t since = 0;
  // An invalid date is ignored (RFC 9110 13.1.3), i.e. the full response.
  if (!ParseHttpDate(if_modified_since, &since)) return false;
  // Last-Modified has one-second resolution, so compare whole seconds.
  return file.mtime <= since;
}

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}

absl::StatusOr<StaticFile> StaticFiles::Resolve(std::string_view url_path) const {
  if (url_path.empty() || url_path.front() != '/') {
    return absl::InvalidArgumentError("path must start with '/'");
  }
  // A backslash is a separator on other systems and in some proxies; NUL
  // would truncate the name at the OS boundary. Neither belongs in a URL path
  // that maps onto files.
  if (url_path.find('\0') != std::string_view::npos ||
      url_path.find('\\') != std::string_view::npos) {
    return NotFound();
  }

  // Canonicalised on every call rather than once: the folder may be created,
  // replaced or re-pointed (a symlinked release directory) while sigd runs.
  std::error_code ec;
  const fs::path root = fs::canonical(root_, ec);
  if (ec) return NotFound();

  // Built from segments, so "//" and "." collapse and ".." never reaches the
  // filesystem: containment rests on this and on the check after symlinks.
  fs::path candidate = root;
  for (size_t begin = 1; begin <= url_path.size();) {
    size_t end = std::min(url_path.find('/', begin), url_path.size());
    std::string_view segment = url_path.substr(begin, end - begin);
    begin = end + 1;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return NotFound();
    candidate /= fs::path(segment);
  }

  fs::path resolved = fs::canonical(candidate, ec);
  if (ec || !IsInside(root, resolved)) return NotFound();
  fs::file_status status = fs::status(resolved, ec);
  if (ec) return NotFound();

  std::string name;
  if (fs::is_directory(status)) {
    resolved = fs::canonical(resolved / kIndexFile, ec);
    if (ec || !IsInside(root, resolved)) return NotFound();
    status = fs::status(resolved, ec);
    if (ec) return NotFound();
    name = std::string(kIndexFile);
  } else if (url_path.back() == '/') {
    // "/app.js/" names a directory that is not there, as it would for any
    // POSIX open().
    return NotFound();
  } else {
    // The type follows the name that was asked for, not a symlink's target.
    name = candidate.filename().native();
  }
  // Devices, FIFOs and sockets are never content: a FIFO would block the
  // reader forever.
  if (!fs::is_regular_file(status)) return NotFound();

  const std::uintmax_t size = fs::file_size(resolved, ec);
  if (ec) return NotFound();
  const fs::file_time_type ftime = fs::last_write_time(resolved, ec);
  if (ec) return NotFound();
  const auto sys_time = std::chrono::file_clock::to_sys(ftime);
  const auto since_epoch = sys_time.time_since_epoch();
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();

  StaticFile file;
  file.path = std::move(resolved);
  file.content_type = MimeTypeFor(name);
  file.size = static_cast<std::uint64_t>(size);
  file.mtime = static_cast<std::time_t>(
      std::chrono::floor<std::chrono::seconds>(since_epoch).count());
  // Nanosecond mtime plus size: a rewrite within the same second still gets a
  // new tag, which Last-Modified alone cannot promise.
  file.etag = "\"";
  AppendHex(file.size, &file.etag);
  file.etag += '-';
  AppendHex(static_cast<std::uint64_t>(ns), &file.etag);
  file.etag += '"';
  file.last_modified = FormatHttpDate(file.mtime);
  return file;
}

}  // namespace sigd::http
