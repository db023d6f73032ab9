#include "server/ws/ws_session.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <new>
#include <type_traits>
#include <utility>

#include "absl/time/clock.h"

#include "boost/asio/post.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/core/stream_traits.hpp"
#include "boost/beast/websocket/rfc6455.hpp"
#include "server/protocol/frames.h"
#include "server/ws/handler_pool.h"
#include "spdlog/spdlog.h"

namespace sigd::ws {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

namespace {

// A queue whose storage grew during a burst is given back once it drains.
constexpr size_t kKeepQueueCapacity = 64;
// How long a close handshake may take before the socket is cut.
constexpr std::chrono::seconds kCloseGrace{5};
// One write takes at most this many queued frames (two buffers each: asio
// hands at most 64 to one sendmsg) and, past the first frame, this many
// payload bytes.
constexpr size_t kMaxBatchFrames = 32;
constexpr size_t kMaxBatchBytes = 256 * 1024;
// The thread's read buffer for plain sockets, a TLS session's chunk within a
// frame, and how many bytes of encoded control frames may wait for the socket
// before the session stops reading (a client that pings and never reads).
constexpr size_t kReadScratch = 64 * 1024;
constexpr size_t kTlsReadChunk = 2048;
constexpr size_t kMaxControlBacklog = 64 * 1024;
// Reads wait until at least this much room is left under that bound, so a
// client near it is not read a few bytes at a time.
constexpr size_t kMinReadRoom = 4 * 1024;

// A buffer sequence over a range of const_buffers that outlives the write.
struct BufferSpan {
  using value_type = net::const_buffer;
  using const_iterator = const net::const_buffer*;
  const net::const_buffer* first;
  const net::const_buffer* last;
  const_iterator begin() const { return first; }
  const_iterator end() const { return last; }
};

bool WantsWelcome(const hub::ClientInfo& info) {
  auto it = info.query->find("welcome");
  return it != info.query->end() && (it->second == "1" || it->second == "true");
}

}  // namespace

// Headers and buffers of a write of several frames, from HandlerPool (a
// client gets one whenever a burst queues several frames for it).
struct WsSession::WriteBatch {
  uint8_t headers[kMaxBatchFrames][kMaxFrameHeader];
  net::const_buffer buffers[2 * kMaxBatchFrames + 1];  // and the control frames
};

void WsSession::FreeWriteBatch::operator()(WriteBatch* batch) const {
  static_assert(std::is_trivially_destructible_v<WriteBatch>);
  HandlerPool::Deallocate(batch, sizeof(WriteBatch));
}

WsSession::WriteBatchPtr WsSession::NewWriteBatch() {
  return WriteBatchPtr(new (HandlerPool::Allocate(sizeof(WriteBatch))) WriteBatch);
}

WsSession::WsSession(Transport transport, size_t shard, Context& context,
                     hub::ClientInfo info, Admission::Ticket ticket)
    : hub::Client(shard),
      transport_(std::move(transport)),
      reader_(context.config.max_message_bytes),
      context_(context),
      gauges_(context.metrics.shards[shard]),
      info_(std::move(info)),
      ticket_(std::move(ticket)) {
  if (const uint32_t rate = context.config.rate_limit; rate > 0) {
    const double burst = context.config.rate_limit_burst > 0 ? context.config.rate_limit_burst : rate;
    rate_ = std::make_unique<std::pair<util::TokenBucket, util::TokenBucket>>(
        util::TokenBucket(rate, burst), util::TokenBucket(rate, 2 * burst));
  }
}

bool WsSession::WithinRateLimit() {
  if (rate_ == nullptr) return true;
  const auto now = util::TokenBucket::Clock::now();
  if (rate_->first.Take(now)) return true;
  context_.metrics.rate_limited.fetch_add(1, std::memory_order_relaxed);
  if (!rate_->second.Take(now)) {
    spdlog::info("client {} on {} from {} closed: sustained sending over the rate limit",
                 info_.id, info_.path, info_.remote_address);
    StartClose(1008, "rate limit exceeded");
    return false;
  }
  Deliver(hub::TextFrame(
      protocol::ErrorFrame(protocol::kRateLimited, "too many messages; this one was dropped")));
  return false;
}

WsSession::~WsSession() = default;

void WsSession::Enqueue(const hub::Frame& frame) {
  frames_.push_back(frame);
  queued_bytes_ += frame.size();
  gauges_.queued_frames.fetch_add(1, std::memory_order_relaxed);
  gauges_.queued_bytes.fetch_add(static_cast<int64_t>(frame.size()), std::memory_order_relaxed);
}

void WsSession::Run(beast::http::request<beast::http::string_body> request,
                    hub::Hub::Seat seat) {
  const config::Config& config = context_.config;
  upgrade_ = std::make_unique<UpgradeStream>(transport_);
  // Beast times the upgrade; idle clients are the shard's KeepAliveSweep's.
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = config.handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  upgrade_->set_option(timeouts);
  // The session outlives its upgrade, so the decorator can point at it
  // rather than hold a copy of the id.
  upgrade_->set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
    res.set(beast::http::field::server, "sigd");
    res.set("X-Signal-Client-Id", info_.id);
  }));

  // The welcome frame is queued before the client is registered, so it is
  // the first frame the client sees even if a broadcast races the upgrade.
  if (!info_.raw && WantsWelcome(info_)) {
    Enqueue(hub::TextFrame(protocol::WelcomeFrame(info_.id)));
  }
  // Registered before the upgrade response: from the moment the client's
  // socket opens it receives broadcasts and is listed.
  registered_ = true;
  context_.hub.Register(shared_from_this(), std::move(seat));
  upgrade_->async_accept(request,
                         beast::bind_front_handler(&WsSession::OnAccept, shared_from_this()));
}

