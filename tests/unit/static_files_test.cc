#include "server/http/static_files.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace sigd::http {
namespace {

namespace fs = std::filesystem;

// 1994-11-06T08:49:37Z, RFC 9110's example date.
constexpr std::time_t kRfcExampleTime = 784111777;
constexpr std::string_view kRfcExampleDate = "Sun, 06 Nov 1994 08:49:37 GMT";

void WriteFile(const fs::path& p, std::string_view content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
}

void SetMtime(const fs::path& p, std::chrono::sys_time<std::chrono::nanoseconds> t) {
  fs::last_write_time(p, std::chrono::file_clock::from_sys(t));
}

// A scratch tree per test:
//   <tmp>/public/          the root being served
//   <tmp>/outside/         files a request must never reach
//   <tmp>/public2/         a sibling whose name extends the root's
class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "static_files_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ / "public";

    WriteFile(root_ / "index.html", "<h1>home</h1>");
    WriteFile(root_ / "app.js", "console.log(1);");
    WriteFile(root_ / "site.css", "body{}");
    WriteFile(root_ / "sub" / "index.html", "<h1>sub</h1>");
    WriteFile(root_ / "sub" / "page.html", "<p>page</p>");
    WriteFile(root_ / "a" / "b.txt", "b");
    WriteFile(root_ / "README", "no extension");
    fs::create_directories(root_ / "empty_dir");
    WriteFile(base_ / "outside" / "secret.txt", "secret");
    WriteFile(base_ / "outside" / "index.html", "<h1>secret</h1>");
    WriteFile(base_ / "public2" / "secret.txt", "secret");
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  absl::StatusOr<StaticFile> Resolve(std::string_view url_path) const {
    return StaticFiles(root_).Resolve(url_path);
  }

  fs::path Canonical(const fs::path& p) const { return fs::canonical(p); }

  fs::path base_;
  fs::path root_;
};

// --- index resolution -------------------------------------------------------

TEST_F(StaticFilesTest, RootServesIndexHtml) {
  absl::StatusOr<StaticFile> f = Resolve("/");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, Canonical(root_ / "index.html"));
  EXPECT_EQ(f->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(f->size, 13u);
}

TEST_F(StaticFilesTest, SubDirectoryWithTrailingSlashServesItsIndexHtml) {
  absl::StatusOr<StaticFile> f = Resolve("/sub/");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, Canonical(root_ / "sub" / "index.html"));
  EXPECT_EQ(f->content_type, "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, SubDirectoryWithoutTrailingSlashServesItsIndexHtml) {
  absl::StatusOr<StaticFile> f = Resolve("/sub");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, Canonical(root_ / "sub" / "index.html"));
}

TEST_F(StaticFilesTest, DirectoryWithoutIndexIsNotFound) {
  EXPECT_EQ(Resolve("/empty_dir/").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("/a").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, ServesPlainFileWithItsType) {
  absl::StatusOr<StaticFile> f = Resolve("/sub/page.html");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, Canonical(root_ / "sub" / "page.html"));
  EXPECT_EQ(f->size, 11u);

  f = Resolve("/app.js");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->content_type, "text/javascript; charset=utf-8");

  f = Resolve("/site.css");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->content_type, "text/css; charset=utf-8");
}

TEST_F(StaticFilesTest, FileWithoutExtensionIsOctetStream) {
  absl::StatusOr<StaticFile> f = Resolve("/README");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->content_type, "application/octet-stream");
}

TEST_F(StaticFilesTest, RepeatedSlashesAndDotSegmentsCollapse) {
  absl::StatusOr<StaticFile> f = Resolve("//sub/./page.html");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, Canonical(root_ / "sub" / "page.html"));
}

TEST_F(StaticFilesTest, RelativeRootIsResolvedToAnAbsolutePath) {
  std::error_code ec;
  fs::path old_cwd = fs::current_path();
  fs::current_path(base_);
  absl::StatusOr<StaticFile> f = StaticFiles("public").Resolve("/app.js");
  fs::current_path(old_cwd, ec);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->path.is_absolute());
  EXPECT_EQ(f->path, Canonical(root_ / "app.js"));
}

// --- missing and malformed --------------------------------------------------

