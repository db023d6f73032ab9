// A one-shot blocking HTTP/1.1 request over loopback, for tests.
#ifndef SIGD_TESTS_SUPPORT_HTTP_FETCH_H_
#define SIGD_TESTS_SUPPORT_HTTP_FETCH_H_

#include <string>
#include <utility>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"

namespace sigd::testing {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

inline HttpResponse Fetch(
    uint16_t port, boost::beast::http::verb method, const std::string& target,
    const std::vector<std::pair<boost::beast::http::field, std::string>>& headers = {},
    const std::string& body = {}) {
  namespace http = boost::beast::http;
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [field, value] : headers) req.set(field, value);
  if (!body.empty()) req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == http::verb::head) parser.skip(true);
  http::read(socket, buffer, parser);
  return parser.release();
}

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_HTTP_FETCH_H_