void WsSession::OnAccept(beast::error_code ec) {
  // Beast's stream has done its part; it goes once its operation has
  // unwound.
  net::post(transport_.get_executor(), [self = shared_from_this()] { self->upgrade_.reset(); });
  if (ec) {
    context_.metrics.handshakes_failed.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("upgrade failed for {} on {}: {}", info_.remote_address, info_.path,
                  ec.message());
    read_done_ = true;
    Finish();
    return;
  }
  open_ = true;
  context_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
  if (info_.subject().empty()) {
    spdlog::debug("client {} connected on {} from {}", info_.id, info_.path,
                  info_.remote_address);
  } else {
    spdlog::debug("client {} connected on {} from {} as {}", info_.id, info_.path,
                  info_.remote_address, info_.subject());
  }
  if (info_.token_expires() != absl::InfiniteFuture()) StartExpiryTimer();
  context_.inbound.OnConnect(*this);
  if (head_ < frames_.size()) {
    DoWrite();
  } else if (closing_) {
    DoClose();
  }
  DoRead();
}

void WsSession::StartExpiryTimer() {
  // A client whose JWT runs out is closed then (1008), so a revoked user
  // cannot stay connected on an old token. Far-off expiries are capped; the
  // timer is simply re-armed.
  constexpr absl::Duration kMaxWait = absl::Hours(24);
  const absl::Duration left = info_.token_expires() - absl::Now();
  expiry_timer_ = std::make_unique<Timer>(transport_.get_executor());
  expiry_timer_->expires_after(absl::ToChronoMilliseconds(
      std::clamp(left, absl::ZeroDuration(), kMaxWait)));
  expiry_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closing_ || !self->registered_) return;
    if (self->info_.token_expires() > absl::Now()) {
      self->StartExpiryTimer();
      return;
    }
    spdlog::info("client {} on {} closed: token expired", self->info_.id, self->info_.path);
    self->StartClose(1008, "token expired");
  });
}

bool WsSession::ReadsHeld() const {
  return ControlBacklog() > kMaxControlBacklog - kMinReadRoom;
}

void WsSession::FreeTlsChunk::operator()(char* chunk) const {
  HandlerPool::Deallocate(chunk, kTlsReadChunk);
}

