// The HTTP side of the --listen port: static files from the public folder,
// conditional requests, and the request deadline.
#include <poll.h>

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

TEST_F(HttpTest, TraversalAndMissingFilesAre404) {
  for (const char* target : {"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/css/../../x",
                             "/..%2fetc%2fpasswd", "/nope.html", "/%00"}) {
    Response res = Fetch(server_.ws_port(), http::verb::get, target);
    EXPECT_TRUE(res.result() == http::status::not_found ||
                res.result() == http::status::bad_request)
        << target << " -> " << res.result_int();
  }
}

TEST_F(HttpTest, OtherMethodsAre405) {
  Response res = Fetch(server_.ws_port(), http::verb::post, "/");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
}

TEST(HttpDeadline, TricklingRequestIsCutOffAtTheDeadline) {
  TestServer server([](config::Config& c) { c.handshake_timeout = std::chrono::seconds(1); });
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), server.ws_port()});
  net::write(socket, net::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n")));
  // Keep trickling header bytes; the server must close anyway once its
  // deadline (not reset by the bytes) passes.
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  beast::error_code ec;
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < give_up) {
    net::write(socket, net::buffer(std::string("X-A: b\r\n")), ec);
    if (ec) {
      closed = true;
      break;
    }
    socket.non_blocking(true);
    char byte;
    const size_t n = socket.read_some(net::buffer(&byte, 1), ec);
    socket.non_blocking(false);
    if (ec == net::error::eof || ec == net::error::connection_reset || n > 0) closed = true;
    if (!closed) {
      // Wait up to 200 ms for the server to close the socket (the event this
      // test waits for), then trickle another header line.
      pollfd pfd{socket.native_handle(), POLLIN, 0};
      ::poll(&pfd, 1, 200);
    }
  }
  EXPECT_TRUE(closed);
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
