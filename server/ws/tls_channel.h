// Server-side TLS over one TCP socket, with OpenSSL reading and writing
// through a BIO of sigd's own instead of Asio's ssl::stream.
//
// Why: with Asio's stream every TLS session writes its records with a send of
// its own, behind a chain of composed operations, whereas plain sessions hand
// the writes of a burst to one io_uring submission (write_batcher.h). Here the
// records of a flush are sealed into the channel's ciphertext buffer, and the
// session queues that buffer with the other sessions' sends (SealForSend,
// pending, Sent). Everything else (the handshake, reads, Beast's own writes,
// and what the rest of a large write needs) goes through the asynchronous
// operations below, which Beast uses as it used Asio's stream.
//
// One writer owns the socket's sending side: every record, whoever produced
// it (a write, or a read that made OpenSSL answer, such as a TLS 1.3 key
// update), is appended to one buffer in the order OpenSSL sealed it, and the
// writer sends that buffer in order. So records can never be reordered or
// interleaved on the socket, which would break the stream.
//
// Memory: a quiet connection holds no ciphertext buffer of its own. With
// nothing left to decrypt the channel waits for the socket to be readable
// and only then takes a read buffer, small unless reads fill it; the sending
// buffers are given back once drained. OpenSSL's own record buffers are
// released while a connection is idle (SSL_MODE_RELEASE_BUFFERS). A large
// write is sealed in pieces (kSealLimit) as the socket takes the previous
// one, so a slow reader of a large message holds about two pieces of
// ciphertext (the rest of one on the socket, the next one sealed). A peer
// that keeps asking for answers (key updates) while never reading fails once
// they pass a bound.
//
// All operations run on the socket's executor (one I/O thread). The channel
// is shared: the writer's pending send keeps it alive, and the owner closes
// the socket when it lets go (Transport's destructor), which ends that send.
#ifndef SIGD_SERVER_WS_TLS_CHANNEL_H_
#define SIGD_SERVER_WS_TLS_CHANNEL_H_

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "boost/asio/buffer.hpp"
#include "boost/asio/compose.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/core/error.hpp"
#include "server/ws/parked_op.h"
#include "server/ws/socket.h"

namespace sigd::ws {

class TlsChannel : public std::enable_shared_from_this<TlsChannel> {
 public:
  // A server-side session of `context` over `socket`. The context must
  // outlive the channel (OpenSSL holds a reference to it as well).
  static std::shared_ptr<TlsChannel> Make(Socket&& socket, SSL_CTX* context);
  TlsChannel(Socket&& socket, SSL_CTX* context);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  Socket& socket() { return socket_; }
  SSL* native_handle() { return ssl_; }

  // The server side of the handshake: handler(error_code).
  template <typename Handler>
  auto async_handshake(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
        HandshakeOp{{{*this}}}, handler, socket_);
  }