void WsSession::DoRead() {
  if (read_stopped_ || read_done_ || reading_) return;
  if (!transport_.socket().is_open()) {
    // Closed by what the last bytes did (a write error, a close timer).
    EndRead(net::error::operation_aborted);
    return;
  }
  if (ReadsHeld()) {
    // A client that sends pings faster than it reads the pongs: its bytes
    // wait in the kernel until the pongs drain (OnWrite reads again).
    read_held_ = true;
    return;
  }
  if (TlsChannel* tls = transport_.tls()) {
    // Between frames one byte, so an idle client holds no buffer; within a
    // frame a chunk from the pool.
    const bool within_frame = reader_.within_frame();
    if (!within_frame) tls_chunk_.reset();
    if (within_frame && tls_chunk_ == nullptr) {
      tls_chunk_.reset(static_cast<char*>(HandlerPool::Allocate(kTlsReadChunk)));
    }
    const net::mutable_buffer into = within_frame ? net::buffer(tls_chunk_.get(), kTlsReadChunk)
                                                  : net::buffer(&first_byte_, 1);
    tls_read_into_chunk_ = within_frame;
    reading_ = true;
    tls->async_read_some(into, Pooled([self = shared_from_this()](beast::error_code ec,
                                                                   size_t bytes) {
      self->OnTlsRead(ec, bytes);
    }));
    return;
  }
  reading_ = true;
  transport_.socket().async_wait(
      Socket::wait_read,
      Pooled([self = shared_from_this()](beast::error_code ec) { self->OnReadable(ec); }));
}

void WsSession::OnTlsRead(beast::error_code ec, size_t bytes) {
  reading_ = false;
  if (read_done_) {
    tls_chunk_.reset();
    return;
  }
  if (ec) {
    EndRead(ec);
    return;
  }
  if (!transport_.socket().is_open()) {
    // Decrypted after the socket was closed (a keep-alive cut, a write
    // error): the loop ends here.
    EndRead(net::error::operation_aborted);
    return;
  }
  // A chunk holds at most kTlsReadChunk bytes of pings, whose pongs take no
  // more: the backlog stays within its bound by that much.
  char* data = tls_read_into_chunk_ ? tls_chunk_.get() : &first_byte_;
  if (Consume(data, bytes)) DoRead();
}

namespace {

// The thread's read buffer: every plain session of the thread reads into it
// in turn and parses what it read before the next one reads.
char* ReadScratch() {
  static thread_local std::unique_ptr<char[]> scratch(new char[kReadScratch]);
  return scratch.get();
}

}  // namespace

void WsSession::OnReadable(beast::error_code ec) {
  reading_ = false;
  if (read_done_) return;
  if (ec) {
    EndRead(ec);
    return;
  }
  char* const scratch = ReadScratch();
  // At most this many full reads per turn; then the other clients of the
  // thread go first, and the socket is waited on again (still readable).
  for (int turn = 0; turn < 4;) {
    // The socket may have been closed by what the last bytes did.
    if (!transport_.socket().is_open()) {
      EndRead(net::error::operation_aborted);
      return;
    }
    // A pong is never larger than the ping it answers: reading no more than
    // the backlog has room for keeps the control frames owed within
    // kMaxControlBacklog.
    if (ReadsHeld()) break;  // DoRead holds the reads
    const size_t want = std::min(kReadScratch, kMaxControlBacklog - ControlBacklog());
    const ssize_t got =
        ::recv(transport_.socket().native_handle(), scratch, want, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      EndRead(beast::error_code(errno, boost::system::system_category()));
      return;
    }
    if (got == 0) {
      EndRead(net::error::eof);
      return;
    }
    if (!Consume(scratch, static_cast<size_t>(got))) return;
    if (static_cast<size_t>(got) < want) break;
    ++turn;
  }
  DoRead();
}

bool WsSession::Consume(char* data, size_t size) {
  // Any bytes from the client, pings and pongs included, show it is alive.
  silent_ticks_ = 0;
  char* p = data;
  char* const end = data + size;
  while (true) {
    const FrameEvent event = reader_.Next(p, end);
    switch (event.kind) {
      case FrameEvent::kNeedMore:
        return !read_stopped_ && !read_done_;
      case FrameEvent::kMessage:
        OnMessage(event.data, event.text);
        break;
      case FrameEvent::kPing:
        // Answered even while closing, until the close frame is queued.
        if (!close_sent_) QueueControl(kOpPong, event.data);
        break;
      case FrameEvent::kPong:
        break;
      case FrameEvent::kClose:
        read_stopped_ = true;
        OnPeerClose(event.code);
        return false;
      case FrameEvent::kError:
        read_stopped_ = true;
        OnProtocolError(event.code, event.data);
        return false;
    }
    if (read_done_) return false;
  }
}

