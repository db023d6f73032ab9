// Fuzzes sigd's TLS channel (server/ws/tls_channel.h), the server side of
// every wss connection: an OpenSSL client in memory does a real handshake with
// a TlsChannel over a socket pair, then sends messages; the fuzzer chooses how
// the client's bytes are cut into the reads the channel sees, the messages'
// sizes, and whether (and where) a byte is flipped or the stream is cut short.
// The channel echoes what it reads with its own writes, one at a time as
// WsSession's are, half of them through the batched path (SealForSend,
// pending, a partial send, Sent) that WsSession uses.
//
// Invariants: the channel never hands up bytes the client did not send (a
// flipped byte ends the connection with an error instead); without a fault,
// every byte arrives, in order, and the client decrypts the echo to exactly
// what it sent (records are never reordered or interleaved on the socket);
// and the channel never hangs or crashes, whatever it is given.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "boost/asio/buffer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "server/ws/tls_channel.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace net = boost::asio;
using sigd::ws::Socket;
using sigd::ws::TlsChannel;

SSL_CTX* server_context = nullptr;
SSL_CTX* client_context = nullptr;

// A server context with a fresh P-256 key and a self-signed certificate.
SSL_CTX* MakeServerContext() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

// The fuzzer's choices, read from the input as needed (zeros once it runs
// out).
class Choices {
 public:
  Choices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t Short() { return static_cast<uint16_t>(Byte() << 8 | Byte()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

struct Run {
  net::io_context io;
  std::shared_ptr<TlsChannel> channel;
  int client_fd = -1;
  SSL* client = nullptr;
  BIO* client_in = nullptr;   // what the channel wrote, for the client
  BIO* client_out = nullptr;  // what the client wrote, for the channel
  std::string to_channel;     // client bytes not yet on the socket

  // Fault injection.
  size_t flip_at = SIZE_MAX;  // index in the client's byte stream
  uint8_t flip_mask = 0;
  size_t cut_at = SIZE_MAX;   // the client's stream ends here
  size_t client_bytes = 0;    // seen so far
  bool cut = false;

  ~Run() {
    if (client != nullptr) SSL_free(client);
    if (client_fd >= 0) close(client_fd);
  }

  // Moves the client's output onto the socket, in a chunk of at most `max`
  // bytes, with the faults applied.
  void PumpToChannel(size_t max) {
    char buffer[4096];
    int n;
    while ((n = BIO_read(client_out, buffer, sizeof(buffer))) > 0) {
      for (int i = 0; i < n; ++i, ++client_bytes) {
        if (client_bytes == cut_at) cut = true;
        if (cut) break;
        char c = buffer[i];
        if (client_bytes == flip_at) c = static_cast<char>(c ^ flip_mask);
        to_channel.push_back(c);
      }
    }
    const size_t n_send = std::min(max, to_channel.size());
    if (n_send > 0) {
      const ssize_t sent = send(client_fd, to_channel.data(), n_send, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent > 0) to_channel.erase(0, static_cast<size_t>(sent));
    }
    if (cut && to_channel.empty()) shutdown(client_fd, SHUT_WR);
  }

  // Moves what the channel wrote into the client.
  void PumpToClient() {
    char buffer[16384];
    ssize_t n;
    while ((n = recv(client_fd, buffer, sizeof(buffer), MSG_DONTWAIT)) > 0) {
      BIO_write(client_in, buffer, static_cast<int>(n));
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  server_context = MakeServerContext();
  client_context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(client_context, SSL_VERIFY_NONE, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Choices choose(data, size);
  Run run;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) return 0;
  run.client_fd = fds[1];
  Socket socket(run.io);
  socket.assign(net::ip::tcp::v4(), fds[0]);
  run.channel = TlsChannel::Make(std::move(socket), server_context);

  run.client = SSL_new(client_context);
  run.client_in = BIO_new(BIO_s_mem());
  run.client_out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(run.client_in, -1);
  SSL_set_bio(run.client, run.client_in, run.client_out);
  SSL_set_connect_state(run.client);
  if (choose.Byte() & 1) SSL_set_max_proto_version(run.client, TLS1_2_VERSION);

  const uint8_t faults = choose.Byte();
  if (faults & 1) {
    run.flip_at = choose.Short();
    run.flip_mask = static_cast<uint8_t>(choose.Byte() | 1);
  }
  if (faults & 2) run.cut_at = choose.Short();
  const bool faulty = (faults & 3) != 0;
  const size_t chunk = 1 + choose.Byte() % 64 * 64;

  // The handshake.
  bool handshake_done = false;
  boost::system::error_code handshake_error;
  run.channel->async_handshake([&](boost::system::error_code ec) {
    handshake_done = true;
    handshake_error = ec;
  });
  for (int step = 0; step < 2000 && !handshake_done; ++step) {
    SSL_do_handshake(run.client);
    run.PumpToChannel(chunk);
    run.io.poll();
    run.io.restart();
    run.PumpToClient();
  }
  FUZZ_CHECK(handshake_done || faulty, "the handshake neither finished nor failed");
  if (!handshake_done || handshake_error) return 0;

  // Messages: the channel reads them and echoes each read, half of the
  // echoes through the batched path.
  std::string sent;
  std::string received;
  std::string echoed;
  boost::system::error_code read_error;
  bool read_failed = false;
  char read_buffer[1536];
  bool batched = false;
  // One write at a time, as WsSession writes: what is read
  // while one is under way waits in `backlog`.
  bool write_in_flight = false;
  std::string backlog;
  std::function<void()> write_backlog = [&] {
    if (write_in_flight || backlog.empty()) return;
    batched = !batched;
    if (batched && run.channel->idle()) {
      const net::const_buffer piece(backlog.data(), backlog.size());
      boost::system::error_code seal_error;
      const size_t taken = run.channel->SealForSend(&piece, &piece + 1, seal_error);
      FUZZ_CHECK(!seal_error && taken > 0, "sealing %zu bytes failed", backlog.size());
      backlog.erase(0, taken);
      // Half of the records now, the channel's writer sends the rest.
      const std::string_view records = run.channel->pending();
      const ssize_t out = send(run.channel->socket().native_handle(), records.data(),
                               records.size() / 2, MSG_DONTWAIT | MSG_NOSIGNAL);
      run.channel->Sent(out > 0 ? static_cast<size_t>(out) : 0);
      write_backlog();
      return;
    }
    auto copy = std::make_shared<std::string>(std::move(backlog));
    backlog.clear();
    write_in_flight = true;
    run.channel->async_write_some(net::buffer(*copy),
                                  [&, copy](boost::system::error_code ec, size_t) {
                                    write_in_flight = false;
                                    if (!ec) write_backlog();
                                  });
  };
  std::function<void()> read_more = [&] {
    run.channel->async_read_some(
        net::buffer(read_buffer), [&](boost::system::error_code ec, size_t n) {
          if (ec) {
            read_failed = true;
            read_error = ec;
            return;
          }
          received.append(read_buffer, n);
          backlog.append(read_buffer, n);
          write_backlog();
          read_more();
        });
  };
  read_more();
  const int messages = choose.Byte() % 8;
  for (int m = 0; m < messages; ++m) {
    const size_t length = 1 + choose.Short() % 6000;
    std::string message(length, static_cast<char>('a' + m));
    size_t written = 0;
    FUZZ_CHECK(SSL_write_ex(run.client, message.data(), message.size(), &written) == 1,
               "the client could not write");
    sent += message;
  }
  if (choose.Byte() & 1) SSL_shutdown(run.client);  // close_notify
  for (int step = 0; step < 20000 && !read_failed; ++step) {
    run.PumpToChannel(chunk * 16);
    run.io.poll();
    run.io.restart();
    run.PumpToClient();
    char buffer[16384];
    size_t n = 0;
    while (SSL_read_ex(run.client, buffer, sizeof(buffer), &n) == 1) echoed.append(buffer, n);
    if (!faulty && received.size() == sent.size() && echoed.size() == sent.size()) break;
  }
  FUZZ_CHECK(sent.compare(0, received.size(), received) == 0,
             "the channel handed up %zu bytes the client did not send that way", received.size());
  if (!faulty) {
    FUZZ_CHECK(received == sent, "received %zu of %zu bytes", received.size(), sent.size());
    FUZZ_CHECK(echoed == sent, "the client decrypted %zu of %zu echoed bytes", echoed.size(),
               sent.size());
  }
  // Ends every pending operation.
  boost::system::error_code ignored;
  run.channel->socket().close(ignored);
  run.io.poll();
  ERR_clear_error();
  return 0;
}
