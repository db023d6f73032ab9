// https and wss on the --listen port (PEM, PKCS#12, reload), and TLS / mutual
// TLS on the gRPC control plane. Real OpenSSL handshakes on loopback with
// certificates made for the test.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "tests/support/test_certs.h"
#include "tests/support/tls_client.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

sigd::v1::SendSignalRequest Broadcast(const std::string& json) {
  sigd::v1::SendSignalRequest request;
  request.set_json(json);
  return request;
}

class TlsListenerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certs_.ok()) << certs_.error(); }
  // https/wss on the --listen port with the test's server certificate.
  void UseTls(config::Config& c) const {
    c.tls_cert = certs_.server_cert();
    c.tls_key = certs_.server_key();
  }
  TestCerts certs_;
};

TEST_F(TlsListenerTest, WssClientsReceiveSignalsAndEachOther) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  WssClient a(server.ws_port(), certs_.ca(), "/room?welcome=1");
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_NE(a.Read().find("\"clientId\""), std::string::npos);  // the welcome frame
  WssClient b(server.ws_port(), certs_.ca(), "/room");
  ASSERT_TRUE(b.ok()) << b.error().message();
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 2; }));
  // Backends see that the connection is encrypted (Client.protocol).
  sigd::v1::ListClientsResponse listing;
  grpc::ClientContext context;
  ASSERT_TRUE(server.Stub()->ListClients(&context, {}, &listing).ok());
  ASSERT_EQ(listing.clients_size(), 2);
  for (const auto& c : listing.clients()) EXPECT_EQ(c.protocol(), sigd::v1::WSS) << c.id();

  ASSERT_TRUE(server.Send(Broadcast(R"({"n":1})")).ok());
  EXPECT_EQ(a.Read(), R"({"n":1})");
  EXPECT_EQ(b.Read(), R"({"n":1})");
  a.Send(R"({"message":"hello over tls"})");
  EXPECT_EQ(b.Read(), "hello over tls");
  EXPECT_EQ(a.Read(), "hello over tls");
}

TEST_F(TlsListenerTest, HttpsServesFilesAndTheBrowserClient) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  std::ofstream(server.public_dir() / "index.html") << "<h1>secure</h1>";
  for (const std::string target : {"/", "/sigd.js"}) {
    TlsConnection tls(server.ws_port(), certs_.ca());
    ASSERT_FALSE(tls.handshake_error()) << tls.handshake_error().message();
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "localhost");
    http::write(tls.stream(), request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(tls.stream(), buffer, response);
    EXPECT_EQ(response.result(), http::status::ok) << target;
    if (target == "/") EXPECT_EQ(response.body(), "<h1>secure</h1>");
  }
}

TEST_F(TlsListenerTest, PlainHttpOnTheTlsPortIsClosedUnanswered) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server.ws_port()));
  timeval tv{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  net::write(socket, net::buffer(std::string(
                         "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n")));
  std::string received(4096, '\0');
  beast::error_code ec;
  const size_t n = net::read(socket, net::buffer(received), ec);
  // Whatever OpenSSL writes back, it is never an HTTP response.
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_EQ(received.substr(0, std::min<size_t>(n, 5)).find("HTTP/"), std::string::npos);
  EXPECT_EQ(server.server().metrics().tls_handshakes_failed.load(), 1u);

  // The port still serves TLS.
  WssClient client(server.ws_port(), certs_.ca(), "/after");
  EXPECT_TRUE(client.ok()) << client.error().message();
}

TEST_F(TlsListenerTest, Pkcs12WithPasswordIncludingLegacyEncryption) {
  for (const std::string& file : {certs_.server_p12(), certs_.server_legacy_p12()}) {
    TestServer server([&](config::Config& c) {
      c.tls_pkcs12 = file;
      c.tls_password = TestCerts::kPassword;
    });
    WssClient client(server.ws_port(), certs_.ca(), "/p12");
    ASSERT_TRUE(client.ok()) << file << ": " << client.error().message();
    EXPECT_EQ(client.PeerCommonName(), "sigd-one");
    ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
    ASSERT_TRUE(server.Send(Broadcast("[1,2]")).ok());
    EXPECT_EQ(client.Read(), "[1,2]");
  }
}

