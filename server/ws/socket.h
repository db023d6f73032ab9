// The TCP socket under every WebSocket session, with its own teardown.
//
// Beast 1.74's teardown for a plain TCP socket stops draining after the first
// read (beast#1373's workaround tests the wrong variable), so when sigd fails
// a connection (1009 too big, 1002, 1007) while the client's bytes are still
// arriving, the socket is closed with unread data and the kernel sends a
// reset: the client loses the close frame and never learns the code. Beast
// finds this overload of async_teardown by argument-dependent lookup: it
// drains (bounded) until the peer's EOF, then closes. Beast's close-handshake
// timer bounds the time it takes.
#ifndef SIGD_SERVER_WS_SOCKET_H_
#define SIGD_SERVER_WS_SOCKET_H_

#include <array>
#include <memory>
#include <utility>

#include "boost/asio/compose.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/error.hpp"
#include "boost/beast/core/role.hpp"

namespace sigd::ws {

class Socket : public boost::asio::ip::tcp::socket {
 public:
  explicit Socket(boost::asio::ip::tcp::socket&& socket)
      : boost::asio::ip::tcp::socket(std::move(socket)) {}
};

namespace detail {

// Drains at most this much after a close before giving up on a clean EOF.
inline constexpr size_t kMaxTeardownDrain = 1 << 20;

class TeardownOp {
 public:
  TeardownOp(Socket& socket, boost::beast::role_type role) : socket_(socket), role_(role) {}

  template <typename Self>
  void operator()(Self& self) {
    boost::beast::error_code ignored;
    if (role_ == boost::beast::role_type::server) {
      socket_.shutdown(boost::asio::socket_base::shutdown_send, ignored);
    }
    buffer_ = std::make_unique<std::array<char, 2048>>();
    socket_.async_read_some(boost::asio::buffer(*buffer_), std::move(self));
  }

  template <typename Self>
  void operator()(Self& self, boost::beast::error_code ec, size_t bytes) {
    drained_ += bytes;
    if (!ec && drained_ < kMaxTeardownDrain) {
      socket_.async_read_some(boost::asio::buffer(*buffer_), std::move(self));
      return;
    }
    if (ec == boost::asio::error::eof) ec = {};
    boost::beast::error_code ignored;
    if (role_ == boost::beast::role_type::client) {
      socket_.shutdown(boost::asio::socket_base::shutdown_send, ignored);
    }
    socket_.close(ignored);
    buffer_.reset();
    self.complete(ec);
  }

 private:
  Socket& socket_;
  boost::beast::role_type role_;
  std::unique_ptr<std::array<char, 2048>> buffer_;
  size_t drained_ = 0;
};

}  // namespace detail

template <typename TeardownHandler>
void async_teardown(boost::beast::role_type role, Socket& socket, TeardownHandler&& handler) {
  boost::asio::async_compose<TeardownHandler, void(boost::beast::error_code)>(
      detail::TeardownOp(socket, role), handler, socket);
}

// The synchronous form Beast requires to exist; sigd only uses async close.
inline void teardown(boost::beast::role_type role, Socket& socket,
                     boost::beast::error_code& ec) {
  if (role == boost::beast::role_type::server) {
    socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
  }
  std::array<char, 2048> buffer;
  size_t drained = 0;
  while (!ec && drained < detail::kMaxTeardownDrain) drained += socket.read_some(boost::asio::buffer(buffer), ec);
  if (ec == boost::asio::error::eof) ec = {};
  boost::beast::error_code ignored;
  socket.close(ignored);
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_SOCKET_H_
