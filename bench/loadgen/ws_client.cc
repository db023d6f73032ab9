#include "bench/loadgen/ws_client.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket.hpp>

namespace sigd::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

WsClient::WsClient(net::io_context& ioc, uint32_t index, FrameSink& sink)
    : ws_(ioc), sink_(sink), index_(index) {}

void WsClient::Connect(const tcp::endpoint& server, const net::ip::address& source,
                       const std::string& host, const std::string& target,
                       bool browser_headers, ConnectHandler done) {
  host_ = host;
  target_ = target;
  browser_headers_ = browser_headers;
  on_connected_ = std::move(done);
  tcp::socket& socket = ws_.next_layer();
  beast::error_code ec;
  if (socket.open(server.protocol(), ec); ec) return on_connected_(ec, "socket");
  // Choose the port at connect() rather than bind(), so each source address
  // offers its whole ephemeral range per destination (Linux 4.2+).
  const int one = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (socket.bind(tcp::endpoint(source, 0), ec); ec) return on_connected_(ec, "bind");
  socket.async_connect(server, beast::bind_front_handler(&WsClient::OnConnect, shared_from_this()));
}

void WsClient::OnConnect(const beast::error_code& ec) {
  if (ec) return on_connected_(ec, "connect");
  beast::error_code ignored;
  ws_.next_layer().set_option(tcp::no_delay(true), ignored);
  ws_.auto_fragment(false);
  ws_.read_message_max(16 * 1024 * 1024);
  if (browser_headers_) {
    // What Chromium sends with a page's upgrade (less Sec-WebSocket-Key and
    // Version, which Beast sets).
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(beast::http::field::user_agent,
                  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Safari/537.36");
      request.set(beast::http::field::origin, "http://127.0.0.1:8091");
      request.set(beast::http::field::pragma, "no-cache");
      request.set(beast::http::field::cache_control, "no-cache");
      request.set(beast::http::field::accept_encoding, "gzip, deflate, br");
      request.set(beast::http::field::accept_language, "en-US,en;q=0.9");
      request.set(beast::http::field::cookie,
                  "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1");
      request.set(beast::http::field::sec_websocket_extensions,
                  "permessage-deflate; client_max_window_bits");
    }));
  }
  ws_.async_handshake(host_, target_,
                      beast::bind_front_handler(&WsClient::OnHandshake, shared_from_this()));
}

void WsClient::OnHandshake(const beast::error_code& ec) {
  if (ec) return on_connected_(ec, "handshake");
  open_ = true;
  ws_.text(true);
  DoRead();
  ConnectHandler done = std::move(on_connected_);
  done({}, "");
  if (!queue_.empty() && !writing_) DoWrite();
}

void WsClient::DoRead() {
  ws_.async_read(buffer_, beast::bind_front_handler(&WsClient::OnRead, shared_from_this()));
}

void WsClient::OnRead(const beast::error_code& ec, std::size_t) {
  if (ec) {
    open_ = false;
    return sink_.OnClosed(*this, ec);
  }
  const auto data = buffer_.cdata();
  sink_.OnFrame(*this, std::string_view(static_cast<const char*>(data.data()), data.size()));
  buffer_.consume(buffer_.size());
  DoRead();
}

void WsClient::Send(std::string frame) {
  queue_.push_back(std::move(frame));
  if (open_ && !writing_) DoWrite();
}

void WsClient::DoWrite() {
  writing_ = true;
  ws_.async_write(net::buffer(queue_.front()),
                  beast::bind_front_handler(&WsClient::OnWrite, shared_from_this()));
}

void WsClient::OnWrite(const beast::error_code& ec, std::size_t) {
  writing_ = false;
  if (ec) {
    queue_.clear();
    return;  // the read side reports the closed connection
  }
  queue_.pop_front();
  if (!queue_.empty() && open_) DoWrite();
}

}  // namespace sigd::bench
