#include "tests/support/ws_client.h"

#include <atomic>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/websocket/stream.hpp"

namespace sigd::testing {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

struct WsClient::Impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  Impl() { ws.read_message_max(64 * 1024 * 1024); }  // tests send up to 16 MiB
  beast::flat_buffer buffer;
  std::string client_id;
  std::map<std::string, std::string> headers;
  uint16_t close_code = 0;
  int pongs = 0;
  std::atomic<int> pings{0};
  bool broken = false;

  // Runs the io_context until `done` or the deadline; on timeout cancels the
  // socket and marks the client unusable.
  bool RunUntil(const bool& done, std::chrono::milliseconds timeout) {
    ioc.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      ioc.run_one_until(deadline);
    }
    if (done) return true;
    broken = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(500));  // let the aborted handlers run
    return false;
  }

  absl::Status Write(std::string_view data, bool binary, std::chrono::milliseconds timeout) {
    if (broken) return absl::FailedPreconditionError("client is broken");
    ws.binary(binary);
    bool done = false;
    beast::error_code result;
    ws.async_write(net::buffer(data.data(), data.size()), [&](beast::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    if (!RunUntil(done, timeout)) return absl::DeadlineExceededError("write timed out");
    if (result) return absl::UnavailableError(absl::StrCat("write failed: ", result.message()));
    return absl::OkStatus();
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}

WsClient::~WsClient() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

absl::Status WsClient::Connect(uint16_t port, std::string target,
                               std::vector<std::pair<std::string, std::string>> headers,
                               std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  bool done = false;
  beast::error_code result;
  beast::get_lowest_layer(m.ws).async_connect(endpoint, [&](beast::error_code ec) {
    result = ec;
    done = true;
  });
  if (!m.RunUntil(done, timeout)) return absl::DeadlineExceededError("connect timed out");
  if (result) return absl::UnavailableError(absl::StrCat("connect: ", result.message()));

  m.ws.control_callback([&m](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) ++m.pongs;
    if (kind == websocket::frame_type::ping) m.pings.fetch_add(1);
  });
  m.ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
  websocket::response_type response;
  done = false;
  m.ws.async_handshake(response, absl::StrCat("127.0.0.1:", port), target,
                       [&](beast::error_code ec) {
                         result = ec;
                         done = true;
                       });
  if (!m.RunUntil(done, timeout)) return absl::DeadlineExceededError("handshake timed out");
  for (const auto& field : response) {
    m.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  if (result) {
    return absl::UnavailableError(absl::StrCat("handshake: ", result.message(), " (HTTP ",
                                               response.result_int(), ")"));
  }
  m.client_id = std::string(response["X-Signal-Client-Id"]);
  return absl::OkStatus();
}

absl::Status WsClient::Send(std::string_view text, std::chrono::milliseconds timeout) {
  return impl_->Write(text, false, timeout);
}

absl::Status WsClient::SendBinary(std::string_view bytes, std::chrono::milliseconds timeout) {
  return impl_->Write(bytes, true, timeout);
}

absl::Status WsClient::Ping(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  if (m.broken) return absl::FailedPreconditionError("client is broken");
  bool done = false;
  beast::error_code result;
  m.ws.async_ping({}, [&](beast::error_code ec) {
    result = ec;
    done = true;
  });
  if (!m.RunUntil(done, timeout)) return absl::DeadlineExceededError("ping timed out");
  if (result) return absl::UnavailableError(absl::StrCat("ping failed: ", result.message()));
  return absl::OkStatus();
}

int WsClient::pongs_received() const { return impl_->pongs; }
int WsClient::pings_received() const { return impl_->pings.load(); }

absl::StatusOr<std::string> WsClient::Read(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  if (m.broken) return absl::FailedPreconditionError("client is broken");
  bool done = false;
  beast::error_code result;
  m.buffer.clear();
  m.ws.async_read(m.buffer, [&](beast::error_code ec, size_t) {
    result = ec;
    done = true;
  });
  if (!m.RunUntil(done, timeout)) return absl::DeadlineExceededError("no frame in time");
  if (result) {
    m.broken = true;
    if (result == websocket::error::closed) {
      m.close_code = m.ws.reason().code;
      return absl::UnavailableError(absl::StrCat("closed with code ", m.close_code, " (",
                                                 std::string(m.ws.reason().reason.c_str()), ")"));
    }
    return absl::UnavailableError(absl::StrCat("read failed: ", result.message()));
  }
  return beast::buffers_to_string(m.buffer.data());
}

absl::StatusOr<std::string> WsClient::ReadUntil(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) {
      return absl::DeadlineExceededError("no matching frame in time");
    }
    absl::StatusOr<std::string> frame = Read(left);
    if (!frame.ok() || match(*frame)) return frame;
  }
}

absl::StatusOr<uint16_t> WsClient::WaitForClose(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) {
      return absl::DeadlineExceededError("not closed in time");
    }
    absl::StatusOr<std::string> frame = Read(left);
    if (frame.ok()) continue;
    if (absl::IsDeadlineExceeded(frame.status())) return frame.status();
    return impl_->close_code;
  }
}

bool WsClient::last_was_binary() const { return impl_->ws.got_binary(); }
uint16_t WsClient::close_code() const { return impl_->close_code; }
const std::string& WsClient::client_id() const { return impl_->client_id; }
const std::map<std::string, std::string>& WsClient::response_headers() const {
  return impl_->headers;
}

absl::Status WsClient::Close(uint16_t code, std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  if (m.broken) return absl::OkStatus();
  bool done = false;
  beast::error_code result;
  m.ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code)),
                   [&](beast::error_code ec) {
                     result = ec;
                     done = true;
                   });
  if (!m.RunUntil(done, timeout)) return absl::DeadlineExceededError("close timed out");
  m.broken = true;
  if (result) return absl::UnavailableError(absl::StrCat("close: ", result.message()));
  return absl::OkStatus();
}

}  // namespace sigd::testing