TEST_F(TlsListenerTest, BadTlsSettingsStopTheStartWithTheReason) {
  struct Case {
    std::function<void(config::Config&)> tweak;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[&](config::Config& c) {
         c.tls_pkcs12 = certs_.server_p12();
         c.tls_password = "wrong";
       },
       "wrong --tls-password"},
      {[&](config::Config& c) { c.tls_cert = certs_.server_cert(); }, "go together"},
      {[&](config::Config& c) {
         c.tls_cert = certs_.server_cert();
         c.tls_key = certs_.client_key();
       },
       "mismatch"},
      {[&](config::Config& c) {
         c.tls_cert = certs_.Path("missing.pem");
         c.tls_key = certs_.server_key();
       },
       "missing.pem"},
      {[&](config::Config& c) { c.grpc_tls_cert = certs_.server_cert(); }, "go together"},
      {[&](config::Config& c) { c.grpc_tls_client_ca = certs_.ca(); }, "needs --grpc-tls-cert"},
  };
  for (const Case& test : cases) {
    config::Config config;
    config.listen = "127.0.0.1:0";
    config.grpc_listen = "127.0.0.1:0";
    config.io_threads = 1;
    test.tweak(config);
    Server server(config);
    absl::Status status = server.Start();
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find(test.expected), absl::string_view::npos) << status;
  }
}

TEST_F(TlsListenerTest, ReloadServesTheNewCertificateAndKeepsOpenClients) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  WssClient before(server.ws_port(), certs_.ca(), "/r");
  ASSERT_TRUE(before.ok()) << before.error().message();
  EXPECT_EQ(before.PeerCommonName(), "sigd-one");

  certs_.RenewServer("sigd-two");
  ASSERT_TRUE(certs_.ok()) << certs_.error();
  ASSERT_TRUE(server.server().ReloadTls().ok());
  EXPECT_EQ(server.server().metrics().tls_reloads.load(), 1u);
  WssClient after(server.ws_port(), certs_.ca(), "/r");
  ASSERT_TRUE(after.ok()) << after.error().message();
  EXPECT_EQ(after.PeerCommonName(), "sigd-two");

  // A broken file on the next reload changes nothing.
  std::ofstream(certs_.server_cert(), std::ios::trunc) << "not a certificate";
  EXPECT_FALSE(server.server().ReloadTls().ok());
  WssClient third(server.ws_port(), certs_.ca(), "/r");
  ASSERT_TRUE(third.ok()) << third.error().message();
  EXPECT_EQ(third.PeerCommonName(), "sigd-two");

  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 3; }));
  ASSERT_TRUE(server.Send(Broadcast(R"("still here")")).ok());
  EXPECT_EQ(before.Read(), "still here");
  EXPECT_EQ(after.Read(), "still here");
  EXPECT_EQ(third.Read(), "still here");
}

TEST_F(TlsListenerTest, OversizeMessageOverTlsClosesWith1009) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
    c.max_message_bytes = 1024;
  });
  WssClient client(server.ws_port(), certs_.ca(), "/big");
  ASSERT_TRUE(client.ok()) << client.error().message();
  client.Send(std::string(4096, 'x'));
  EXPECT_EQ(client.ReadUntilClosed().code, 1009);
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 0; }));
}

TEST_F(TlsListenerTest, ShutdownClosesWssClientsWith1001) {
  auto server = std::make_unique<TestServer>([&](config::Config& c) {
    UseTls(c);
  });
  WssClient client(server->ws_port(), certs_.ca(), "/bye");
  ASSERT_TRUE(client.ok()) << client.error().message();
  ASSERT_TRUE(WaitFor([&] { return server->server().hub().size() == 1; }));
  std::thread stopper([&] { server->server().Stop(); });
  EXPECT_EQ(client.ReadUntilClosed().code, 1001);
  stopper.join();
}

