// A stream layer between Beast's websocket::stream and the socket that lets
// two writers share one connection without interleaving their bytes.
//
// Why: sigd writes its own server->client data frames (FrameWriter, many
// queued frames gathered into one system call), while Beast keeps writing the
// control frames it owns (pongs from its read operation, keep-alive pings, the
// close frame) to the same socket. Each async_write_some here writes its whole
// buffer before it completes, so neither party's frame is ever split, and a
// write that arrives while the other party's write is in flight waits until
// that one is done. Beast never has more than one write of its own pending
// (its write lock), and sigd's writer never more than one, so one waiting
// slot is enough. sigd's writer may also write to a plain socket directly
// (one non-blocking sendmsg) while writing() is false, i.e. when no write of
// either party is on the socket.
//
// The layer is generic over the stream below (Transport: plain TCP or TLS):
// it only uses async_read_some/async_write_some and forwards teardown.
//
//   boost::beast::websocket::stream<GatedStream<Transport>> ws(Transport(...));
//   ws.next_layer().async_write_some(buffers, handler);  // whole buffer, in turn
#ifndef SIGD_SERVER_WS_GATED_STREAM_H_
#define SIGD_SERVER_WS_GATED_STREAM_H_

#include <cstddef>
#include <memory>
#include <utility>

#include "boost/asio/compose.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/error.hpp"
#include "boost/beast/core/role.hpp"
#include "boost/beast/websocket/teardown.hpp"
#include "server/ws/parked_op.h"

namespace sigd::ws {

template <typename NextLayer>
class GatedStream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;

  template <typename... Args>
  explicit GatedStream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  GatedStream(GatedStream&&) = default;
  GatedStream& operator=(GatedStream&&) = default;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }

  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return next_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  // Writes all of `buffers` (or fails), after any write already in flight.
  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, size_t)>(
        WriteOp<ConstBuffers>{*this, buffers}, handler, next_);
  }

  // Whether a write is on the socket now (or waiting for it).
  bool writing() const { return busy_; }

 private:
  template <typename ConstBuffers>
  struct WriteOp {
    GatedStream& stream;
    ConstBuffers buffers;

    // Start, or resume after waiting for the gate.
    template <typename Self>
    void operator()(Self& self) {
      if (stream.busy_) {
        // Parking allocates, but only when a control frame meets a data
        // write, which is rare next to the data writes themselves.
        stream.waiting_ = ParkedOp::Park(std::move(self));
        return;
      }
      stream.busy_ = true;
      boost::asio::async_write(stream.next_, buffers, std::move(self));
    }

    template <typename Self>
    void operator()(Self& self, boost::beast::error_code ec, size_t bytes) {
      stream.busy_ = false;
      // The parked write goes on the socket before this one's handler runs,
      // so it cannot be overtaken by a write that handler starts.
      if (std::unique_ptr<ParkedOp> next = std::move(stream.waiting_)) next->Resume();
      self.complete(ec, bytes);
    }
  };

  NextLayer next_;
  bool busy_ = false;
  std::unique_ptr<ParkedOp> waiting_;  // a write parked while the other party's is in flight
};

// Beast tears the connection down through the layer below (found by ADL there:
// sigd's own teardown for Transport, Beast's for other streams).
template <typename NextLayer, typename TeardownHandler>
void async_teardown(boost::beast::role_type role, GatedStream<NextLayer>& stream,
                    TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

template <typename NextLayer>
void teardown(boost::beast::role_type role, GatedStream<NextLayer>& stream,
              boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_GATED_STREAM_H_
