// A real WebSocket client for tests (Beast over loopback), with a deadline on
// every operation instead of sleeps.
//
//   WsClient c;
//   ASSERT_TRUE(c.Connect(port, "/chat?welcome=1").ok());
//   absl::StatusOr<std::string> frame = c.Read();
#ifndef SIGD_TESTS_SUPPORT_WS_CLIENT_H_
#define SIGD_TESTS_SUPPORT_WS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sigd::testing {

using namespace std::chrono_literals;

class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects to 127.0.0.1:port and upgrades on `target`. Fails with the HTTP
  // status in the message when the server refuses the upgrade.
  absl::Status Connect(uint16_t port, std::string target = "/",
                       std::vector<std::pair<std::string, std::string>> headers = {},
                       std::chrono::milliseconds timeout = 5s);

  absl::Status Send(std::string_view text, std::chrono::milliseconds timeout = 5s);
  absl::Status SendBinary(std::string_view bytes, std::chrono::milliseconds timeout = 5s);

  // The next frame. DeadlineExceeded when none arrives in time (the client is
  // unusable afterwards); when the server closes the connection, an error
  // whose message says "closed" and close_code() holds the server's code.
  absl::StatusOr<std::string> Read(std::chrono::milliseconds timeout = 5s);
  // Reads until a frame satisfies `match`; frames before it are discarded.
  absl::StatusOr<std::string> ReadUntil(const std::function<bool(const std::string&)>& match,
                                        std::chrono::milliseconds timeout = 5s);
  // Reads until the server closes the connection; returns its close code.
  absl::StatusOr<uint16_t> WaitForClose(std::chrono::milliseconds timeout = 5s);

  // Sends a ping; the server's pong is counted while reading (pongs_received).
  absl::Status Ping(std::chrono::milliseconds timeout = 5s);
  int pongs_received() const;
  // Pings from the server, answered while reading. Any thread may ask.
  int pings_received() const;

  bool last_was_binary() const;
  uint16_t close_code() const;
  absl::Status Close(uint16_t code = 1000, std::chrono::milliseconds timeout = 5s);

  // From the upgrade response's X-Signal-Client-Id header.
  const std::string& client_id() const;
  // Upgrade response headers, names lowercased.
  const std::map<std::string, std::string>& response_headers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_WS_CLIENT_H_
