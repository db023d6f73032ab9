// Fuzzes the WebSocket frame path: sigd's FrameReader, fed a client's bytes
// in pieces of a fuzzed size, against a Beast websocket::stream configured as
// sigd's sessions were before they read frames themselves (server role,
// message size limit, no permessage-deflate), over an in-memory stream. Beast
// passes the Autobahn suite, so it is the reference for what a server must
// accept and refuse.
//
// Invariants: both see the same messages (text or binary, byte for byte),
// the same pings, and end the same way: at the end of the input, at the same
// close code from the client, or failing with the same close code (message
// too big 1009, invalid UTF-8 1007, any other protocol violation 1002, as
// DESIGN.md promises clients). Beast 1.74 lets a text message through whose
// last fragment is empty and whose text ends inside a character; sigd's
// sessions closed with 1007 there, and FrameReader does, so the reference
// does too. No message over the limit is delivered; every text message is
// valid UTF-8 (checked by a decoder of this file's own), and each is parsed as
// sigd's inbound message, as InboundHandler does.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/beast/_experimental/test/stream.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/websocket/error.hpp"
#include "boost/beast/websocket/stream.hpp"
#include "server/protocol/inbound_message.h"
#include "server/ws/frame_reader.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/utf8_reference.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// False when `text` ends inside a multi-byte UTF-8 sequence, the rest of it
// being valid (as Beast has checked it up to its end). Beast 1.74 runs its
// end-of-message check only on a final frame that carries payload.
bool EndsWithCompleteUtf8(std::string_view text) {
  size_t continuation = 0;
  while (continuation < 3 && continuation < text.size() &&
         (static_cast<unsigned char>(text[text.size() - 1 - continuation]) & 0xC0) == 0x80) {
    ++continuation;
  }
  if (continuation == text.size()) return continuation == 0;
  const auto lead = static_cast<unsigned char>(text[text.size() - 1 - continuation]);
  const size_t needed = lead < 0x80             ? 0
                        : (lead & 0xE0) == 0xC0 ? 1
                        : (lead & 0xF0) == 0xE0 ? 2
                        : (lead & 0xF8) == 0xF0 ? 3
                                                : 4;  // not a lead byte
  return needed == continuation;
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


// What one side saw: messages and pings in order, then how it ended
// ("eof", "close:CODE" or "error:CODE").
struct Outcome {
  std::vector<std::string> events;
  std::string end;
};

Outcome ReadWithBeast(std::string_view bytes, size_t chunk, size_t max_message) {
  boost::asio::io_context ioc;
  beast::test::stream client(ioc);
  websocket::stream<beast::test::stream, false> ws(ioc);
  ws.next_layer().connect(client);
  ws.next_layer().read_size(chunk);
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  ws.read_message_max(max_message);
  ws.auto_fragment(false);

  Outcome outcome;
  ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
    if (kind == websocket::frame_type::ping) {
      outcome.events.push_back("ping:" + std::string(payload));
    }
  });
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
  bool done = false;
  std::function<void()> read_next = [&] {
    ws.async_read(buffer, [&](beast::error_code ec, size_t) {
      if (ec) {
        done = true;
        if (ec == websocket::error::closed) {
          outcome.end = absl::StrCat("close:", ws.reason().code == websocket::close_code::none
                                                   ? 1005
                                                   : static_cast<int>(ws.reason().code));
        } else if (ec == websocket::error::message_too_big) {
          outcome.end = "error:1009";
        } else if (ec == websocket::error::bad_frame_payload) {
          outcome.end = "error:1007";
        } else if (ec == websocket::condition::protocol_violation) {
          outcome.end = "error:1002";
        } else {
          outcome.end = "eof";
        }
        return;
      }
      const std::string message = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (ws.got_text() && !EndsWithCompleteUtf8(message)) {
        // Beast 1.74's gap (see the top of this file).
        outcome.end = "error:1007";
        done = true;
        return;
      }
      outcome.events.push_back((ws.got_text() ? "text:" : "binary:") + message);
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
  FUZZ_CHECK(done, "Beast's read neither completed nor failed on a finite input");
  return outcome;
}

Outcome ReadWithSigd(std::string_view bytes, size_t chunk, size_t max_message) {
  sigd::ws::FrameReader reader(max_message);
  Outcome outcome;
  for (size_t at = 0; at < bytes.size() && outcome.end.empty(); at += chunk) {
    // Each piece in a buffer of its own, as a read would give it.
    std::string piece(bytes.substr(at, chunk));
    char* p = piece.data();
    char* const end = p + piece.size();
    while (outcome.end.empty()) {
      const sigd::ws::FrameEvent event = reader.Next(p, end);
      if (event.kind == sigd::ws::FrameEvent::kNeedMore) {
        FUZZ_CHECK(p == end, "more asked for with input left");
        break;
      }
      switch (event.kind) {
        case sigd::ws::FrameEvent::kMessage:
          FUZZ_CHECK(event.data.size() <= max_message, "message of %zu bytes over the %zu limit",
                     event.data.size(), max_message);
          if (event.text) {
            FUZZ_CHECK(sigd::testing::DecodesAsUtf8(event.data), "invalid UTF-8 delivered as text");
            (void)sigd::protocol::ParseInbound(event.data);
          }
          outcome.events.push_back((event.text ? "text:" : "binary:") + std::string(event.data));
          break;
        case sigd::ws::FrameEvent::kPing:
          outcome.events.push_back("ping:" + std::string(event.data));
          break;
        case sigd::ws::FrameEvent::kClose:
          outcome.end = absl::StrCat("close:", event.code);
          break;
        case sigd::ws::FrameEvent::kError:
          outcome.end = absl::StrCat("error:", event.code);
          break;
        default:
          break;
      }
    }
  }
  if (outcome.end.empty()) outcome.end = "eof";
  FUZZ_CHECK(outcome.end == "eof" || reader.done(), "ended without the reader being done");
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0: read chunk size. Byte 1: the message limit, sigd's default or a
  // small one so that 1009 is reachable with short inputs.
  const size_t chunk = size_t{data[0]} + 1;
  const size_t max_message = data[1] < 128 ? 64 * 1024 : 1 + (data[1] & 0x7F);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Outcome beast = ReadWithBeast(bytes, chunk, max_message);
  const Outcome sigd = ReadWithSigd(bytes, chunk, max_message);
  const size_t common = std::min(beast.events.size(), sigd.events.size());
  for (size_t i = 0; i < common; ++i) {
    FUZZ_CHECK(beast.events[i] == sigd.events[i], "event %zu: Beast \"%.40s\", sigd \"%.40s\"", i,
               beast.events[i].c_str(), sigd.events[i].c_str());
  }
  FUZZ_CHECK(beast.events.size() == sigd.events.size(), "Beast saw %zu events, sigd %zu",
             beast.events.size(), sigd.events.size());
  FUZZ_CHECK(beast.end == sigd.end, "Beast ended \"%s\", sigd \"%s\"", beast.end.c_str(),
             sigd.end.c_str());
  return 0;
}
