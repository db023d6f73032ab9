#include "server/ws/tls_channel.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <cstring>
#include <span>

#include "boost/asio/error.hpp"
#include "boost/asio/ssl/error.hpp"
#include "boost/asio/write.hpp"

namespace sigd::ws {

namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

// The most plaintext one TLS record carries.
constexpr size_t kRecord = 16 * 1024;
// The ciphertext read buffer: small for a quiet connection (a browser's
// messages are mostly short, and Beast takes at most 1,536 bytes a read), a
// whole record and its overhead once reads fill it.
constexpr size_t kInputSmall = 2 * 1024;
constexpr size_t kInputLarge = kRecord + 512;
// Ciphertext waiting for a peer that does not read, past which reading from
// it fails the connection. Writes add at most kSealLimit (and its records'
// overhead) at a time, and only once the writer is idle; more than this is
// answers OpenSSL gave while reading (key updates, alerts) to a peer that
// keeps asking and never reads.
constexpr size_t kMaxAnswers = 256 * 1024;
// A drained ciphertext buffer is given back: a quiet connection keeps none
// (the handshake's flight alone took over a kilobyte). A busy one allocates
// its buffer once per flush, which is small beside sealing it.
void Release(std::string& buffer) {
  if (buffer.empty()) std::string().swap(buffer);
}

// Small pieces of a write (a frame's header next to its payload, the frames
// of a batch) are gathered here so that a record carries many of them rather
// than one each. Per I/O thread; sealing never yields.
thread_local char seal_scratch[kRecord];

}  // namespace

std::shared_ptr<TlsChannel> TlsChannel::Make(Socket&& socket, SSL_CTX* context) {
  return std::make_shared<TlsChannel>(std::move(socket), context);
}

TlsChannel::TlsChannel(Socket&& socket, SSL_CTX* context) : socket_(std::move(socket)) {
  ssl_ = SSL_new(context);
  BIO* bio = ssl_ != nullptr ? BIO_new(Method()) : nullptr;
  if (bio == nullptr) {
    // Out of memory: the handshake fails.
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  SSL_set_accept_state(ssl_);
  // OpenSSL's record buffers (about 34 KiB) only while a record is in work.
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
  SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one reference, for both directions
}

TlsChannel::~TlsChannel() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

// --- OpenSSL's side: the BIO reads from in_ and appends to out_. ---

int TlsChannel::BioWrite(BIO* bio, const char* data, size_t size, size_t* written) {
  auto* channel = static_cast<TlsChannel*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  channel->out_.append(data, size);
  *written = size;
  return 1;
}

int TlsChannel::BioRead(BIO* bio, char* data, size_t size, size_t* read) {
  auto* channel = static_cast<TlsChannel*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const size_t available = channel->in_tail_ - channel->in_head_;
  if (available == 0) {
    *read = 0;
    if (!channel->in_eof_) BIO_set_retry_read(bio);
    return 0;
  }
  const size_t n = std::min(size, available);
  std::memcpy(data, channel->in_.get() + channel->in_head_, n);
  channel->in_head_ += n;
  *read = n;
  return 1;
}

long TlsChannel::BioCtrl(BIO* bio, int cmd, long, void*) {
  auto* channel = static_cast<TlsChannel*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // the bytes are in out_ already
    case BIO_CTRL_EOF:
      // The peer's end, once everything before it has been read.
      return channel->in_eof_ && channel->in_head_ == channel->in_tail_ ? 1 : 0;
    default:
      return 0;
  }
}

BIO_METHOD* TlsChannel::Method() {
  // Made once, for the life of the process.
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sigd tls channel");
    BIO_meth_set_write_ex(m, &TlsChannel::BioWrite);
    BIO_meth_set_read_ex(m, &TlsChannel::BioRead);
    BIO_meth_set_ctrl(m, &TlsChannel::BioCtrl);
    return m;
  }();
  return method;
}

// --- The operations' steps ---