void WsSession::OnMessage(std::string_view message, bool text) {
  if (closing_ || !WithinRateLimit()) return;
  messages_in_.fetch_add(1, std::memory_order_relaxed);
  context_.inbound.OnMessage(*this, message, text);
}

void WsSession::OnPeerClose(uint16_t code) {
  if (close_sent_) {
    // The answer to our close: the handshake is complete once ours is out.
    if (close_written_) Teardown();
    return;
  }
  if (!closing_) {
    closing_ = true;
    end_reason_ = CloseReason::kClient;
  }
  // The answer echoes the client's code; a close without one is answered
  // as a normal closure.
  CloseAfterRead(code == 1005 ? 1000 : code, {});
}

void WsSession::OnProtocolError(uint16_t code, std::string_view why) {
  if (!closing_) {
    closing_ = true;
    end_reason_ = code == 1009   ? CloseReason::kTooBig
                  : code == 1007 ? CloseReason::kBadPayload
                                 : CloseReason::kProtocol;
    spdlog::info("client {} on {} from {} closed: {} ({})", info_.id, info_.path,
                 info_.remote_address, kCloseReasonNames[static_cast<int>(end_reason_)], why);
  }
  if (close_sent_) {
    // Our close is out or on its way; only the teardown is left.
    if (close_written_) Teardown();
    return;
  }
  CloseAfterRead(code, why);
}

void WsSession::CloseAfterRead(uint16_t code, std::string_view reason) {
  // What is still queued will not be sent (no data may follow a close).
  DroppedCounter().fetch_add(DropUnsent(), std::memory_order_relaxed);
  ArmCloseTimer(kCloseGrace);
  close_code_ = code;
  if (closing_state_) closing_state_->reason.assign(reason);
  DoClose();
}

void WsSession::EndRead(beast::error_code ec) {
  if (read_done_) return;
  read_done_ = true;
  if (!reading_) tls_chunk_.reset();  // else OnTlsRead lets it go
  if (!closing_) end_reason_ = CloseReason::kReset;
  if (closing_ && end_reason_ == CloseReason::kTimeout) {
    // KeepAliveTick cut the connection and said why.
  } else if (end_reason_ == CloseReason::kClient || end_reason_ == CloseReason::kReset) {
    spdlog::debug("client {} on {} disconnected: {}", info_.id, info_.path,
                  ec ? ec.message() : std::string("closed"));
  }
  Finish();
}

void WsSession::Teardown() {
  if (tearing_down_ || read_done_) return;
  tearing_down_ = true;
  read_stopped_ = true;
  if (!reading_) tls_chunk_.reset();
  async_teardown(beast::role_type::server, transport_,
                 Pooled([self = shared_from_this()](beast::error_code ec) {
                   self->tearing_down_ = false;
                   self->EndRead(ec);
                 }));
}

void WsSession::ArmCloseTimer(std::chrono::steady_clock::duration after) {
  if (closing_state_ == nullptr) {
    closing_state_ =
        std::make_unique<Closing>(Closing{{}, Timer(transport_.get_executor())});
  }
  Timer& timer = closing_state_->timer;
  timer.expires_after(after);
  timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    self->CloseSocket();
  });
}

void WsSession::QueueControl(uint8_t opcode, std::string_view payload) {
  if (control_ == nullptr) control_ = std::make_unique<ControlFrames>();
  uint8_t header[kMaxFrameHeader];
  const size_t size = EncodeFrameHeader(opcode, payload.size(), header);
  control_->pending.append(reinterpret_cast<const char*>(header), size);
  control_->pending.append(payload);
  if (open_ && !writing_) ScheduleWrite();
}