// sigd seals a large write in pieces as the socket takes them, and gathers
// small frames into shared records: whatever the sizes, every frame arrives
// whole and in order.
TEST_F(TlsListenerTest, LargeAndSmallFramesArriveWholeAndInOrder) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
    c.max_message_bytes = 1024 * 1024;
  });
  WssClient a(server.ws_port(), certs_.ca(), "/big");
  ASSERT_TRUE(a.ok()) << a.error().message();
  WssClient b(server.ws_port(), certs_.ca(), "/big");
  ASSERT_TRUE(b.ok()) << b.error().message();
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 2; }));
  std::vector<std::string> sent;
  for (size_t size : {10, 300 * 1024, 5, 16 * 1024, 16 * 1024 + 1, 65 * 1024, 1}) {
    std::string text = absl::StrCat(sent.size(), ":");
    for (size_t i = text.size(); i < size; ++i) text.push_back(static_cast<char>('a' + i % 26));
    sent.push_back(text);
  }
  for (int i = 0; i < 100; ++i) sent.push_back(absl::StrCat("burst ", i));
  for (const std::string& text : sent) ASSERT_TRUE(server.Send(TextSignal(text)).ok());
  for (const std::string& text : sent) {
    ASSERT_EQ(a.Read(), text);
    ASSERT_EQ(b.Read(), text);
  }
  // And the other way: large and small messages from a client, re-broadcast.
  for (size_t size : {200 * 1024, 3, 40 * 1024}) {
    const std::string text(size, 'm');
    a.Send(absl::StrCat(R"({"message":")", text, R"("})"));
    ASSERT_EQ(a.Read(), text);
    ASSERT_EQ(b.Read(), text);
  }
}

// A TLS 1.3 client may ask the server to update its keys; OpenSSL answers
// while reading, and that answer must go out in its place among the records
// sigd writes, or the client could decrypt nothing after it.
TEST_F(TlsListenerTest, KeyUpdateTheClientAsksForKeepsTheStreamReadable) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  WssClient client(server.ws_port(), certs_.ca(), "/keys");
  ASSERT_TRUE(client.ok()) << client.error().message();
  ASSERT_EQ(SSL_version(client.native_handle()), TLS1_3_VERSION);
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(SSL_key_update(client.native_handle(), SSL_KEY_UPDATE_REQUESTED), 1);
    // The key update goes out ahead of this message; sigd's re-broadcast of
    // it comes back under the server's new keys.
    client.Send(absl::StrCat(R"({"message":"round )", round, R"("})"));
    EXPECT_EQ(client.Read(), absl::StrCat("round ", round));
    ASSERT_TRUE(server.Send(TextSignal(absl::StrCat("signal ", round))).ok());
    EXPECT_EQ(client.Read(), absl::StrCat("signal ", round));
  }
}

// A wss client that stops reading holds ciphertext in sigd only up to its
// queue's limit, is then closed with 1013, and costs the others nothing.
TEST_F(TlsListenerTest, StalledWssClientIsClosed1013AndTheOthersGoOn) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
    c.queue_max_bytes = 64 * 1024;
    c.queue_max_frames = 16;
  });
  WssClient stalled(server.ws_port(), certs_.ca(), "/storm");  // reads nothing
  ASSERT_TRUE(stalled.ok()) << stalled.error().message();
  WssClient reader(server.ws_port(), certs_.ca(), "/storm");
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 2; }));
  const std::string big(16 * 1024, 'x');
  int sent = 0;
  while (server.server().metrics().slow_clients_dropped.load() == 0 && sent < 6000) {
    ASSERT_TRUE(server.Send(TextSignal(absl::StrCat(sent, big))).ok());
    ASSERT_EQ(reader.Read(), absl::StrCat(sent, big)) << "the reader missed a message";
    ++sent;
  }
  EXPECT_EQ(server.server().metrics().slow_clients_dropped.load(), 1u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(server.Send(TextSignal(absl::StrCat("after ", i))).ok());
    ASSERT_EQ(reader.Read(), absl::StrCat("after ", i));
  }
  EXPECT_EQ(stalled.ReadUntilClosed().code, 1013);
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
}