  // Decrypted bytes into the first non-empty buffer: handler(error_code,
  // size_t). The peer's close_notify is eof; a connection cut without one is
  // ssl::error::stream_truncated, as with Asio's stream.
  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::mutable_buffer(*it).size() > 0) {
        first = *it;
        break;
      }
    }
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, size_t)>(
        ReadOp{{{*this}}, first}, handler, socket_);
  }

  // Seals all of `buffers` and completes once every record sealed so far is
  // on the socket: handler(error_code, size_t), the size being all of them.
  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, size_t)>(
        WriteOp<ConstBuffers>{{*this}, buffers, boost::asio::buffer_size(buffers)}, handler,
        socket_);
  }

  // The batched path. idle(): no ciphertext waits for the socket or is on
  // it, so the caller may send what it seals now itself.
  bool idle() const { return out_.empty() && !writing_ && !write_error_; }
  // Seals the bytes of [first, last), at most kSealLimit of them, into
  // records; returns how many it took (all of them unless the limit cut
  // them). The records are then pending().
  size_t SealForSend(const boost::asio::const_buffer* first, const boost::asio::const_buffer* last,
                     boost::beast::error_code& ec);
  std::string_view pending() const { return out_; }
  // What the last SealForSend took.
  size_t last_sealed() const { return seal_taken_; }
  // The caller's own send took `sent` bytes of pending(): the channel's
  // writer sends the rest.
  void Sent(size_t sent);

  // Plaintext sealed in one piece (see above).
  static constexpr size_t kSealLimit = 64 * 1024;

  // The bytes of ciphertext buffers the channel holds (not OpenSSL's own):
  // none while a connection is quiet.
  size_t buffer_bytes() const {
    const size_t small = std::string().capacity();  // held in the string itself
    auto heap = [small](const std::string& s) { return s.capacity() > small ? s.capacity() : 0; };
    return in_capacity_ + heap(out_) + heap(sending_);
  }

 private:
  // What an SSL call asks for next.
  enum class Next { kDone, kInput, kFailed };

  // Every operation's state: whether its initiating function is still
  // running, and whether it has been posted to complete.
  struct OpBase {
    TlsChannel& channel;
    bool starting = true;
    bool deferred = false;
    boost::beast::error_code result;

    // Completing now, while the initiating function runs, would call the
    // handler inside it: post `self` instead (its next invocation sees
    // `deferred` and completes), as Asio's own operations do. False when
    // the operation may complete at once.
    template <typename Self>
    bool Defer(Self& self) {
      if (!starting) return false;
      starting = false;
      deferred = true;
      auto executor = channel.socket_.get_executor();
      boost::asio::post(executor, std::move(self));
      return true;
    }
  };

  // An operation that makes an SSL call (Derived::Call) until it is done,
  // reading from the socket whenever OpenSSL needs the peer's bytes, then
  // completes (Derived::Finish): the handshake, or a read.
  template <typename Derived>
  struct InputOp : OpBase {
    template <typename Self>
    void operator()(Self& self) {
      if (deferred) {
        derived().Finish(self);
        return;
      }
      Step(self);
    }
    // The socket became readable (ReadSocket waited): read it now.
    template <typename Self>
    void operator()(Self& self, boost::beast::error_code ec) {
      starting = false;
      size_t bytes = 0;
      if (!ec && !channel.ReadNow(ec, bytes)) {
        channel.ReadSocket(std::move(self));  // woken without bytes
        return;
      }
      (*this)(self, ec, bytes);
    }
    template <typename Self>
    void operator()(Self& self, boost::beast::error_code ec, size_t bytes) {
      starting = false;
      if (!channel.TookInput(ec, bytes)) {
        result = ec;
        derived().Finish(self);
        return;
      }
      Step(self);
    }
    template <typename Self>
    void Step(Self& self) {
      if (derived().Call() == Next::kInput) {
        starting = false;
        channel.ReadSocket(std::move(self));
        return;
      }
      if (!Defer(self)) derived().Finish(self);
    }
    Derived& derived() { return static_cast<Derived&>(*this); }
  };

  struct HandshakeOp : InputOp<HandshakeOp> {
    Next Call() { return channel.Handshake(result); }
    template <typename Self>
    void Finish(Self& self) {
      self.complete(result);
    }
  };

  struct ReadOp : InputOp<ReadOp> {
    boost::asio::mutable_buffer buffer;
    size_t got = 0;

    Next Call() { return buffer.size() == 0 ? Next::kDone : channel.Read(buffer, got, result); }
    template <typename Self>
    void Finish(Self& self) {
      self.complete(result, result ? size_t{0} : got);
    }
  };

  template <typename ConstBuffers>
  struct WriteOp : OpBase {
    ConstBuffers buffers;
    size_t total;
    size_t taken = 0;

    // Started, resumed by the writer (it went idle, or failed), or
    // completing after a post.
    template <typename Self>
    void operator()(Self& self) {
      if (deferred) {
        self.complete(result, taken);
        return;
      }
      if (channel.write_error_) {
        result = channel.write_error_;
      } else if (taken < total) {
        taken += channel.Seal(buffers, taken, result);
        if (!result) channel.StartWriter();
      }
      if (result || (taken == total && channel.idle())) {
        if (!Defer(self)) self.complete(result, taken);
        return;
      }
      starting = false;
      channel.waiter_ = ParkedOp::Park(std::move(self));
    }
  };

  // Runs the handshake as far as it goes; kInput: it needs the peer's bytes.
  Next Handshake(boost::beast::error_code& ec);
  // SSL_read into `buffer`.
  Next Read(boost::asio::mutable_buffer buffer, size_t& got, boost::beast::error_code& ec);
  // Seals the bytes of `buffers` from offset `from` on, at most kSealLimit.
  template <typename ConstBuffers>
  size_t Seal(const ConstBuffers& buffers, size_t from, boost::beast::error_code& ec) {
    SealBegin();
    size_t skip = from;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && !SealFull(); ++it) {
      boost::asio::const_buffer b(*it);
      if (skip >= b.size()) {
        skip -= b.size();
        continue;
      }
      b += skip;
      skip = 0;
      SealAdd(b);
    }
    return SealEnd(ec);
  }
  void SealBegin();
  bool SealFull() const;
  void SealAdd(boost::asio::const_buffer b);
  size_t SealEnd(boost::beast::error_code& ec);

  // A read of the peer's next bytes that resumes `self`. OpenSSL reads all
  // the ciphertext there is before it asks for more, so this is nearly
  // always with nothing left to decrypt. If the last read filled its room,
  // the peer is streaming and its next bytes are likely there: they are read
  // at once, and `self` resumed by a post. Otherwise (or if nothing came) the
  // read buffer is given back and the socket waited on, so that a quiet
  // connection holds none.
  template <typename Self>
  void ReadSocket(Self&& self) {
    if (in_head_ == in_tail_) {
      if (in_filled_) {
        boost::beast::error_code ec;
        size_t bytes = 0;
        if (ReadNow(ec, bytes)) {
          boost::asio::post(socket_.get_executor(),
                            boost::beast::bind_front_handler(std::move(self), ec, bytes));
          return;
        }
        in_filled_ = false;
      }
      ReleaseDrainedInput();
      socket_.async_wait(Socket::wait_read, std::forward<Self>(self));
      return;
    }
    boost::asio::mutable_buffer room = InputRoom();
    socket_.async_read_some(room, std::forward<Self>(self));
  }
  boost::asio::mutable_buffer InputRoom();
  // Gives back the read buffer once OpenSSL has read all of it.
  void ReleaseDrainedInput();
  // After a wait: reads what the socket has into InputRoom(). False when it
  // had nothing after all; else `bytes` read, or ec (eof at the peer's end).
  bool ReadNow(boost::beast::error_code& ec, size_t& bytes);
  // Accounts a socket read; false (with ec set) when the operation fails.
  bool TookInput(boost::beast::error_code& ec, size_t bytes);
  // The error of the SSL call that returned `ret`, or kInput.
  Next Failed(int ret, boost::beast::error_code& ec);

  // Sends out_ unless a send is on the socket already.
  void StartWriter();
  void OnWritten(boost::beast::error_code ec, size_t bytes);

  static int BioWrite(BIO* bio, const char* data, size_t size, size_t* written);
  static int BioRead(BIO* bio, char* data, size_t size, size_t* read);
  static long BioCtrl(BIO* bio, int cmd, long num, void* ptr);
  static BIO_METHOD* Method();

  Socket socket_;
  SSL* ssl_ = nullptr;

  // Ciphertext from the peer: [in_head_, in_tail_) of in_ not yet read by
  // OpenSSL. No buffer while nothing is left to read.
  std::unique_ptr<char[]> in_;
  size_t in_capacity_ = 0;
  size_t in_head_ = 0;
  size_t in_tail_ = 0;
  bool in_eof_ = false;
  bool in_filled_ = false;  // the last read filled the room it had

  // Records not yet on the socket, in order; sending_ is on it now.
  std::string out_;
  std::string sending_;
  bool writing_ = false;
  boost::beast::error_code write_error_;
  // The one write (the WebSocket and HTTP sessions write one at a time)
  // waiting for the writer.
  std::unique_ptr<ParkedOp> waiter_;

  // Plaintext gathered into records of up to 16 KiB while sealing.
  size_t seal_taken_ = 0;
  size_t seal_fill_ = 0;
  bool seal_failed_ = false;
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_TLS_CHANNEL_H_
