// Keep-alive for the WebSocket clients of one I/O thread: one timer per
// thread, not one per connection.
//
// Why: Beast's idle timeout arms a timer wait on every open connection, and
// that pending wait holds a block of operation memory (~750 bytes on an idle
// connection, measured) for the connection's whole life. One sweep per
// thread visits the thread's clients every `tick` instead; each session
// counts the ticks it went without hearing from its client (see
// WsSession::KeepAliveTick: ping after --keepalive-seconds of silence, cut
// off when the pong does not come within as long again).
//
//   KeepAliveSweep sweep(context.get_executor(), hub, shard, keepalive / 4);
//   sweep.Start();  // before the thread runs its io_context, or on it
#ifndef SIGD_SERVER_WS_KEEPALIVE_H_
#define SIGD_SERVER_WS_KEEPALIVE_H_

#include <chrono>
#include <cstddef>

#include "boost/asio/io_context.hpp"
#include "server/hub/hub.h"
#include "server/ws/transport.h"

namespace sigd::ws {

class KeepAliveSweep {
 public:
  KeepAliveSweep(boost::asio::io_context::executor_type executor, hub::Hub& hub, size_t shard,
                 std::chrono::milliseconds tick);

  KeepAliveSweep(const KeepAliveSweep&) = delete;
  KeepAliveSweep& operator=(const KeepAliveSweep&) = delete;

  // Arms the first tick. The sweep must outlive its io_context's run; after
  // the context has stopped it may simply be destroyed.
  void Start();

 private:
  void Arm();

  Timer timer_;
  hub::Hub& hub_;
  const size_t shard_;
  const std::chrono::milliseconds tick_;
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_KEEPALIVE_H_