bool WsSession::Deliver(const hub::Frame& frame) {
  if (closing_ || !registered_) return false;
  const size_t pending = frames_.size() - head_;
  if (pending > 0 && (pending >= context_.config.queue_max_frames ||
                      queued_bytes_ + frame.size() > context_.config.queue_max_bytes)) {
    context_.metrics.slow_clients_dropped.fetch_add(1, std::memory_order_relaxed);
    // This frame is lost with the ones queued (StartClose counts those).
    context_.metrics.frames_dropped_slow.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("client {} on {} closed: outbound queue full ({} frames, {} bytes)", info_.id,
                 info_.path, pending, queued_bytes_);
    StartClose(1013, "outbound queue full");
    return false;
  }
  Enqueue(frame);
  if (open_ && !writing_) ScheduleWrite();
  return true;
}

void WsSession::ScheduleWrite() {
  // A full write's worth is queued: waiting for the burst to end would only
  // let the queue grow towards its limit (a client's own burst of messages
  // must not make it a slow consumer).
  const bool full = frames_.size() - head_ >= kMaxBatchFrames || queued_bytes_ >= kMaxBatchBytes;
  if (!full) {
    if (write_deferred_) return;
    if (WriteBatcher::Defer(shared_from_this())) {
      write_deferred_ = true;
      return;
    }
  }
  if (completing_now_) {
    write_again_ = true;  // DoWrite's loop writes it
  } else {
    DoWrite();
  }
}

void WsSession::FlushWrites() {
  write_deferred_ = false;
  if (!writing_ && HasPendingWrite()) DoWrite();
}

void WsSession::DoWrite() {
  do {
    write_again_ = false;
    WriteQueued();
  } while (write_again_ && !writing_ && HasPendingWrite());
}

void WsSession::WriteQueued() {
  // Nothing may follow the close frame, and nothing goes out once the read
  // loop has ended (Finish has let the client go).
  if (close_written_ || close_in_flight_ || read_done_ || !transport_.socket().is_open()) return;
  // The control frames owed go first: the close only ever comes after the
  // last data frame, the others may come between any two.
  if (control_ != nullptr && !control_->pending.empty()) {
    control_->sending.swap(control_->pending);
    if (close_queued_) {
      close_queued_ = false;
      close_in_flight_ = true;
    }
  }
  const bool control = control_ != nullptr && !control_->sending.empty();
  const size_t pending = close_in_flight_ ? 0 : frames_.size() - head_;
  if (pending == 0 && !control) return;
  size_t n = 0;
  if (pending > 0) {
    n = 1;
    size_t bytes = frames_[head_].size();
    while (n < pending && n < kMaxBatchFrames &&
           bytes + frames_[head_ + n].size() <= kMaxBatchBytes) {
      bytes += frames_[head_ + n].size();
      ++n;
    }
  }
  writing_ = true;
  in_flight_ = static_cast<uint32_t>(n);
  WriteView view;
  WriteBuffers(view);
  beast::error_code ec;
  size_t written = 0;
  Transport& transport = transport_;
  const int fd = transport.socket().native_handle();
  if (transport.is_tls()) {
    if (transport.tls()->idle()) {
      // Sealed into records here, sent like plain bytes.
      TlsChannel& tls = *transport.tls();
      tls.SealForSend(view.first, view.last, ec);
      if (!ec) {
        const std::string_view records = tls.pending();
        iovec iov{const_cast<char*>(records.data()), records.size()};
        if (WriteBatcher::QueueSend(fd, &iov, 1, shared_from_this())) return;
        const size_t sent = SendNow(fd, &iov, 1, ec);
        if (!ec) {
          ContinueSealedWrite(view, sent);
          return;
        }
      }
    }
  } else {
    std::array<iovec, 2 * kMaxBatchFrames + 1> iov;
    size_t count = 0;
    for (const net::const_buffer* b = view.first; b != view.last; ++b) {
      iov[count++] = iovec{const_cast<void*>(b->data()), b->size()};
    }
    // At the end of a burst: with the other clients' sends, in one system
    // call; OnQueuedSend goes on from here.
    if (WriteBatcher::QueueSend(fd, iov.data(), count, shared_from_this())) return;
    written = SendNow(fd, iov.data(), count, ec);
  }
  ContinueWrite(view, written, ec);
}

