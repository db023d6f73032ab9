// TlsChannel (server/ws/tls_channel.h), the server side of every wss
// connection, against Asio's own TLS client over a socket pair, both on one
// io_context: what a quiet connection holds, and that bytes still arrive
// whole and in order in both directions around the quiet spells.
#include "server/ws/tls_channel.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "server/ws/tls.h"
#include "tests/support/test_certs.h"

namespace sigd::ws {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

class TlsChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok()) << certs_.error();
    auto context = LoadServerTls({certs_.server_cert(), certs_.server_key(), "", ""});
    ASSERT_TRUE(context.ok()) << context.status();
    server_context_ = *std::move(context);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    Socket server_socket(io_);
    server_socket.assign(tcp::v4(), fds[0]);
    channel_ = TlsChannel::Make(std::move(server_socket), server_context_->native_handle());
    client_.next_layer().assign(tcp::v4(), fds[1]);

    struct Handshakes {
      bool server_done = false;
      bool client_done = false;
      boost::system::error_code server_error;
      boost::system::error_code client_error;
    };
    auto state = std::make_shared<Handshakes>();
    channel_->async_handshake([state](boost::system::error_code ec) {
      state->server_done = true;
      state->server_error = ec;
    });
    client_.async_handshake(ssl::stream_base::client, [state](boost::system::error_code ec) {
      state->client_done = true;
      state->client_error = ec;
    });
    ASSERT_TRUE(RunUntil([&] { return state->server_done && state->client_done; }));
    ASSERT_FALSE(state->server_error) << state->server_error.message();
    ASSERT_FALSE(state->client_error) << state->client_error.message();
  }

  // Runs the io_context until `done` holds; false after 5 s without.
  bool RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // The helpers keep what a pending handler writes to in shared state, so
  // that a helper given up on (a failed assertion, a timeout) leaves no
  // handler pointing into its stack; TearDown closes both ends and lets
  // such handlers finish.
  void TearDown() override {
    boost::system::error_code ignored;
    if (channel_ != nullptr) channel_->socket().close(ignored);
    client_.next_layer().close(ignored);
    io_.restart();
    io_.poll();
  }

  // Reads from the channel until `size` bytes have come, in reads of at
  // most `piece` bytes, as WsSession reads (one at a time).
  std::string ServerRead(size_t size, size_t piece) {
    struct State {
      std::string got;
      std::string buffer;
      bool done = false;
      bool failed = false;
    };
    auto state = std::make_shared<State>();
    state->buffer.resize(piece);
    while (state->got.size() < size && !state->failed) {
      state->done = false;
      const size_t want = std::min(piece, size - state->got.size());
      channel_->async_read_some(net::buffer(state->buffer.data(), want),
                                [state](boost::system::error_code ec, size_t n) {
                                  state->done = true;
                                  state->failed = static_cast<bool>(ec);
                                  state->got.append(state->buffer.data(), n);
                                });
      if (!RunUntil([&] { return state->done; })) break;
    }
    return state->got;
  }

  bool ClientWrite(const std::string& data) {
    auto done = std::make_shared<bool>(false);
    auto bytes = std::make_shared<std::string>(data);
    net::async_write(client_, net::buffer(*bytes),
                     [done, bytes](boost::system::error_code, size_t) { *done = true; });
    return RunUntil([&] { return *done; });
  }

  std::string ClientRead(size_t size) {
    auto got = std::make_shared<std::string>(size, '\0');
    auto done = std::make_shared<bool>(false);
    auto n = std::make_shared<size_t>(0);
    net::async_read(client_, net::buffer(*got),
                    [got, done, n](boost::system::error_code, size_t read) {
                      *done = true;
                      *n = read;
                    });
    if (!RunUntil([&] { return *done; })) return "(no answer within 5 s)";
    return got->substr(0, *n);
  }

  // A read that waits for the client, as WsSession's one-byte read between
  // frames does; it must hold no buffer while it waits.
  void ExpectQuietReadHoldsNothing() {
    struct State {
      char byte = 0;
      bool done = false;
    };
    auto state = std::make_shared<State>();
    channel_->async_read_some(net::buffer(&state->byte, 1),
                              [state](boost::system::error_code, size_t) { state->done = true; });
    io_.restart();
    io_.run_for(std::chrono::milliseconds(20));
    ASSERT_FALSE(state->done) << "nothing was sent, yet the read completed";
    EXPECT_EQ(channel_->buffer_bytes(), 0u);
    // The waiting read then takes the client's next byte.
    ASSERT_TRUE(ClientWrite("!"));
    ASSERT_TRUE(RunUntil([&] { return state->done; }));
    EXPECT_EQ(state->byte, '!');
  }

  sigd::testing::TestCerts certs_;
  net::io_context io_;
  std::shared_ptr<ssl::context> server_context_;
  std::shared_ptr<TlsChannel> channel_;
  ssl::context client_context_{ssl::context::tls_client};
  ssl::stream<tcp::socket> client_{io_, client_context_};
};

