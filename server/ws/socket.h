// The socket and timer types of sigd's HTTP and WebSocket sessions.
#ifndef SIGD_SERVER_WS_SOCKET_H_
#define SIGD_SERVER_WS_SOCKET_H_

#include <chrono>

#include "boost/asio/basic_stream_socket.hpp"
#include "boost/asio/basic_waitable_timer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"

namespace sigd::ws {

// A TCP socket on one io_context.
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                boost::asio::io_context::executor_type>;
// A timer on the same io_context as the socket.
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                boost::asio::io_context::executor_type>;

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_SOCKET_H_