void WsSession::OnQueuedSend(long result) {
  WriteView view;
  WriteBuffers(view);
  beast::error_code ec;
  size_t written = 0;
  if (result >= 0) {
    written = static_cast<size_t>(result);
  } else if (result != -EAGAIN && result != -EWOULDBLOCK) {
    ec = beast::error_code(static_cast<int>(-result), boost::system::system_category());
  }
  if (!ec && transport_.is_tls()) {
    ContinueSealedWrite(view, written);
  } else {
    ContinueWrite(view, written, ec);
  }
  // A full batch left behind is written now, as DoWrite's loop would.
  if (write_again_ && !writing_ && HasPendingWrite()) DoWrite();
}

void WsSession::ContinueSealedWrite(WriteView& view, size_t sent) {
  TlsChannel& tls = *transport_.tls();
  const size_t sealed = tls.last_sealed();
  tls.Sent(sent);
  if (sealed == view.total && tls.idle()) {
    ContinueWrite(view, view.total, {});
    return;
  }
  // The records the socket did not take (the channel's writer sends them)
  // and the plaintext not sealed yet, behind them: the write completes when
  // all of it is out.
  ContinueWrite(view, sealed, {}, /*complete_now=*/false);
}

void WsSession::WriteBuffers(WriteView& view) {
  // The payload buffers point into the shared strings, which stay put even if
  // frames_ reallocates while the write is on the socket; the control frames
  // being sent stay put until the write completes.
  const size_t n = in_flight_;
  const std::string* control =
      control_ != nullptr && !control_->sending.empty() ? &control_->sending : nullptr;
  view.total = control != nullptr ? control->size() : 0;
  if (n <= 1) {
    size_t k = 0;
    if (control != nullptr) view.single[k++] = net::buffer(*control);
    if (n == 1) {
      const hub::Frame& frame = frames_[head_];
      const size_t header = EncodeFrameHeader(frame.binary, frame.size(), header_);
      view.single[k++] = net::buffer(header_, header);
      view.single[k++] = net::buffer(*frame.data);
      view.total += header + frame.size();
    }
    view.first = view.single.data();
    view.last = view.first + k;
    return;
  }
  if (batch_ == nullptr) batch_ = NewWriteBatch();
  size_t k = 0;
  if (control != nullptr) batch_->buffers[k++] = net::buffer(*control);
  for (size_t i = 0; i < n; ++i) {
    const hub::Frame& frame = frames_[head_ + i];
    const size_t header = EncodeFrameHeader(frame.binary, frame.size(), batch_->headers[i]);
    batch_->buffers[k++] = net::buffer(batch_->headers[i], header);
    batch_->buffers[k++] = net::buffer(*frame.data);
    view.total += header + frame.size();
  }
  view.first = batch_->buffers;
  view.last = view.first + k;
}

void WsSession::ContinueWrite(WriteView& view, size_t written, beast::error_code ec,
                              bool complete_now) {
  const size_t n = in_flight_;
  net::const_buffer* first = view.first;
  net::const_buffer* last = view.last;
  if (ec || (complete_now && written == view.total)) {
    completing_now_ = true;
    OnWrite(ec, written);
    completing_now_ = false;
    return;
  }
  // The socket took part of it (or nothing, or another write is in flight):
  // the rest goes the asynchronous way, behind whatever holds the gate.
  for (size_t skip = written; first != last && (skip > 0 || first->size() == 0);) {
    if (skip < first->size()) {
      *first += skip;
      break;
    }
    skip -= first->size();
    ++first;
  }
  auto on_write = Pooled([self = shared_from_this(), written](beast::error_code ec, size_t bytes) {
    self->OnWrite(ec, written + bytes);
  });
  if (n <= 1) {
    // A copy of the (at most three) buffers left: the view dies with the
    // caller.
    std::array<net::const_buffer, 3> rest{};
    std::copy(first, last, rest.begin());
    net::async_write(transport_, rest, std::move(on_write));
    return;
  }
  net::async_write(transport_, BufferSpan{first, last}, std::move(on_write));
}

