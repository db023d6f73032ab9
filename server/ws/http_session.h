// One TCP connection before (or instead of) a WebSocket: completes the TLS
// handshake when the port serves https/wss, reads HTTP requests under one
// total deadline (not reset by trickling bytes), serves static files with
// keep-alive, and hands an upgrade request to a WebSocket session.
#ifndef SIGD_SERVER_WS_HTTP_SESSION_H_
#define SIGD_SERVER_WS_HTTP_SESSION_H_

#include <memory>
#include <optional>

#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "server/http/embedded_assets.h"
#include "server/ws/context.h"
#include "server/ws/transport.h"

namespace sigd::ws {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Transport transport, size_t shard, Context& context);
  void Run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  void OnHandshake(boost::beast::error_code ec);
  // (Re)starts the deadline: when it passes, the connection is closed,
  // whatever is pending.
  void ArmDeadline();
  void DoRead(bool arm = true);
  void OnRead(boost::beast::error_code ec, size_t bytes);
  // `query_token`: the ?token= parameter, already cut from the target.
  void Upgrade(Request request, std::optional<std::string> query_token);
  // What an accepted upgrade carries to the shard that will serve it.
  struct Upgrading {
    hub::ClientInfo info;  // without the shard's shared details yet
    hub::Query query;
    boost::asio::ip::tcp::endpoint local;
    Request request;
    Admission::Ticket ticket;
    hub::Hub::Seat seat;
  };
  // On the seat's shard: completes `info` and starts the WebSocket session.
  static void OpenWebSocket(Transport transport, Context& context, Upgrading upgrading);
  void ServeStatic(const Request& request);
  void ServeEmbedded(const Request& request, const sigd::http::EmbeddedAsset& asset);
  template <typename Response>
  void Send(std::shared_ptr<Response> response);
  void OnWrite(bool keep_alive, boost::beast::error_code ec, size_t bytes);
  void SendError(const Request& request, boost::beast::http::status status,
                 std::string_view message, std::string_view www_authenticate = {});

  Transport transport_;
  Timer deadline_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<void> response_;  // keeps the response in flight alive
  const size_t shard_;
  Context& context_;
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_HTTP_SESSION_H_
