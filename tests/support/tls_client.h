// Blocking TLS clients for tests: a TLS connection that trusts a test CA and
// checks the name "localhost", and a wss client on top of it. Reads give up
// after 5 s instead of hanging a test.
#ifndef SIGD_TESTS_SUPPORT_TLS_CLIENT_H_
#define SIGD_TESTS_SUPPORT_TLS_CLIENT_H_

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>
#include <string>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"

namespace sigd::testing {

namespace tls_detail {
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A blocking TLS connection to 127.0.0.1:port that trusts `ca` and checks the
// name "localhost"; reads give up after 5 s instead of hanging the test.
class TlsConnection {
 public:
  TlsConnection(uint16_t port, const std::string& ca)
      : context_(ssl::context::tls_client), stream_(io_, context_) {
    context_.load_verify_file(ca);
    context_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(stream_.native_handle(), "localhost");
    tcp::socket& socket = stream_.next_layer();
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    stream_.handshake(ssl::stream_base::client, error_);
  }

  const beast::error_code& handshake_error() const { return error_; }
  ssl::stream<tcp::socket>& stream() { return stream_; }

  // The common name of the certificate the server presented.
  std::string PeerCommonName() {
    X509* cert = SSL_get1_peer_certificate(stream_.native_handle());
    if (cert == nullptr) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn) - 1);
    X509_free(cert);
    return cn;
  }

 private:
  net::io_context io_;
  ssl::context context_;
  ssl::stream<tcp::socket> stream_;
  beast::error_code error_;
};

// A wss client on top of a TlsConnection.
class WssClient {
 public:
  WssClient(uint16_t port, const std::string& ca, const std::string& target)
      : tls_(port, ca), ws_(tls_.stream()) {
    if (tls_.handshake_error()) {
      error_ = tls_.handshake_error();
      return;
    }
    ws_.handshake("localhost", target, error_);
  }

  bool ok() const { return !error_; }
  const beast::error_code& error() const { return error_; }
  std::string PeerCommonName() { return tls_.PeerCommonName(); }
  SSL* native_handle() { return tls_.stream().native_handle(); }
  // The TCP socket under TLS, to write bytes no TLS layer made.
  tcp::socket& socket() { return tls_.stream().next_layer(); }

  std::string Read() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec) return "<error: " + ec.message() + ">";
    return beast::buffers_to_string(buffer.data());
  }
  void Send(const std::string& text) { ws_.write(net::buffer(text)); }
  websocket::close_reason ReadUntilClosed() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!ec) ws_.read(buffer, ec);
    // Beast's TLS teardown leaves the TCP socket open; a browser closes it.
    beast::error_code ignored;
    tls_.stream().next_layer().close(ignored);
    return ws_.reason();
  }

 private:
  TlsConnection tls_;
  websocket::stream<ssl::stream<tcp::socket>&> ws_;
  beast::error_code error_;
};

}  // namespace tls_detail

using tls_detail::ReadFileOrEmpty;
using tls_detail::TlsConnection;
using tls_detail::WssClient;

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_TLS_CLIENT_H_