size_t WsSession::SendNow(int fd, const iovec* iov, size_t count, beast::error_code& ec) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = count;
  while (true) {
    const ssize_t sent = ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<size_t>(sent);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec = beast::error_code(errno, boost::system::system_category());
    }
    return 0;
  }
}

void WsSession::OnWrite(beast::error_code ec, size_t) {
  writing_ = false;
  const auto now = std::chrono::steady_clock::now();
  uint64_t payload = 0;
  for (size_t i = 0; i < in_flight_; ++i) {
    hub::Frame& done = frames_[head_ + i];
    if (!ec && done.sent_at != std::chrono::steady_clock::time_point{}) {
      gauges_.ObserveLatency(now - done.sent_at);
    }
    payload += done.size();
    done = {};
  }
  const size_t written = in_flight_;
  head_ += in_flight_;
  in_flight_ = 0;
  queued_bytes_ -= payload;
  gauges_.queued_frames.fetch_sub(static_cast<int64_t>(written), std::memory_order_relaxed);
  gauges_.queued_bytes.fetch_sub(static_cast<int64_t>(payload), std::memory_order_relaxed);
  if (control_ != nullptr) {
    control_->sending.clear();
    if (close_in_flight_) {
      close_in_flight_ = false;
      close_written_ = !ec;
    }
    if (control_->pending.empty()) control_ = nullptr;
  }
  if (head_ == frames_.size()) {
    frames_.clear();
    head_ = 0;
    if (frames_.capacity() > kKeepQueueCapacity) frames_.shrink_to_fit();
    batch_ = nullptr;
  }
  if (ec) {
    // The stream is unusable; closing the socket ends the read loop. The
    // frames of the failed write never arrived whole: counted like the ones
    // still queued, which Finish drops.
    DroppedCounter().fetch_add(written, std::memory_order_relaxed);
    CloseSocket();
    return;
  }
  messages_out_.fetch_add(written, std::memory_order_relaxed);
  context_.metrics.frames_out.fetch_add(written, std::memory_order_relaxed);
  context_.metrics.bytes_out.fetch_add(payload, std::memory_order_relaxed);
  if (read_done_) {
    // The read loop has ended and Finish has let the client go: nothing
    // more is written, and the close grace Finish armed for this write has
    // nothing left to cut.
    control_ = nullptr;
    if (closing_state_) closing_state_->timer.cancel();
    return;
  }
  if (close_written_) {
    // The handshake is complete if the client's close came first (or it
    // broke the protocol: either way its reads have stopped); else its
    // answer is awaited.
    if (read_stopped_) Teardown();
  } else {
    // A close waits for the data queued before it, not for control frames
    // (a client that keeps pinging cannot put it off).
    if (closing_ && !close_sent_ && head_ == frames_.size()) DoClose();
    if (!writing_ && HasPendingWrite()) ScheduleWrite();
  }
  if (read_held_ && !ReadsHeld()) {
    read_held_ = false;
    DoRead();
  }
}

void WsSession::KeepAliveTick() {
  // A closing client is timed by its close timer.
  if (!open_ || closing_ || read_done_) return;
  if (++silent_ticks_ >= kTimeoutAfterTicks) {
    // No pong: the peer is gone or stuck. Cut the connection (no close
    // handshake: it would only wait for the same silent peer); the read
    // loop then ends and Finish counts the close as a timeout.
    closing_ = true;
    end_reason_ = CloseReason::kTimeout;
    spdlog::info("client {} on {} from {} closed: no answer to a ping (keepalive)", info_.id,
                 info_.path, info_.remote_address);
    CloseSocket();
    return;
  }
  if (silent_ticks_ == kPingAfterTicks) QueueControl(kOpPing, {});
}

void WsSession::CloseSocket() {
  transport_.close();
  // With no read pending to see the socket go, the read loop ends here.
  if (open_ && !reading_ && !tearing_down_ && !read_done_) {
    net::post(transport_.get_executor(), [self = shared_from_this()] {
      // A read started meanwhile sees the socket gone and ends the loop.
      if (!self->reading_ && !self->tearing_down_) {
        self->EndRead(net::error::operation_aborted);
      }
    });
  }
}

