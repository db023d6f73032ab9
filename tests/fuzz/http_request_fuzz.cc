// Fuzzes the HTTP side of the --listen port: bytes from a client go through
// Beast's request parser with sigd's limits (ws/request_limits.h), arriving
// in chunks of a fuzzed size, keep-alive request after request as
// HttpSession reads them; each parsed request's target is decoded
// (util::ParseTarget) and resolved against a public folder
// (http::StaticFiles), and its conditional headers are evaluated.
//
// The public folder is laid out once with traps around it: a file beside it,
// a symlink out of it, a symlink to a directory outside it. The invariants:
// a resolved file is always a regular file strictly inside the canonical root
// and never the secret outside it; a path with a ".." segment is never
// resolved; header and body limits hold; a file's own ETag always validates
// and an empty If-None-Match/If-Modified-Since never does; any HTTP date sigd
// accepts formats back to the same time.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "boost/asio/io_context.hpp"
#include "boost/beast/_experimental/test/stream.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/websocket/rfc6455.hpp"
#include "server/http/static_files.h"
#include "server/util/url.h"
#include "server/ws/request_limits.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;

struct Tree {
  fs::path root;    // canonical public folder
  fs::path secret;  // a file outside it
};

void Write(const fs::path& p, std::string_view text) {
  std::ofstream(p) << text;
}

const Tree& Layout() {
  static const Tree tree = [] {
    char dir[] = "/tmp/sigd-fuzz-http-XXXXXX";
    const fs::path base = fs::canonical(mkdtemp(dir));
    const fs::path pub = base / "public";
    fs::create_directories(pub / "sub" / "deeper");
    fs::create_directories(base / "outside");
    Write(pub / "index.html", "<h1>hi</h1>");
    Write(pub / "app.js", "let a = 1;");
    Write(pub / "sub" / "index.html", "sub");
    Write(pub / "sub" / "style.css", "p{}");
    Write(pub / "sub" / "deeper" / "x.json", "{}");
    Write(pub / ".hidden", "h");
    Write(base / "secret.txt", "secret");
    Write(base / "outside" / "index.html", "outside");
    fs::create_symlink(base / "secret.txt", pub / "leak.txt");
    fs::create_symlink(base / "outside", pub / "out");
    fs::create_symlink("app.js", pub / "alias.js");
    fs::create_symlink("../secret.txt", pub / "sub" / "up.txt");
    // Removed at exit (a crash leaves it for inspection). The path is copied
    // to storage that outlives static destructors.
    static char base_dir[4096];
    std::snprintf(base_dir, sizeof(base_dir), "%s", base.c_str());
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(base_dir, ignored);
    });
    return Tree{pub, base / "secret.txt"};
  }();
  return tree;
}

bool StrictlyInside(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return q != p.end();
}

bool HasDotDotSegment(std::string_view path) {
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = std::min(path.find('/', begin), path.size());
    if (path.substr(begin, end - begin) == "..") return true;
    begin = end + 1;
  }
  return false;
}

void CheckRequest(const http::request<http::string_body>& req,
                  const sigd::http::StaticFiles& files) {
  const Tree& tree = Layout();
  FUZZ_CHECK(req.body().size() <= sigd::ws::kRequestBodyLimit, "body over the limit");
  size_t header_bytes = req.target().size();
  for (const auto& field : req) header_bytes += field.name_string().size() + field.value().size();
  FUZZ_CHECK(header_bytes <= sigd::ws::kRequestHeaderLimit, "headers over the limit");
  (void)beast::websocket::is_upgrade(req);

  absl::StatusOr<sigd::util::Target> target = sigd::util::ParseTarget(req.target());
  if (!target.ok()) return;
  absl::StatusOr<sigd::http::StaticFile> file = files.Resolve(target->path);
  if (HasDotDotSegment(target->path)) {
    FUZZ_CHECK(!file.ok(), "resolved a path with a '..' segment: %s", target->path.c_str());
  }
  if (!file.ok()) {
    FUZZ_CHECK(file.status().code() == absl::StatusCode::kNotFound ||
                   file.status().code() == absl::StatusCode::kInvalidArgument,
               "unexpected status");
    return;
  }
  std::error_code ec;
  const fs::path real = fs::canonical(file->path, ec);
  FUZZ_CHECK(!ec && real == file->path, "resolved path is not canonical");
  FUZZ_CHECK(StrictlyInside(tree.root, real), "escaped the root: %s -> %s",
             target->path.c_str(), real.c_str());
  FUZZ_CHECK(real != tree.secret, "served the secret");
  FUZZ_CHECK(fs::is_regular_file(real), "resolved to a non-file");
  FUZZ_CHECK(!file->content_type.empty() && !file->etag.empty(), "missing headers");

  // Conditional requests.
  FUZZ_CHECK(!sigd::http::IsNotModified(*file, "", ""), "304 without validators");
  FUZZ_CHECK(sigd::http::IsNotModified(*file, file->etag, ""), "own ETag not matched");
  FUZZ_CHECK(sigd::http::IsNotModified(*file, "W/" + file->etag, ""), "weak ETag not matched");
  FUZZ_CHECK(sigd::http::IsNotModified(*file, "", file->last_modified),
             "own Last-Modified not matched");
  const std::string_view inm = req[http::field::if_none_match];
  const std::string_view ims = req[http::field::if_modified_since];
  const bool not_modified = sigd::http::IsNotModified(*file, inm, ims);
  if (inm.find_first_not_of(" \t\r\n") == std::string_view::npos &&
      ims.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    FUZZ_CHECK(!not_modified, "304 for blank validators");
  }
  std::time_t t = 0;
  if (sigd::http::ParseHttpDate(ims, &t)) {
    std::time_t back = 0;
    FUZZ_CHECK(sigd::http::ParseHttpDate(sigd::http::FormatHttpDate(t), &back),
               "formatted date does not parse");
    // (A leap second 60 is normalised by both directions alike.)
    FUZZ_CHECK(back == t, "date round trip changed the time");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const sigd::http::StaticFiles files(Layout().root);
  // The first byte sets how many bytes each read returns (1..256): requests
  // split at every possible point, as slow or hostile clients send them.
  const size_t chunk = size_t{data[0]} + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  boost::asio::io_context ioc;
  beast::test::stream stream(ioc, bytes);
  stream.read_size(chunk);
  stream.close_remote();
  beast::flat_buffer buffer;
  for (int i = 0; i < 64; ++i) {  // keep-alive: request after request
    http::request_parser<http::string_body> parser;
    sigd::ws::ApplyRequestLimits(parser);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) break;  // HttpSession answers 431/413 or drops the connection
    FUZZ_CHECK(parser.is_done(), "read returned an unfinished request");
    const http::request<http::string_body> req = parser.release();
    CheckRequest(req, files);
    if (!req.keep_alive()) break;
  }
  return 0;
}
