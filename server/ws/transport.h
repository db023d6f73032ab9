// The byte stream under every HTTP and WebSocket session on the --listen
// port: a TCP socket, or TLS over one when the port serves https/wss. The
// choice is made per connection at run time, so the sessions are compiled
// once and a plain connection pays only two pointers for the option.
//
// Teardown: Beast finds async_teardown below by argument-dependent lookup.
// Beast 1.74's own teardown for a TCP socket stops draining after the first
// read (beast#1373's workaround tests the wrong variable), so when sigd fails
// a connection (1009, 1002, 1007) while the client's bytes are still arriving,
// the socket would be closed with unread data and the kernel would send a
// reset: the client would lose the close frame and never learn the code. This
// teardown shuts down sending, drains (bounded) until the peer's EOF and
// closes; Beast's close-handshake timer bounds the time. Under TLS it sends
// no close_notify: the WebSocket close frame has already ended the
// conversation, and waiting for the peer's close_notify (which OpenSSL's
// bidirectional shutdown does, while TLS 1.3 peers may still be sending
// data) held connections until the close timer cut them.
#ifndef SIGD_SERVER_WS_TRANSPORT_H_
#define SIGD_SERVER_WS_TRANSPORT_H_

#include <array>
#include <chrono>
#include <memory>
#include <utility>

#include "boost/asio/async_result.hpp"
#include "boost/asio/compose.hpp"
#include "boost/asio/basic_waitable_timer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/core/error.hpp"
#include "boost/beast/core/role.hpp"
#include "server/ws/socket.h"
#include "server/ws/tls_channel.h"

namespace sigd::ws {

class Transport {
 public:
  using executor_type = Socket::executor_type;

  // Plain TCP.
  explicit Transport(Socket&& socket) : socket_(std::move(socket)) {}
  // TLS with `context`, which the connection keeps alive (a reload replaces
  // the server's context; connections made before keep theirs).
  Transport(Socket&& socket,
            std::shared_ptr<boost::asio::ssl::context> context)
      : socket_(socket.get_executor()),
        context_(std::move(context)),
        tls_(TlsChannel::Make(std::move(socket), context_->native_handle())) {}

  Transport(Transport&&) = default;
  Transport& operator=(Transport&&) = default;
  // A TLS channel may outlive its transport while its writer's send is on
  // the socket; closing the socket ends that send and frees the channel.
  ~Transport() {
    if (tls_ != nullptr) close();
  }

  executor_type get_executor() { return socket().get_executor(); }
  Socket& socket() { return tls_ ? tls_->socket() : socket_; }
  bool is_tls() const { return tls_ != nullptr; }
  TlsChannel* tls() { return tls_.get(); }

  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(boost::beast::error_code, size_t)>(
        [this](auto h, const MutableBuffers& b) {
          if (tls_) {
            tls_->async_read_some(b, std::move(h));
          } else {
            socket_.async_read_some(b, std::move(h));
          }
        },
        handler, buffers);
  }

  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(boost::beast::error_code, size_t)>(
        [this](auto h, const ConstBuffers& b) {
          if (tls_) {
            tls_->async_write_some(b, std::move(h));
          } else {
            socket_.async_write_some(b, std::move(h));
          }
        },
        handler, buffers);
  }

  // The synchronous forms Beast's stream type checks ask for; sigd's sessions
  // use only the asynchronous ones (and TLS has no synchronous form).
  template <typename MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::beast::error_code& ec) {
    if (tls_) return Unsupported(ec);
    return socket_.read_some(buffers, ec);
  }
  template <typename MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    boost::beast::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <typename ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, boost::beast::error_code& ec) {
    if (tls_) return Unsupported(ec);
    return socket_.write_some(buffers, ec);
  }
  template <typename ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    boost::beast::error_code ec;
    const size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // Closes the TCP socket at once (no close_notify): cancels every pending
  // operation.
  void close() {
    boost::beast::error_code ignored;
    socket().close(ignored);
  }
  void close(boost::beast::error_code& ec) { socket().close(ec); }

 private:
  static size_t Unsupported(boost::beast::error_code& ec) {
    ec = boost::asio::error::operation_not_supported;
    return 0;
  }

  Socket socket_;  // unused (never opened) under TLS
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::shared_ptr<TlsChannel> tls_;
};

// Beast closes the lowest layer this way (found by argument-dependent
// lookup) when one of its timers expires.
inline void beast_close_socket(Transport& transport) { transport.close(); }

namespace detail {

// Drains at most this much after a close before giving up on a clean EOF.
inline constexpr size_t kMaxTeardownDrain = 1 << 20;

class TeardownOp {
 public:
  TeardownOp(Transport& transport, boost::beast::role_type role)
      : transport_(transport), role_(role) {}

  template <typename Self>
  void operator()(Self& self) {
    boost::beast::error_code ignored;
    if (role_ == boost::beast::role_type::server) {
      transport_.socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
    }
    buffer_ = std::make_unique<std::array<char, 2048>>();
    transport_.socket().async_read_some(boost::asio::buffer(*buffer_), std::move(self));
  }

  template <typename Self>
  void operator()(Self& self, boost::beast::error_code ec, size_t bytes) {
    drained_ += bytes;
    if (!ec && drained_ < kMaxTeardownDrain) {
      transport_.socket().async_read_some(boost::asio::buffer(*buffer_), std::move(self));
      return;
    }
    if (ec == boost::asio::error::eof) ec = {};
    boost::beast::error_code ignored;
    if (role_ == boost::beast::role_type::client) {
      transport_.socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
    }
    transport_.socket().close(ignored);
    buffer_.reset();
    self.complete(ec);
  }

 private:
  Transport& transport_;
  boost::beast::role_type role_;
  std::unique_ptr<std::array<char, 2048>> buffer_;
  size_t drained_ = 0;
};

}  // namespace detail

template <typename TeardownHandler>
void async_teardown(boost::beast::role_type role, Transport& transport,
                    TeardownHandler&& handler) {
  boost::asio::async_compose<TeardownHandler, void(boost::beast::error_code)>(
      detail::TeardownOp(transport, role), handler, transport.socket());
}

// The synchronous form Beast requires to exist; sigd only uses async close.
inline void teardown(boost::beast::role_type role, Transport& transport,
                     boost::beast::error_code& ec) {
  Socket& socket = transport.socket();
  if (role == boost::beast::role_type::server) {
    socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
  }
  std::array<char, 2048> buffer;
  size_t drained = 0;
  while (!ec && drained < detail::kMaxTeardownDrain) {
    drained += socket.read_some(boost::asio::buffer(buffer), ec);
  }
  if (ec == boost::asio::error::eof) ec = {};
  boost::beast::error_code ignored;
  socket.close(ignored);
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_TRANSPORT_H_
