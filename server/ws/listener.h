// Accepts TCP connections on the --listen port and hands each to an HTTP
// session on the next shard (I/O thread), round robin. A WebSocket upgrade
// may then move to its path's shard (hub::Hub::Place).
#ifndef SIGD_SERVER_WS_LISTENER_H_
#define SIGD_SERVER_WS_LISTENER_H_

#include <memory>

#include "absl/status/status.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core/error.hpp"
#include "server/ws/context.h"
#include "server/ws/transport.h"

namespace sigd::ws {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::any_io_executor executor, Context& context);

  absl::Status Open(const boost::asio::ip::tcp::endpoint& endpoint);
  void Run();
  // Stops accepting; any thread.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void DoAccept();
  void OnAccept(size_t shard, boost::beast::error_code ec, Socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  Context& context_;
  size_t next_shard_ = 0;
  uint16_t port_ = 0;
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_LISTENER_H_