// A record that does not decrypt (a forged one, or bytes changed on the
// way) is fatal for that connection only: sigd drops it, and its other wss
// clients go on.
TEST_F(TlsListenerTest, RecordThatDoesNotDecryptClosesOnlyItsConnection) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  WssClient forger(server.ws_port(), certs_.ca(), "/f");
  ASSERT_TRUE(forger.ok()) << forger.error().message();
  WssClient other(server.ws_port(), certs_.ca(), "/f");
  ASSERT_TRUE(other.ok()) << other.error().message();
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 2; }));
  // An application-data record of 40 bytes the server's keys never sealed.
  std::string record = "\x17\x03\x03";
  record.push_back(0);
  record.push_back(40);
  record.append(40, '\x5a');
  net::write(forger.socket(), net::buffer(record));
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
  // Whatever sigd said last (an alert), the connection then ends.
  char buffer[256];
  beast::error_code ec;
  while (!ec) forger.socket().read_some(net::buffer(buffer), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  ASSERT_TRUE(server.Send(TextSignal("still served")).ok());
  EXPECT_EQ(other.Read(), "still served");
}

// A client cut off in the middle of a record: the connection ends (as
// truncated), nothing waits for the rest of the record.
TEST_F(TlsListenerTest, ConnectionCutInsideARecordEnds) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  WssClient client(server.ws_port(), certs_.ca(), "/cut");
  ASSERT_TRUE(client.ok()) << client.error().message();
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
  // A record header promising 200 bytes, 10 of them, then the end.
  std::string partial = "\x17\x03\x03";
  partial.push_back(0);
  partial.push_back(static_cast<char>(200));
  partial.append(10, '\x01');
  net::write(client.socket(), net::buffer(partial));
  client.socket().shutdown(tcp::socket::shutdown_send);
  EXPECT_TRUE(WaitFor([&] { return server.server().hub().size() == 0; }));
}

// TLS 1.2 record sealing for a test client that writes records OpenSSL's
// own client would not (AES-128-GCM, the suite the client below insists on).
class Tls12Sealer {
 public:
  // Keys of the client's direction from the established session `tls`.
  explicit Tls12Sealer(SSL* tls) {
    unsigned char master[48];
    const size_t master_len =
        SSL_SESSION_get_master_key(SSL_get_session(tls), master, sizeof(master));
    unsigned char seed[13 + 2 * SSL3_RANDOM_SIZE] = "key expansion";
    SSL_get_server_random(tls, seed + 13, SSL3_RANDOM_SIZE);
    SSL_get_client_random(tls, seed + 13 + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE);
    // client key, server key, client salt, server salt
    unsigned char block[2 * 16 + 2 * 4];
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, master_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed)),
        OSSL_PARAM_construct_end()};
    ok_ = master_len == sizeof(master) && EVP_KDF_derive(ctx, block, sizeof(block), params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    std::memcpy(key_, block, 16);
    std::memcpy(salt_, block + 32, 4);
  }
  bool ok() const { return ok_; }

  // One record of `type` carrying `plain`, under the next sequence number
  // (the client's Finished was number 0).
  std::string Seal(uint8_t type, const std::string& plain) {
    unsigned char explicit_nonce[8];
    for (int i = 0; i < 8; ++i) explicit_nonce[i] = static_cast<unsigned char>(seq_ >> (56 - 8 * i));
    ++seq_;
    unsigned char nonce[12];
    std::memcpy(nonce, salt_, 4);
    std::memcpy(nonce + 4, explicit_nonce, 8);
    const auto n = static_cast<uint16_t>(plain.size());
    const unsigned char aad[13] = {explicit_nonce[0], explicit_nonce[1], explicit_nonce[2],
                                   explicit_nonce[3], explicit_nonce[4], explicit_nonce[5],
                                   explicit_nonce[6], explicit_nonce[7], type, 3, 3,
                                   static_cast<unsigned char>(n >> 8),
                                   static_cast<unsigned char>(n)};
    const size_t body = 8 + plain.size() + 16;
    std::string record = {static_cast<char>(type), 3, 3, static_cast<char>(body >> 8),
                          static_cast<char>(body & 0xff)};
    record.append(reinterpret_cast<const char*>(explicit_nonce), 8);
    std::string sealed(plain.size() + 16, '\0');
    auto* out = reinterpret_cast<unsigned char*>(sealed.data());
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    int tail = 0;
    const bool sealed_ok =
        ctx != nullptr && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key_, nonce) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &len, aad, sizeof(aad)) == 1 &&
        EVP_EncryptUpdate(ctx, out, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, out + len, &tail) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + plain.size()) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return sealed_ok ? record + sealed : std::string();  // empty: OpenSSL failed
  }

 private:
  bool ok_ = false;
  unsigned char key_[16];
  unsigned char salt_[4];
  uint64_t seq_ = 1;
};

