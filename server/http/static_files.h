// Static-file lookup for the HTTP side of the --listen port: maps a request's
// decoded URL path onto a file under the public folder, never outside it, and
// answers the conditional-request questions (ETag / Last-Modified / 304).
//
// Pure logic plus filesystem reads; no sockets. Usage:
//
//   StaticFiles files("/srv/public");
//   absl::StatusOr<StaticFile> f = files.Resolve("/css/site.css");
//   if (f.ok() && IsNotModified(*f, if_none_match, if_modified_since)) { ...304... }
#ifndef SIGD_SERVER_HTTP_STATIC_FILES_H_
#define SIGD_SERVER_HTTP_STATIC_FILES_H_

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sigd::http {

struct StaticFile {
  std::filesystem::path path;   // absolute, canonical, inside the root
  std::string content_type;     // e.g. "text/html; charset=utf-8"
  std::uint64_t size = 0;
  std::time_t mtime = 0;        // seconds since the epoch
  std::string etag;             // strong validator, quoted: "\"<size hex>-<mtime ns hex>\""
  std::string last_modified;    // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"
};

// MIME type for a file name by its extension (case-insensitive); text types
// carry "; charset=utf-8". Unknown extensions are application/octet-stream.
std::string MimeTypeFor(std::string_view file_name);

// Formats a time as an IMF-fixdate (RFC 9110), and parses one back (returns
// false on anything else).
std::string FormatHttpDate(std::time_t t);
bool ParseHttpDate(std::string_view text, std::time_t* out);

// True when the request's validators say the client's copy is current:
// If-None-Match (a list of ETags or "*", weak comparison) takes precedence over
// If-Modified-Since. Empty header values mean "not sent".
bool IsNotModified(const StaticFile& file, std::string_view if_none_match,
                   std::string_view if_modified_since);

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  // Resolves a decoded URL path ("/", "/a/b.js"). "/" and directories map to
  // their index.html. NotFound for anything missing, hidden behind a ".."
  // segment, containing NUL or a backslash, or resolving (through symlinks)
  // outside the root; InvalidArgument for a path that does not start with '/'.
  absl::StatusOr<StaticFile> Resolve(std::string_view url_path) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace sigd::http

#endif  // SIGD_SERVER_HTTP_STATIC_FILES_H_
