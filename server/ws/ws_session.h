// One WebSocket client. Reads frames and hands them to the inbound handler;
// writes queued frames from a bounded queue of shared buffers, everything
// queued (up to a bound) in one gathered write.
//
// Lifetime: shared_from_this in every pending operation; the hub's registry
// holds a reference from just before the upgrade response until the read loop
// ends. Threading: the socket lives on one shard's single-threaded
// io_context, so every member runs on that thread and needs no lock; only
// Close() may be called from elsewhere, and it posts.
//
// Slow clients: the queue is bounded in bytes and frames (a frame is always
// admitted to an empty queue). A client that lets it fill is closed with 1013
// and counted; a close handshake that cannot complete is cut off by a timer,
// so a client that never reads cannot hold memory.
//
// Frames: Beast answers the upgrade; from then on the session reads and
// writes RFC 6455 frames itself. A plain socket is read when it is readable,
// into a scratch buffer of the thread's, and FrameReader parses the bytes in
// place, so an idle client holds no read buffer and no Beast stream. Data
// frames are written as a header plus the shared payload, many frames per
// system call; control frames (pongs, keep-alive pings, the close) are
// encoded into a small buffer of the session's that goes out ahead of the
// data frames of the next write.
#ifndef SIGD_SERVER_WS_WS_SESSION_H_
#define SIGD_SERVER_WS_WS_SESSION_H_

#include <sys/uio.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/websocket/stream.hpp"
#include "server/hub/client.h"
#include "server/ws/context.h"
#include "server/util/token_bucket.h"
#include "server/ws/frame_header.h"
#include "server/ws/frame_reader.h"
#include "server/ws/handler_pool.h"
#include "server/ws/transport.h"
#include "server/ws/write_batcher.h"