TEST_F(TlsChannelTest, AQuietConnectionHoldsNoCiphertextBuffers) {
  // After the handshake: the server's flight and its session tickets are on
  // the socket, and their buffers given back.
  ASSERT_TRUE(RunUntil([&] { return channel_->idle(); }));
  EXPECT_EQ(channel_->buffer_bytes(), 0u);
  ASSERT_NO_FATAL_FAILURE(ExpectQuietReadHoldsNothing());

  // A short message, read as WsSession reads between frames and within one.
  ASSERT_TRUE(ClientWrite("hello, server"));
  std::string got = ServerRead(1, 1);
  got += ServerRead(12, 2048);
  EXPECT_EQ(got, "hello, server");
  ASSERT_NO_FATAL_FAILURE(ExpectQuietReadHoldsNothing());

  // The server's answer, through the asynchronous write and the batched
  // path (sealed, sent by the caller, accounted with Sent).
  auto written = std::make_shared<bool>(false);
  static const std::string answer = "an answer";
  channel_->async_write_some(net::buffer(answer),
                             [written](boost::system::error_code, size_t) { *written = true; });
  ASSERT_TRUE(RunUntil([&] { return *written && channel_->idle(); }));
  const net::const_buffer batch[] = {net::buffer(std::string_view(" and another"))};
  boost::system::error_code seal_error;
  ASSERT_EQ(channel_->SealForSend(std::begin(batch), std::end(batch), seal_error), 12u);
  ASSERT_FALSE(seal_error);
  const std::string_view records = channel_->pending();
  const ssize_t sent = ::send(channel_->socket().native_handle(), records.data(), records.size(), 0);
  ASSERT_EQ(sent, static_cast<ssize_t>(records.size()));
  channel_->Sent(static_cast<size_t>(sent));
  EXPECT_EQ(ClientRead(21), "an answer and another");
  EXPECT_EQ(channel_->buffer_bytes(), 0u);
  ASSERT_NO_FATAL_FAILURE(ExpectQuietReadHoldsNothing());
}

TEST_F(TlsChannelTest, AStreamArrivesWholeAndTheBufferGoesOnceItStops) {
  // 300 KiB in one write: many full records, read in WsSession's chunks.
  auto stream = std::make_shared<std::string>(300 * 1024, '\0');
  for (size_t i = 0; i < stream->size(); ++i) (*stream)[i] = static_cast<char>('a' + i * 7 % 26);
  auto sent = std::make_shared<bool>(false);
  net::async_write(client_, net::buffer(*stream),
                   [stream, sent](boost::system::error_code, size_t) { *sent = true; });
  EXPECT_EQ(ServerRead(stream->size(), 2048), *stream);
  ASSERT_TRUE(RunUntil([&] { return *sent; }));
  ASSERT_NO_FATAL_FAILURE(ExpectQuietReadHoldsNothing());
}

}  // namespace
}  // namespace sigd::ws
