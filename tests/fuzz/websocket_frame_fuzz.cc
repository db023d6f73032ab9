// Fuzzes the WebSocket frame path: a Beast websocket::stream configured as
// WsSession configures its sessions (server role, message size limit, no
// auto-fragmenting, no permessage-deflate, timeouts with keep-alive pings)
// accepts an upgrade over an in-memory stream, then reads whatever bytes a
// client sends, in chunks of a fuzzed size. Every text message it hands up is
// parsed as sigd's inbound message, as InboundHandler does.
//
// Invariants: no message over the size limit is ever delivered; every text
// message that passes WsSession's checks is valid UTF-8; when the read fails the server has sent
// exactly one close frame whose code matches the failure, as DESIGN.md
// promises clients (message too big 1009, invalid UTF-8 1007, any other
// protocol violation 1002), and nothing after it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/beast/_experimental/test/stream.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/websocket/error.hpp"
#include "boost/beast/websocket/stream.hpp"
#include "server/protocol/inbound_message.h"
#include "server/ws/utf8_tail.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// RFC 3629 UTF-8, written independently of Beast's checker.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

struct ServerFrame {
  int opcode;
  std::string payload;
};

// Splits what the server wrote after its 101 response into frames (server
// frames are unmasked). Returns nullopt if the bytes are not well-formed.
std::optional<std::vector<ServerFrame>> ServerFrames(std::string_view out) {
  const size_t end = out.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  out.remove_prefix(end + 4);
  std::vector<ServerFrame> frames;
  while (!out.empty()) {
    if (out.size() < 2) return std::nullopt;
    const int opcode = out[0] & 0x0F;
    if (out[1] & 0x80) return std::nullopt;  // a server never masks
    uint64_t len = out[1] & 0x7F;
    size_t pos = 2;
    if (len == 126 || len == 127) {
      const size_t bytes = len == 126 ? 2 : 8;
      if (out.size() < pos + bytes) return std::nullopt;
      len = 0;
      for (size_t k = 0; k < bytes; ++k) len = (len << 8) | static_cast<unsigned char>(out[pos + k]);
      pos += bytes;
    }
    if (out.size() - pos < len) return std::nullopt;
    frames.push_back({opcode, std::string(out.substr(pos, len))});
    out.remove_prefix(pos + len);
  }
  return frames;
}

http::request<http::string_body> UpgradeRequest() {
  http::request<http::string_body> req(http::verb::get, "/chat?welcome=1", 11);
  req.set(http::field::host, "localhost");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  return req;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0: read chunk size. Byte 1: the message limit, sigd's default or a
  // small one so that 1009 is reachable with short inputs.
  const size_t chunk = size_t{data[0]} + 1;
  const size_t max_message = data[1] < 128 ? 64 * 1024 : 1 + (data[1] & 0x7F);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

  boost::asio::io_context ioc;
  beast::test::stream client(ioc);
  // deflateSupported = false, as WsSession's stream.
  websocket::stream<beast::test::stream, false> ws(ioc);
  ws.next_layer().connect(client);
  ws.next_layer().read_size(chunk);

  // As WsSession::Run sets them up.
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = std::chrono::seconds(60);
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(max_message);
  ws.auto_fragment(false);

  beast::error_code accept_ec;
  bool accepted = false;
  ws.async_accept(UpgradeRequest(), [&](beast::error_code ec) {
    accept_ec = ec;
    accepted = true;
  });
  while (ioc.poll() > 0) {
  }
  FUZZ_CHECK(accepted && !accept_ec, "a valid upgrade was refused");

  // The client's bytes, then its end of the connection.
  ws.next_layer().append(bytes);
  ws.next_layer().close_remote();

  beast::flat_buffer buffer;
  beast::error_code read_ec;
  bool done = false;
  int messages = 0;
  std::function<void()> read_next = [&] {
    ws.async_read(buffer, [&](beast::error_code ec, size_t n) {
      if (ec) {
        read_ec = ec;
        done = true;
        return;
      }
      FUZZ_CHECK(n <= max_message, "message of %zu bytes over the %zu limit", n, max_message);
      const std::string message = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (ws.got_text() && !sigd::ws::EndsWithCompleteUtf8(message)) {
        // WsSession closes with 1007 here (Beast 1.74's gap, ws/utf8_tail.h).
        FUZZ_CHECK(!ValidUtf8(message), "valid text taken for truncated UTF-8");
      } else if (ws.got_text()) {
        FUZZ_CHECK(ValidUtf8(message), "invalid UTF-8 delivered as text");
        (void)sigd::protocol::ParseInbound(message);
      }
      ++messages;
      read_next();
    });
  };
  read_next();
  // Everything the stream does here is ready at once (the input is all there
  // and then closed); its timers never need to fire. poll() runs until
  // nothing is ready; restart() clears the stopped state a previous poll
  // that ran out of work left behind.
  ioc.restart();
  while (ioc.poll() > 0) {
  }
  FUZZ_CHECK(done, "read neither completed nor failed on a finite input");

  std::optional<std::vector<ServerFrame>> frames = ServerFrames(client.str());
  FUZZ_CHECK(frames.has_value(), "server output is not well-formed frames");
  int closes = 0;
  std::optional<int> close_code;
  for (size_t i = 0; i < frames->size(); ++i) {
    const ServerFrame& f = (*frames)[i];
    if (f.opcode != 8) continue;
    ++closes;
    FUZZ_CHECK(i == frames->size() - 1, "a frame after the close frame");
    if (f.payload.size() >= 2) {
      close_code = (static_cast<unsigned char>(f.payload[0]) << 8) |
                   static_cast<unsigned char>(f.payload[1]);
    }
  }
  FUZZ_CHECK(closes <= 1, "%d close frames", closes);
  std::optional<int> expected;
  if (read_ec == websocket::error::message_too_big) {
    expected = 1009;
  } else if (read_ec == websocket::error::bad_frame_payload) {
    expected = 1007;
  } else if (read_ec == websocket::condition::protocol_violation) {
    expected = 1002;
  }
  if (expected) {
    FUZZ_CHECK(close_code == expected, "failure \"%s\" closed with %d, expected %d",
               read_ec.message().c_str(), close_code.value_or(-1), *expected);
  }
  return 0;
}