namespace sigd::ws {

class WsSession : public hub::Client,
                  public WriteBatcher::Writer,
                  public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Transport transport, size_t shard, Context& context,
            hub::ClientInfo info, Admission::Ticket ticket);
  ~WsSession() override;

  // Registers the client (in its seat, on this shard), then answers the
  // upgrade.
  void Run(boost::beast::http::request<boost::beast::http::string_body> request,
           hub::Hub::Seat seat);

  const hub::ClientInfo& info() const override { return info_; }
  bool Deliver(const hub::Frame& frame) override;
  void Close(uint16_t code, std::string reason) override;
  uint64_t messages_in() const override { return messages_in_.load(std::memory_order_relaxed); }
  uint64_t messages_out() const override {
    return messages_out_.load(std::memory_order_relaxed);
  }
  // Starts the write that ScheduleWrite deferred to the end of the burst.
  void FlushWrites() override;
  // From the shard's KeepAliveSweep, every --keepalive-seconds / 4: pings a
  // client silent for kPingAfterTicks ticks (at least --keepalive-seconds,
  // at most a quarter more), cuts off one still silent kTimeoutAfterTicks
  // ticks in (no pong within --keepalive-seconds of the ping).
  void KeepAliveTick() override;
  static constexpr uint8_t kTicksPerKeepalive = 4;
  static constexpr uint8_t kPingAfterTicks = kTicksPerKeepalive + 1;
  static constexpr uint8_t kTimeoutAfterTicks = kPingAfterTicks + kTicksPerKeepalive;

 private:
  void OnAccept(boost::beast::error_code ec);
  // Waits for the client's next bytes (unless reading has ended, or is held
  // back while the control frames owed to the client pile up).
  void DoRead();
  // A plain socket is readable: reads what it holds (a bounded amount per
  // turn, so one fast sender cannot hold the thread) and parses it.
  void OnReadable(boost::beast::error_code ec);
  // Under TLS: the channel's decrypted bytes, one byte between frames (an
  // idle client holds no buffer) and a pooled chunk within one.
  void OnTlsRead(boost::beast::error_code ec, size_t bytes);
  // Parses what was read and acts on each event; false once reading has
  // ended (a close or a protocol error was read, or the socket is gone).
  bool Consume(char* data, size_t size);
  void OnMessage(std::string_view message, bool text);
  // The client's close frame: answers it (unless it answers ours), then
  // tears the connection down.
  void OnPeerClose(uint16_t code);
  // A protocol error: closes with `code` (1002, 1007, 1009).
  void OnProtocolError(uint16_t code, std::string_view why);
  // After the client's close or a protocol error: drops what is queued,
  // arms the close grace and queues the close frame.
  void CloseAfterRead(uint16_t code, std::string_view reason);
  // The read loop's end: logs why and lets go of the client.
  void EndRead(boost::beast::error_code ec);
  // After the close handshake (or a failure): shuts down sending, drains
  // what the client still sends (bounded), closes; then EndRead.
  void Teardown();
  // Encodes a control frame for the next write.
  void QueueControl(uint8_t opcode, std::string_view payload);
  // Arms the timer that cuts the socket if the close does not complete.
  void ArmCloseTimer(std::chrono::steady_clock::duration after);
  size_t ControlBacklog() const {
    return control_ == nullptr ? 0 : control_->pending.size() + control_->sending.size();
  }
  // True while the control frames owed are too near their bound to read on.
  bool ReadsHeld() const;
  bool HasPendingWrite() const {
    return head_ < frames_.size() || (control_ != nullptr && !control_->pending.empty());
  }
  // Writes what is queued once the thread's current burst of handlers is
  // done (WriteBatcher), so frames of several messages share one write.
  void ScheduleWrite();
  // Writes what is queued, again and again while each write completes at
  // once and leaves a full batch behind (a loop, not a recursion).
  void DoWrite();
  // Writes the next frames (a batch of them) at once if the socket takes
  // them without blocking (plain TCP, no write in flight); most writes
  // complete so, which saves Asio's operation, its reactor lock and the
  // posted completion. At the end of a burst the send is queued with the
  // WriteBatcher's, to go in its one system call (OnQueuedSend goes on).
  // What the socket does not take goes asynchronously.
  void WriteQueued();
  void OnQueuedSend(long result) override;
  // The buffers of the write: the control frames being sent, then the
  // in_flight_ frames from head_: [first, last), in `single` for one frame
  // (or none), else in batch_.
  struct WriteView {
    std::array<boost::asio::const_buffer, 3> single;
    boost::asio::const_buffer* first = nullptr;
    boost::asio::const_buffer* last = nullptr;
    size_t total = 0;  // bytes
  };
  void WriteBuffers(WriteView& view);
  // After `written` bytes of the view went at once: completes the write (if
  // `complete_now` allows), or writes the rest asynchronously.
  void ContinueWrite(WriteView& view, size_t written, boost::beast::error_code ec,
                     bool complete_now = true);
  // Under TLS, after a send of the records sealed from the view took `sent`
  // bytes of them: completes the write, or leaves the rest to the channel.
  void ContinueSealedWrite(WriteView& view, size_t sent);
  // One non-blocking sendmsg: the bytes sent, 0 if the socket is full.
  static size_t SendNow(int fd, const iovec* iov, size_t count, boost::beast::error_code& ec);
  void OnWrite(boost::beast::error_code ec, size_t bytes);
  void StartClose(uint16_t code, std::string reason);
  // Closes the client with 1008 when its JWT expires.
  void StartExpiryTimer();
  void DoClose();
  void Finish();
  void Enqueue(const hub::Frame& frame);
  // Forgets the queued frames not yet on the socket, releasing them from the
  // queue gauges; returns how many there were.
  size_t DropUnsent();
  // Where this client's lost frames are counted: slow_client_queue after a
  // 1013 close, client_gone otherwise.
  Metrics::Counter& DroppedCounter();
  // False when the message must be dropped for the client's rate limit.
  bool WithinRateLimit();

  struct WriteBatch;
  struct FreeWriteBatch {
    void operator()(WriteBatch* batch) const;
  };
  using WriteBatchPtr = std::unique_ptr<WriteBatch, FreeWriteBatch>;
  static WriteBatchPtr NewWriteBatch();
  void CloseSocket();

  Transport transport_;
  // Beast's stream over transport_, only while it answers the upgrade;
  // without permessage-deflate support (sigd declines the extension).
  using UpgradeStream = boost::beast::websocket::stream<Transport&, /*deflateSupported=*/false>;
  std::unique_ptr<UpgradeStream> upgrade_;
  FrameReader reader_;
  // Under TLS, within a frame: the chunk being read into (kTlsReadChunk).
  struct FreeTlsChunk {
    void operator()(char* chunk) const;
  };
  std::unique_ptr<char, FreeTlsChunk> tls_chunk_;
  // Control frames owed to the client, encoded (pending), and the ones the
  // write on the socket carries (sending); only while there are any.
  struct ControlFrames {
    std::string pending;
    std::string sending;
  };
  std::unique_ptr<ControlFrames> control_;
  Context& context_;
  ShardGauges& gauges_;
  const hub::ClientInfo info_;

  // Outbound queue: frames_[head_..] are pending; frames_[head_..head_ +
  // in_flight_) are on the socket while writing_.
  std::vector<hub::Frame> frames_;
  size_t head_ = 0;
  uint32_t in_flight_ = 0;
  // The header of a write of one frame; a write of several uses batch_,
  // which exists only while the queue holds more than one frame.
  uint8_t header_[kMaxFrameHeader];
  WriteBatchPtr batch_;
  uint64_t queued_bytes_ = 0;
  bool open_ = false;        // upgrade completed
  bool writing_ = false;
  bool write_deferred_ = false;  // in the WriteBatcher's list
  bool closing_ = false;     // no more frames accepted
  bool close_sent_ = false;
  bool registered_ = false;
  // The close frame: close_sent_ once it is queued, then on the socket,
  // then written.
  bool close_queued_ = false;
  bool close_in_flight_ = false;
  bool close_written_ = false;
  // The read side: a read is pending; no more will be started (a close or
  // an error was read); the teardown is under way; EndRead has run; DoRead
  // waits for the control frames owed to drain.
  bool reading_ = false;
  bool read_stopped_ = false;
  bool tearing_down_ = false;
  bool read_done_ = false;
  bool read_held_ = false;
  bool tls_read_into_chunk_ = false;  // which buffer the pending TLS read fills
  char first_byte_ = 0;
  bool completing_now_ = false;  // OnWrite runs inside WriteQueued
  bool write_again_ = false;     // ... and left a full batch for DoWrite's loop
  // Keep-alive ticks since the client last sent anything (a frame, a ping, a
  // pong); reset by every read.
  uint8_t silent_ticks_ = 0;
  uint16_t close_code_ = 1000;
  CloseReason end_reason_ = CloseReason::kReset;
  // Only once closing: the reason to send, and the timer that cuts the socket
  // if the close handshake does not complete.
  struct Closing {
    std::string reason;
    Timer timer;
  };
  std::unique_ptr<Closing> closing_state_;
  std::unique_ptr<Timer> expiry_timer_;  // only with a JWT
  Admission::Ticket ticket_;
  // Only with --rate-limit: the message rate, and a second bucket that runs
  // dry when a client keeps sending far above it (then 1008).
  std::unique_ptr<std::pair<util::TokenBucket, util::TokenBucket>> rate_;

  std::atomic<uint64_t> messages_in_{0};
  std::atomic<uint64_t> messages_out_{0};
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_WS_SESSION_H_
