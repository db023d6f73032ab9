// The HTTP side of the --listen port: static files from the public folder,
// conditional requests. The request deadline (slowloris) is in the hostile
// battery, hostile_test.cc.

#include <fstream>
#include <string>

#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"
#include "tests/support/http_fetch.h"
#include "tests/support/test_server.h"

namespace sigd::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

using Response = HttpResponse;

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write("index.html", "<html>hello</html>");
    Write("app.js", "console.log(1)");
    Write("css/site.css", "body{}");
  }
  void Write(const std::string& name, const std::string& content) {
    const auto path = server_.public_dir() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << content;
  }
  TestServer server_;
};

TEST_F(HttpTest, RootServesIndexHtml) {
  Response res = Fetch(server_.ws_port(), http::verb::get, "/");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "<html>hello</html>");
  EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_FALSE(res[http::field::etag].empty());
  EXPECT_FALSE(res[http::field::last_modified].empty());
}

TEST_F(HttpTest, FilesGetTheirMimeTypes) {
  EXPECT_EQ(Fetch(server_.ws_port(), http::verb::get, "/app.js")[http::field::content_type],
            "text/javascript; charset=utf-8");
  Response css = Fetch(server_.ws_port(), http::verb::get, "/css/site.css?v=3");
  EXPECT_EQ(css.result(), http::status::ok);
  EXPECT_EQ(css[http::field::content_type], "text/css; charset=utf-8");
}

TEST_F(HttpTest, RevalidationAnswers304) {
  Response first = Fetch(server_.ws_port(), http::verb::get, "/app.js");
  const std::string etag(first[http::field::etag]);
  const std::string modified(first[http::field::last_modified]);
  Response by_etag = Fetch(server_.ws_port(), http::verb::get, "/app.js",
                           {{http::field::if_none_match, etag}});
  EXPECT_EQ(by_etag.result(), http::status::not_modified);
  EXPECT_TRUE(by_etag.body().empty());
  Response by_date = Fetch(server_.ws_port(), http::verb::get, "/app.js",
                           {{http::field::if_modified_since, modified}});
  EXPECT_EQ(by_date.result(), http::status::not_modified);
  Response stale = Fetch(server_.ws_port(), http::verb::get, "/app.js",
                         {{http::field::if_none_match, "\"other\""}});
  EXPECT_EQ(stale.result(), http::status::ok);
}

TEST_F(HttpTest, HeadHasHeadersButNoBody) {
  Response res = Fetch(server_.ws_port(), http::verb::head, "/app.js");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_length], "14");
}

// Traversal attempts are in the hostile battery (hostile_test.cc).
TEST_F(HttpTest, MissingFileIs404) {
  EXPECT_EQ(Fetch(server_.ws_port(), http::verb::get, "/nope.html").result(),
            http::status::not_found);
}

TEST_F(HttpTest, OtherMethodsAre405) {
  Response res = Fetch(server_.ws_port(), http::verb::post, "/");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
}

}  // namespace
}  // namespace sigd::testing

namespace sigd::testing {
namespace {

TEST_F(HttpTest, BrowserClientIsServedFromTheBinary) {
  // Even when the public folder holds its own sigd.js, the built-in wins.
  Write("sigd.js", "stale copy");
  Response js = Fetch(server_.ws_port(), http::verb::get, "/sigd.js");
  ASSERT_EQ(js.result(), http::status::ok);
  EXPECT_EQ(js[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_NE(js.body().find("Sigd"), std::string::npos);
  Response again = Fetch(server_.ws_port(), http::verb::get, "/sigd.js",
                         {{http::field::if_none_match, std::string(js[http::field::etag])}});
  EXPECT_EQ(again.result(), http::status::not_modified);
  Response module = Fetch(server_.ws_port(), http::verb::get, "/sigd.mjs");
  ASSERT_EQ(module.result(), http::status::ok);
  EXPECT_NE(module.body().find("export"), std::string::npos);
}

}  // namespace
}  // namespace sigd::testing