TlsChannel::Next TlsChannel::Failed(int ret, beast::error_code& ec) {
  const int error = SSL_get_error(ssl_, ret);
  if (error == SSL_ERROR_WANT_READ && !in_eof_) return Next::kInput;
  if (error == SSL_ERROR_ZERO_RETURN) {
    ec = net::error::eof;  // the peer's close_notify
    return Next::kFailed;
  }
  const unsigned long reason = ERR_get_error();
  if (reason == 0 || ERR_GET_REASON(reason) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    // The connection ended inside a record, or without close_notify.
    ec = net::ssl::error::stream_truncated;
  } else {
    ec = beast::error_code(static_cast<int>(reason), net::error::get_ssl_category());
  }
  ERR_clear_error();
  return Next::kFailed;
}

TlsChannel::Next TlsChannel::Handshake(beast::error_code& ec) {
  if (ssl_ == nullptr) {
    ec = net::error::no_memory;
    return Next::kFailed;
  }
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_);
  ReleaseDrainedInput();
  // The server's flight (or its alert) goes out whatever comes next.
  StartWriter();
  if (ret == 1) return Next::kDone;
  return Failed(ret, ec);
}

TlsChannel::Next TlsChannel::Read(net::mutable_buffer buffer, size_t& got,
                                  beast::error_code& ec) {
  // Nothing to decrypt: wait for the peer without asking OpenSSL, which
  // would set up its 17 KiB record buffer for the read and keep it while the
  // connection idles.
  if (in_head_ == in_tail_ && !in_eof_ && SSL_has_pending(ssl_) == 0) return Next::kInput;
  ERR_clear_error();
  const int ret = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &got);
  ReleaseDrainedInput();
  // A read may make OpenSSL answer (a key update, an alert).
  StartWriter();
  if (out_.size() > kMaxAnswers) {
    got = 0;
    ec = net::error::no_buffer_space;
    return Next::kFailed;
  }
  if (ret == 1) return Next::kDone;
  got = 0;
  return Failed(ret, ec);
}

void TlsChannel::ReleaseDrainedInput() {
  // A streaming peer keeps its buffer: ReadSocket reads into it again at
  // once, and gives it back when nothing more has come.
  if (in_head_ != in_tail_ || in_ == nullptr || in_filled_) return;
  in_.reset();
  in_capacity_ = in_head_ = in_tail_ = 0;
}

net::mutable_buffer TlsChannel::InputRoom() {
  if (in_head_ == in_tail_) {
    in_head_ = in_tail_ = 0;
  } else if (in_head_ > 0) {
    std::memmove(in_.get(), in_.get() + in_head_, in_tail_ - in_head_);
    in_tail_ -= in_head_;
    in_head_ = 0;
  }
  // Large while the peer sends more than a trickle (the last read filled
  // the room it had), small again once it does not.
  size_t capacity = in_capacity_;
  if (in_filled_ && in_capacity_ < kInputLarge) {
    capacity = kInputLarge;
  } else if (in_capacity_ == 0) {
    capacity = kInputSmall;
  } else if (!in_filled_ && in_tail_ == 0 && in_capacity_ > kInputSmall) {
    capacity = kInputSmall;
  }
  if (capacity != in_capacity_) {
    auto buffer = std::make_unique<char[]>(capacity);
    if (in_tail_ > 0) std::memcpy(buffer.get(), in_.get(), in_tail_);
    in_ = std::move(buffer);
    in_capacity_ = capacity;
  }
  return net::buffer(in_.get() + in_tail_, in_capacity_ - in_tail_);
}