// A TLS 1.2 peer that asks again and again to renegotiate and never reads:
// OpenSSL refuses each request with an alert and carries on, and each alert
// waits in sigd behind the full socket. Past sigd's bound on such answers
// (256 KiB) the connection fails; the other clients go on. (TLS 1.3 key
// update requests cannot do this: OpenSSL notes a request and answers it
// when sigd next writes, so 200,000 of them from a peer that never reads
// left nothing waiting.)
TEST_F(TlsListenerTest, PeerThatAsksToRenegotiateAndNeverReadsIsCut) {
  TestServer server([&](config::Config& c) {
    UseTls(c);
  });
  WssClient other(server.ws_port(), certs_.ca(), "/r");
  ASSERT_TRUE(other.ok()) << other.error().message();
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));

  net::io_context io;
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(certs_.ca());
  context.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_max_proto_version(context.native_handle(), TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set_cipher_list(context.native_handle(), "ECDHE-ECDSA-AES128-GCM-SHA256"), 1);
  tcp::socket socket(io);
  socket.open(tcp::v4());
  const int small = 4096;  // a small window, so that sigd's answers back up soon
  ASSERT_EQ(setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server.ws_port()));
  timeval tv{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::unique_ptr<SSL, decltype(&SSL_free)> tls(SSL_new(context.native_handle()), &SSL_free);
  ASSERT_NE(tls, nullptr);
  SSL_set_tlsext_host_name(tls.get(), "localhost");
  ASSERT_EQ(SSL_set_fd(tls.get(), socket.native_handle()), 1);
  ASSERT_EQ(SSL_connect(tls.get()), 1);
  ASSERT_EQ(SSL_version(tls.get()), TLS1_2_VERSION);
  Tls12Sealer sealer(tls.get());
  ASSERT_TRUE(sealer.ok());

  // A ClientHello's header is all OpenSSL reads of a renegotiation it
  // refuses; each refusal is an alert record of 31 bytes. Before sigd's
  // bound is reached, the socket's send buffer (up to tcp_wmem's largest,
  // 4 MiB here) and the client's receive buffer fill: this many requests
  // answer 31 MB.
  const std::string hello("\x01\x00\x00\x00", 4);
  // First, two requests one at a time, each answered with its alert while
  // the connection stays open: sigd takes these records (a record it could
  // not decrypt would end the connection, and this test would then pass
  // for the wrong reason).
  for (int probe = 0; probe < 2; ++probe) {
    const std::string record = sealer.Seal(22, hello);
    ASSERT_FALSE(record.empty());
    ASSERT_EQ(::send(socket.native_handle(), record.data(), record.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(record.size()));
    constexpr size_t kAlert = 5 + 8 + 2 + 16;  // header, nonce, alert, tag
    char alert[kAlert];
    size_t have = 0;
    while (have < kAlert) {
      const ssize_t n = ::recv(socket.native_handle(), alert + have, kAlert - have, 0);
      ASSERT_GT(n, 0) << "no alert came back for request " << probe;
      have += static_cast<size_t>(n);
    }
    EXPECT_EQ(alert[0], 21) << "not an alert record";
  }
  int asked = 2;
  bool cut = false;
  while (asked < 1'000'000 && !cut) {
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += sealer.Seal(22, hello);
    ASSERT_EQ(batch.size(), 100u * (5 + 8 + hello.size() + 16));
    asked += 100;
    cut = ::send(socket.native_handle(), batch.data(), batch.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(batch.size());
  }
  EXPECT_TRUE(cut) << "sigd still read after " << asked << " renegotiation requests";
  // The connection ends: what sigd sent before, then its end (or a reset,
  // for what it left unread), not a wait.
  char buffer[16384];
  ssize_t got = 1;
  while (got > 0) got = ::recv(socket.native_handle(), buffer, sizeof(buffer), 0);
  EXPECT_TRUE(got == 0 || errno == ECONNRESET) << "still open: " << std::strerror(errno);
  ASSERT_TRUE(server.Send(TextSignal("still served")).ok());
  EXPECT_EQ(other.Read(), "still served");
}

class GrpcTlsTest : public TlsListenerTest {
 protected:
  std::shared_ptr<grpc::Channel> Channel(const TestServer& server, bool tls, bool client_cert) {
    if (!tls) return grpc::CreateChannel(server.grpc_target(), grpc::InsecureChannelCredentials());
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFileOrEmpty(certs_.ca());
    if (client_cert) {
      options.pem_cert_chain = ReadFileOrEmpty(certs_.client_cert());
      options.pem_private_key = ReadFileOrEmpty(certs_.client_key());
    }
    return grpc::CreateChannel(server.grpc_target(), grpc::SslCredentials(options));
  }

  grpc::Status Info(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    sigd::v1::ServerInfo info;
    return sigd::v1::SignalService::NewStub(channel)->GetServerInfo(&context, {}, &info);
  }
};

TEST_F(GrpcTlsTest, TlsControlPlaneRefusesPlaintext) {
  TestServer server([&](config::Config& c) {
    c.grpc_tls_cert = certs_.server_cert();
    c.grpc_tls_key = certs_.server_key();
  });
  EXPECT_TRUE(Info(Channel(server, /*tls=*/true, /*client_cert=*/false)).ok());
  EXPECT_EQ(Info(Channel(server, /*tls=*/false, false)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcTlsTest, MutualTlsRequiresAClientCertificate) {
  TestServer server([&](config::Config& c) {
    c.grpc_tls_cert = certs_.server_cert();
    c.grpc_tls_key = certs_.server_key();
    c.grpc_tls_client_ca = certs_.ca();
  });
  EXPECT_EQ(Info(Channel(server, /*tls=*/true, /*client_cert=*/false)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::Status with_cert = Info(Channel(server, /*tls=*/true, /*client_cert=*/true));
  EXPECT_TRUE(with_cert.ok()) << with_cert.error_message();

  // A signal sent over the mutual-TLS channel reaches a client.
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server.ws_port(), "/m").ok());
  ASSERT_TRUE(WaitFor([&] { return server.server().hub().size() == 1; }));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(sigd::v1::SignalService::NewStub(Channel(server, true, true))
                  ->SendSignal(&context, Broadcast(R"({"mtls":true})"), &response)
                  .ok());
  EXPECT_EQ(response.delivered(), 1u);
  absl::StatusOr<std::string> frame = ws.Read();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(*frame, R"({"mtls":true})");
}

TEST_F(GrpcTlsTest, NonLoopbackControlPlaneNeedsTokensOrClientCertificates) {
  config::Config config;
  config.listen = "127.0.0.1:0";
  config.grpc_listen = "192.0.2.1:0";  // TEST-NET-1: never bound, the check comes first
  config.io_threads = 1;
  Server refused(config);
  absl::Status status = refused.Start();
  EXPECT_NE(status.message().find("neither --control-token-file nor --grpc-tls-client-ca"),
            absl::string_view::npos)
      << status;
}

}  // namespace
}  // namespace sigd::testing