TEST_F(StaticFilesTest, MissingFileIsNotFound) {
  EXPECT_EQ(Resolve("/nope.html").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("/sub/nope/x.js").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, MissingRootIsNotFound) {
  absl::StatusOr<StaticFile> f =
      StaticFiles(base_ / "does-not-exist").Resolve("/");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, PathNotStartingWithSlashIsInvalidArgument) {
  EXPECT_EQ(Resolve("index.html").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resolve("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resolve("../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StaticFilesTest, TrailingSlashAfterAFileIsNotFound) {
  EXPECT_EQ(Resolve("/app.js/").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, FifoIsNotFound) {
  ASSERT_EQ(mkfifo((root_ / "pipe.txt").c_str(), 0600), 0);
  EXPECT_EQ(Resolve("/pipe.txt").status().code(), absl::StatusCode::kNotFound);
}

// --- traversal --------------------------------------------------------------

TEST_F(StaticFilesTest, DotDotSegmentsAreNotFound) {
  for (std::string_view path :
       {"/../etc/passwd", "/a/../../x", "/..", "/../", "/a/..",
        "/sub/../index.html", "/../outside/secret.txt", "/../public/index.html",
        "/a/b.txt/.."}) {
    EXPECT_EQ(Resolve(path).status().code(), absl::StatusCode::kNotFound)
        << path;
  }
}

TEST_F(StaticFilesTest, DotDotInsideANameIsAnOrdinaryName) {
  WriteFile(root_ / "..x" / "a..b.txt", "ok");
  absl::StatusOr<StaticFile> f = Resolve("/..x/a..b.txt");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->content_type, "text/plain; charset=utf-8");
}

TEST_F(StaticFilesTest, NulByteIsNotFound) {
  using namespace std::string_view_literals;
  EXPECT_EQ(Resolve("/index.html\0.png"sv).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("/\0"sv).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, BackslashIsNotFound) {
  EXPECT_EQ(Resolve("/..\\outside\\secret.txt").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("/sub\\page.html").status().code(),
            absl::StatusCode::kNotFound);
  // Even when a file by that literal name exists: the rule is about the path.
  WriteFile(root_ / "odd\\name.txt", "x");
  EXPECT_EQ(Resolve("/odd\\name.txt").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, SymlinkPointingOutsideIsNotFound) {
  fs::create_symlink(base_ / "outside" / "secret.txt", root_ / "abs.txt");
  fs::create_symlink("../outside/secret.txt", root_ / "rel.txt");
  fs::create_symlink("/etc/passwd", root_ / "passwd");
  EXPECT_EQ(Resolve("/abs.txt").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("/rel.txt").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("/passwd").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, SymlinkedDirectoryPointingOutsideIsNotFound) {
  fs::create_directory_symlink("../outside", root_ / "out");
  EXPECT_EQ(Resolve("/out/secret.txt").status().code(),
            absl::StatusCode::kNotFound);
  // Its index.html exists too; directory-to-index must not escape either.
  EXPECT_EQ(Resolve("/out/").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("/out").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, SymlinkedIndexPointingOutsideIsNotFound) {
  fs::create_directories(root_ / "trap");
  fs::create_symlink(base_ / "outside" / "index.html",
                     root_ / "trap" / "index.html");
  EXPECT_EQ(Resolve("/trap/").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, SymlinkIntoSiblingSharingTheRootsPrefixIsNotFound) {
  // ".../public2" starts with the characters of ".../public" but is outside.
  fs::create_symlink("../public2/secret.txt", root_ / "sibling.txt");
  EXPECT_EQ(Resolve("/sibling.txt").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, SymlinkPointingInsideIsServed) {
  fs::create_symlink("sub/page.html", root_ / "alias.html");
  absl::StatusOr<StaticFile> f = Resolve("/alias.html");
  ASSERT_TRUE(f.ok()) << f.status();
  // The reported path is the real file, so the caller opens what was checked.
  EXPECT_EQ(f->path, Canonical(root_ / "sub" / "page.html"));
  EXPECT_EQ(f->content_type, "text/html; charset=utf-8");

  fs::create_directory_symlink("sub", root_ / "sub-alias");
  f = Resolve("/sub-alias/");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, Canonical(root_ / "sub" / "index.html"));
}

TEST_F(StaticFilesTest, TypeFollowsTheRequestedNameNotTheSymlinkTarget) {
  WriteFile(root_ / "data.bin", "{}");
  fs::create_symlink("data.bin", root_ / "data.json");
  absl::StatusOr<StaticFile> f = Resolve("/data.json");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->content_type, "application/json");
}

TEST_F(StaticFilesTest, RootThatIsASymlinkStillServes) {
  fs::create_directory_symlink(root_, base_ / "current");
  absl::StatusOr<StaticFile> f = StaticFiles(base_ / "current").Resolve("/");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, Canonical(root_ / "index.html"));
}

// --- validators -------------------------------------------------------------

TEST_F(StaticFilesTest, LastModifiedAndEtagComeFromMtimeAndSize) {
  const auto t = std::chrono::sys_seconds{std::chrono::seconds{kRfcExampleTime}} +
                 std::chrono::nanoseconds{123456789};
  SetMtime(root_ / "app.js", t);
  absl::StatusOr<StaticFile> f = Resolve("/app.js");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->mtime, kRfcExampleTime);
  EXPECT_EQ(f->last_modified, kRfcExampleDate);
  // size 15 = 0xf; mtime in ns = 784111777123456789 = 0xae1b981c3a4d715.
  EXPECT_EQ(f->etag, "\"f-ae1b981c3a4d715\"");
}

TEST_F(StaticFilesTest, EtagChangesWhenTheFileIsRewrittenWithinTheSameSecond) {
  const auto t = std::chrono::sys_seconds{std::chrono::seconds{kRfcExampleTime}};
  SetMtime(root_ / "app.js", t);
  absl::StatusOr<StaticFile> before = Resolve("/app.js");
  SetMtime(root_ / "app.js", t + std::chrono::milliseconds{500});
  absl::StatusOr<StaticFile> after = Resolve("/app.js");
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(before->last_modified, after->last_modified);
  EXPECT_NE(before->etag, after->etag);
}

TEST_F(StaticFilesTest, EtagChangesWithSize) {
  const auto t = std::chrono::sys_seconds{std::chrono::seconds{kRfcExampleTime}};
  SetMtime(root_ / "app.js", t);
  absl::StatusOr<StaticFile> before = Resolve("/app.js");
  WriteFile(root_ / "app.js", "console.log(12);");
  SetMtime(root_ / "app.js", t);
  absl::StatusOr<StaticFile> after = Resolve("/app.js");
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_NE(before->etag, after->etag);
}

TEST_F(StaticFilesTest, ResolvedFileIsNotModifiedForItsOwnValidators) {
  absl::StatusOr<StaticFile> f = Resolve("/");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(IsNotModified(*f, f->etag, ""));
  EXPECT_TRUE(IsNotModified(*f, "", f->last_modified));
}

// --- MIME types -------------------------------------------------------------

TEST(MimeType, KnownExtensions) {
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"a.html", "text/html; charset=utf-8"},
      {"a.htm", "text/html; charset=utf-8"},
      {"a.js", "text/javascript; charset=utf-8"},
      {"a.mjs", "text/javascript; charset=utf-8"},
      {"a.css", "text/css; charset=utf-8"},
      {"a.json", "application/json"},
      {"a.js.map", "application/json"},
      {"a.svg", "image/svg+xml"},
      {"a.png", "image/png"},
      {"a.jpg", "image/jpeg"},
      {"a.jpeg", "image/jpeg"},
      {"a.gif", "image/gif"},
      {"a.webp", "image/webp"},
      {"favicon.ico", "image/x-icon"},
      {"a.txt", "text/plain; charset=utf-8"},
      {"a.xml", "application/xml"},
      {"a.wasm", "application/wasm"},
      {"a.woff", "font/woff"},
      {"a.woff2", "font/woff2"},
      {"a.ttf", "font/ttf"},
      {"a.pdf", "application/pdf"},
      {"a.mp4", "video/mp4"},
      {"a.webm", "video/webm"},
      {"a.mp3", "audio/mpeg"},
      {"a.wav", "audio/wav"},
      {"README.md", "text/markdown; charset=utf-8"},
  };
  for (const auto& [name, type] : kCases) {
    EXPECT_EQ(MimeTypeFor(name), type) << name;
  }
}

TEST(MimeType, ExtensionIsCaseInsensitive) {
  EXPECT_EQ(MimeTypeFor("INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("Photo.JpEg"), "image/jpeg");
}

TEST(MimeType, UsesOnlyTheLastComponentAndLastExtension) {
  EXPECT_EQ(MimeTypeFor("/dir.css/file.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("/dir.css/file"), "application/octet-stream");
  EXPECT_EQ(MimeTypeFor("archive.html.gz"), "application/octet-stream");
}

TEST(MimeType, UnknownOrMissingExtensionIsOctetStream) {
  EXPECT_EQ(MimeTypeFor("a.exe"), "application/octet-stream");
  EXPECT_EQ(MimeTypeFor("Makefile"), "application/octet-stream");
  EXPECT_EQ(MimeTypeFor("trailing."), "application/octet-stream");
  EXPECT_EQ(MimeTypeFor(""), "application/octet-stream");
  // A dot file has no extension: ".html" is a hidden file, not HTML.
  EXPECT_EQ(MimeTypeFor(".html"), "application/octet-stream");
}

// --- HTTP dates -------------------------------------------------------------

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(FormatHttpDate(kRfcExampleTime), kRfcExampleDate);
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDate, ClampsTimesThatNeedMoreThanFourYearDigits) {
  EXPECT_EQ(FormatHttpDate(253402300799 + 86400 * 400LL),
            "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(HttpDate, ParsesImfFixdate) {
  std::time_t t = 0;
  ASSERT_TRUE(ParseHttpDate(kRfcExampleDate, &t));
  EXPECT_EQ(t, kRfcExampleTime);
}

TEST(HttpDate, ParsesTheObsoleteFormsRfc9110RequiresRecipientsToAccept) {
  std::time_t t = 0;
  ASSERT_TRUE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", &t));
  EXPECT_EQ(t, kRfcExampleTime);
  t = 0;
  ASSERT_TRUE(ParseHttpDate("Sun Nov  6 08:49:37 1994", &t));
  EXPECT_EQ(t, kRfcExampleTime);
}

TEST(HttpDate, RoundTripsAcrossYears) {
  // Every 10007 hours from 1970 to ~2100: hits all weekdays, months and leap
  // years without a slow loop.
  for (std::time_t t = 0; t < 4102444800; t += 10007 * 3600 + 17) {
    std::string text = FormatHttpDate(t);
    std::time_t back = -1;
    ASSERT_TRUE(ParseHttpDate(text, &back)) << text;
    EXPECT_EQ(back, t) << text;
  }
}

TEST(HttpDate, RejectsMalformedDates) {
  for (std::string_view text : {
           "",
           "garbage",
           "Sun, 6 Nov 1994 08:49:37 GMT",      // one-digit day
           "Sun, 06 Nov 94 08:49:37 GMT",       // two-digit year
           "Sun, 06 Nov 1994 08:49:37 UTC",     // not GMT
           "Sun, 06 Nov 1994 08:49:37",         // no zone
           "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing garbage
           "sun, 06 nov 1994 08:49:37 GMT",     // names are case-sensitive
           "Sun, 06 Foo 1994 08:49:37 GMT",     // no such month
           "Xyz, 06 Nov 1994 08:49:37 GMT",     // no such day
           "Sun, 31 Feb 1994 08:49:37 GMT",     // no such date
           "Sun, 29 Feb 1900 08:49:37 GMT",     // 1900 is not a leap year
           "Sun, 06 Nov 1994 24:00:00 GMT",     // hour out of range
           "Sun, 06 Nov 1994 08:60:00 GMT",     // minute out of range
           "Sun, 06 Nov 1994 08:49:61 GMT",     // second out of range
           "Sun, 00 Nov 1994 08:49:37 GMT",     // day zero
           "Sun, 06 Nov 1994 8:49:37 GMT",      // one-digit hour
           "Sun, 06 Nov -994 08:49:37 GMT",     // sign
           "Sunday, 06-Nov-1994 08:49:37 GMT",  // RFC 850 with 4-digit year
           "Sun Nov 6 08:49:37 1994",           // asctime without padding
           "1994-11-06T08:49:37Z",              // ISO 8601
       }) {
    std::time_t t = 12345;
    EXPECT_FALSE(ParseHttpDate(text, &t)) << text;
    EXPECT_EQ(t, 12345) << "output touched for " << text;
  }
}

// --- conditional requests ---------------------------------------------------

StaticFile FileWithValidators() {
  StaticFile f;
  f.etag = "\"f-ae1b981c3a4d715\"";
  f.mtime = kRfcExampleTime;
  f.last_modified = std::string(kRfcExampleDate);
  return f;
}

TEST(IsNotModified, NoValidatorsMeansModified) {
  EXPECT_FALSE(IsNotModified(FileWithValidators(), "", ""));
}

TEST(IsNotModified, MatchingEtag) {
  EXPECT_TRUE(IsNotModified(FileWithValidators(), "\"f-ae1b981c3a4d715\"", ""));
}

TEST(IsNotModified, NonMatchingEtag) {
  EXPECT_FALSE(IsNotModified(FileWithValidators(), "\"f-0\"", ""));
  // Quotes are part of the tag; an unquoted value is malformed, not a match.
  EXPECT_FALSE(IsNotModified(FileWithValidators(), "f-ae1b981c3a4d715", ""));
  // A prefix is not a match.
  EXPECT_FALSE(IsNotModified(FileWithValidators(), "\"f-ae1b981c3a4d71\"", ""));
}

TEST(IsNotModified, EtagInAList) {
  const StaticFile f = FileWithValidators();
  EXPECT_TRUE(IsNotModified(f, "\"x\", \"f-ae1b981c3a4d715\"", ""));
  EXPECT_TRUE(IsNotModified(f, "\"x\",\"y\" ,\t\"f-ae1b981c3a4d715\" ", ""));
  EXPECT_TRUE(IsNotModified(f, ",, \"f-ae1b981c3a4d715\",", ""));
  EXPECT_FALSE(IsNotModified(f, "\"x\", \"y\"", ""));
}

TEST(IsNotModified, CommaInsideAnEtagIsPartOfIt) {
  StaticFile f = FileWithValidators();
  f.etag = "\"a,b\"";
  EXPECT_TRUE(IsNotModified(f, "\"x\", \"a,b\"", ""));
  EXPECT_FALSE(IsNotModified(f, "\"a\", \"b\"", ""));
}

TEST(IsNotModified, StarMatchesAnyExistingFile) {
  EXPECT_TRUE(IsNotModified(FileWithValidators(), "*", ""));
  EXPECT_TRUE(IsNotModified(FileWithValidators(), " * ", ""));
}

TEST(IsNotModified, WeakComparisonIgnoresWPrefix) {
  const StaticFile f = FileWithValidators();
  EXPECT_TRUE(IsNotModified(f, "W/\"f-ae1b981c3a4d715\"", ""));
  EXPECT_TRUE(IsNotModified(f, "\"x\", W/\"f-ae1b981c3a4d715\"", ""));
  StaticFile weak = f;
  weak.etag = "W/\"f-ae1b981c3a4d715\"";
  EXPECT_TRUE(IsNotModified(weak, "\"f-ae1b981c3a4d715\"", ""));
  // Lower-case w/ is not the weak indicator.
  EXPECT_FALSE(IsNotModified(f, "w/\"f-ae1b981c3a4d715\"", ""));
}

TEST(IsNotModified, MalformedIfNoneMatchMeansModified) {
  const StaticFile f = FileWithValidators();
  EXPECT_FALSE(IsNotModified(f, "\"f-ae1b981c3a4d715", ""));   // unterminated
  EXPECT_FALSE(IsNotModified(f, "W/", ""));
  EXPECT_FALSE(IsNotModified(f, "\"\"", ""));
}

TEST(IsNotModified, FileWithoutEtagMatchesOnlyStar) {
  StaticFile f = FileWithValidators();
  f.etag.clear();
  EXPECT_FALSE(IsNotModified(f, "\"\"", ""));
  EXPECT_TRUE(IsNotModified(f, "*", ""));
}

TEST(IsNotModified, IfModifiedSinceEqualToMtime) {
  EXPECT_TRUE(IsNotModified(FileWithValidators(), "", kRfcExampleDate));
}

TEST(IsNotModified, IfModifiedSinceNewerThanMtime) {
  EXPECT_TRUE(IsNotModified(FileWithValidators(), "",
                            "Sun, 06 Nov 1994 08:49:38 GMT"));
  EXPECT_TRUE(IsNotModified(FileWithValidators(), "",
                            "Wed, 01 Jan 2020 00:00:00 GMT"));
}

TEST(IsNotModified, IfModifiedSinceOlderThanMtime) {
  EXPECT_FALSE(IsNotModified(FileWithValidators(), "",
                             "Sun, 06 Nov 1994 08:49:36 GMT"));
}

TEST(IsNotModified, IfModifiedSinceInObsoleteFormat) {
  EXPECT_TRUE(IsNotModified(FileWithValidators(), "",
                            "Sunday, 06-Nov-94 08:49:37 GMT"));
}

TEST(IsNotModified, MalformedIfModifiedSinceIsIgnored) {
  const StaticFile f = FileWithValidators();
  EXPECT_FALSE(IsNotModified(f, "", "yesterday"));
  EXPECT_FALSE(IsNotModified(f, "", "Sun, 06 Nov 1994 08:49:37"));
  EXPECT_FALSE(IsNotModified(f, "", "Sun, 32 Dec 2099 00:00:00 GMT"));
}

TEST(IsNotModified, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
  const StaticFile f = FileWithValidators();
  // Etag differs, date says current: the etag decides.
  EXPECT_FALSE(IsNotModified(f, "\"other\"", kRfcExampleDate));
  // Etag matches, date says stale: the etag still decides.
  EXPECT_TRUE(IsNotModified(f, "\"f-ae1b981c3a4d715\"",
                            "Thu, 01 Jan 1970 00:00:00 GMT"));
}

}  // namespace
}  // namespace sigd::http
