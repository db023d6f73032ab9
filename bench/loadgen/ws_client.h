// One benchmark WebSocket client: connects from a chosen loopback source
// address, then reads continuously (it must never become a slow consumer by
// accident) and writes queued frames one at a time. Lives on one io_context
// run by one thread, so it needs no strand; its owner keeps it alive.
#ifndef SIGD_BENCH_LOADGEN_WS_CLIENT_H_
#define SIGD_BENCH_LOADGEN_WS_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace sigd::bench {

class WsClient;

// Receives what clients read; called on the client's io thread.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void OnFrame(WsClient& client, std::string_view text) = 0;
  virtual void OnClosed(WsClient& client, const boost::system::error_code& ec) = 0;
};

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  // `done` gets the error (if any) and which step failed.
  using ConnectHandler = std::function<void(const boost::system::error_code&, const char* step)>;

  WsClient(boost::asio::io_context& ioc, uint32_t index, FrameSink& sink);

  void Connect(const boost::asio::ip::tcp::endpoint& server,
               const boost::asio::ip::address& source, const std::string& host,
               const std::string& target, bool browser_headers, ConnectHandler done);

  // Queues one text frame; call on the io thread.
  void Send(std::string frame);

  uint32_t index() const { return index_; }
  std::size_t queued() const { return queue_.size(); }
  bool open() const { return open_; }
  // The close code the server sent, 0 if none.
  int close_code() const { return static_cast<int>(ws_.reason().code); }

  // Per-client bookkeeping of the receive side, owned by the worker.
  std::vector<uint64_t>& next_seq() { return next_seq_; }
  bool probed = false;

 private:
  void OnConnect(const boost::system::error_code& ec);
  void OnHandshake(const boost::system::error_code& ec);
  void DoRead();
  void OnRead(const boost::system::error_code& ec, std::size_t bytes);
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec, std::size_t bytes);

  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::vector<uint64_t> next_seq_;  // per publisher: the sequence number expected next
  std::string host_;
  std::string target_;
  ConnectHandler on_connected_;
  FrameSink& sink_;
  const uint32_t index_;
  bool open_ = false;
  bool writing_ = false;
  bool browser_headers_ = false;
};

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_WS_CLIENT_H_