bool TlsChannel::ReadNow(beast::error_code& ec, size_t& bytes) {
  const net::mutable_buffer room = InputRoom();
  while (true) {
    const ssize_t got = ::recv(socket_.native_handle(), room.data(), room.size(), MSG_DONTWAIT);
    if (got > 0) {
      bytes = static_cast<size_t>(got);
      return true;
    }
    if (got == 0) {
      ec = net::error::eof;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    ec = beast::error_code(errno, boost::system::system_category());
    return true;
  }
}

bool TlsChannel::TookInput(beast::error_code& ec, size_t bytes) {
  in_tail_ += bytes;
  in_filled_ = bytes > 0 && in_tail_ == in_capacity_;
  if (ec == net::error::eof) {
    in_eof_ = true;  // OpenSSL decides: close_notify read, or truncated
    ec = {};
    return true;
  }
  return !ec;
}

// --- Sealing and the writer ---

void TlsChannel::SealBegin() {
  seal_taken_ = 0;
  seal_fill_ = 0;
  seal_failed_ = false;
}

bool TlsChannel::SealFull() const { return seal_failed_ || seal_taken_ >= kSealLimit; }

void TlsChannel::SealAdd(net::const_buffer b) {
  auto write = [this](const void* data, size_t size) {
    size_t written = 0;
    ERR_clear_error();
    // Never short on this BIO: SSL_write takes all of it or fails.
    if (SSL_write_ex(ssl_, data, size, &written) != 1 || written != size) seal_failed_ = true;
  };
  const char* data = static_cast<const char*>(b.data());
  size_t size = b.size();
  while (size > 0 && !SealFull()) {
    const size_t room = kSealLimit - seal_taken_;
    if (seal_fill_ == 0 && size >= kRecord) {
      // A large piece goes as whole records straight from where it is.
      const size_t n = std::min({size, room, size - size % kRecord});
      write(data, n);
      data += n;
      size -= n;
      seal_taken_ += n;
      continue;
    }
    const size_t n = std::min({size, kRecord - seal_fill_, room});
    std::memcpy(seal_scratch + seal_fill_, data, n);
    seal_fill_ += n;
    seal_taken_ += n;
    data += n;
    size -= n;
    if (seal_fill_ == kRecord) {
      write(seal_scratch, seal_fill_);
      seal_fill_ = 0;
    }
  }
}

size_t TlsChannel::SealEnd(beast::error_code& ec) {
  if (seal_fill_ > 0 && !seal_failed_) {
    size_t written = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_, seal_scratch, seal_fill_, &written) != 1 || written != seal_fill_) {
      seal_failed_ = true;
    }
  }
  seal_fill_ = 0;
  if (seal_failed_) {
    // The stream is broken from here on: records may be missing.
    const unsigned long reason = ERR_get_error();
    ec = reason != 0 ? beast::error_code(static_cast<int>(reason), net::error::get_ssl_category())
                     : beast::error_code(net::error::operation_not_supported);
    ERR_clear_error();
    write_error_ = ec;
    return 0;
  }
  return seal_taken_;
}

size_t TlsChannel::SealForSend(const net::const_buffer* first, const net::const_buffer* last,
                               beast::error_code& ec) {
  return Seal(std::span<const net::const_buffer>(first, last), 0, ec);
}

void TlsChannel::Sent(size_t sent) {
  out_.erase(0, std::min(sent, out_.size()));
  Release(out_);
  StartWriter();
}

void TlsChannel::StartWriter() {
  if (writing_ || out_.empty() || write_error_) return;
  // out_ may grow while sending_ is on the socket; sending_ stays put.
  sending_.swap(out_);
  out_.clear();
  writing_ = true;
  net::async_write(socket_, net::buffer(sending_),
                   [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                     self->OnWritten(ec, bytes);
                   });
}

void TlsChannel::OnWritten(beast::error_code ec, size_t) {
  writing_ = false;
  sending_.clear();
  Release(sending_);
  if (ec) {
    write_error_ = ec;
    out_.clear();
  } else {
    StartWriter();
  }
  // A parked write goes on once everything is out (it then seals its next
  // piece or completes), or fails with the writer.
  if (waiter_ != nullptr && (write_error_ || idle())) {
    std::unique_ptr<ParkedOp> waiter = std::move(waiter_);
    waiter->Resume();
  }
}

}  // namespace sigd::ws