void WsSession::Close(uint16_t code, std::string reason) {
  net::post(transport_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)] {
    self->StartClose(code, reason);
  });
}

void WsSession::StartClose(uint16_t code, std::string reason) {
  // After the read loop's end (a Close posted before it) there is nothing
  // left to close.
  if (closing_ || read_done_) return;
  closing_ = true;
  close_code_ = code;
  closing_state_ =
      std::make_unique<Closing>(Closing{std::move(reason), Timer(transport_.get_executor())});
  end_reason_ = code == 1013   ? CloseReason::kSlow
                : code == 1001 ? CloseReason::kShutdown
                : code == 1008 ? CloseReason::kPolicy
                : code == 1007 ? CloseReason::kBadPayload
                               : CloseReason::kDisconnected;
  if (code == 1013) {
    // Dropped as slow: what is still queued will never be sent. Keep only the
    // frame in flight.
    context_.metrics.frames_dropped_slow.fetch_add(DropUnsent(), std::memory_order_relaxed);
  }
  // Whatever happens to the handshake, the socket goes after a grace period.
  ArmCloseTimer(code == 1013 ? kCloseGrace : context_.config.drain_timeout + kCloseGrace);
  if (!open_) return;  // OnAccept closes once the upgrade is done
  if (!writing_ && head_ == frames_.size()) DoClose();
}

void WsSession::DoClose() {
  if (close_sent_) return;
  close_sent_ = true;
  close_queued_ = true;
  // The code, then the reason (a keep-alive timeout closes without either).
  std::string payload;
  payload.push_back(static_cast<char>(close_code_ >> 8));
  payload.push_back(static_cast<char>(close_code_ & 0xFF));
  if (closing_state_) {
    // A control frame's payload is at most 125 bytes. sigd's reasons are
    // ASCII, so the cut cannot split a character.
    payload.append(std::string_view(closing_state_->reason).substr(0, 123));
  }
  QueueControl(kOpClose, payload);
}

Metrics::Counter& WsSession::DroppedCounter() {
  // After a 1013 close, whatever else is lost (the frame in flight when the
  // socket is cut) is lost because the client was too slow.
  return end_reason_ == CloseReason::kSlow ? context_.metrics.frames_dropped_slow
                                           : context_.metrics.frames_dropped_gone;
}

size_t WsSession::DropUnsent() {
  const size_t keep = writing_ ? head_ + in_flight_ : head_;
  const size_t dropped = frames_.size() - keep;
  for (size_t i = keep; i < frames_.size(); ++i) {
    queued_bytes_ -= frames_[i].size();
    gauges_.queued_bytes.fetch_sub(static_cast<int64_t>(frames_[i].size()),
                                   std::memory_order_relaxed);
  }
  gauges_.queued_frames.fetch_sub(static_cast<int64_t>(dropped), std::memory_order_relaxed);
  frames_.resize(keep);
  return dropped;
}

void WsSession::Finish() {
  if (writing_) {
    // The read has ended, but a write is still on the socket: a client that
    // stopped reading and then half-closed (or went quiet) would keep it
    // there, with this session and its socket, for as long as it keeps its
    // window shut. The socket goes after the close grace.
    ArmCloseTimer(kCloseGrace);
  } else {
    // Nothing more is written (WriteQueued stops after the read loop's end):
    // pongs or a close still owed go with the client.
    control_ = nullptr;
    if (closing_state_) closing_state_->timer.cancel();
  }
  if (expiry_timer_) expiry_timer_->cancel();
  if (!registered_) return;
  registered_ = false;
  // Frames queued while the close was under way (none may follow it) or
  // behind the deferred write will never go out: the queue gauges must not
  // keep them.
  DroppedCounter().fetch_add(DropUnsent(), std::memory_order_relaxed);
  if (open_) {
    context_.metrics.CountClose(end_reason_);
    context_.inbound.OnDisconnect(*this);
  }
  context_.hub.Unregister(*this);
  ticket_.Release();
}

}  // namespace sigd::ws
