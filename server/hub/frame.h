// One outbound WebSocket message, serialised once and shared by every client
// it goes to (a broadcast to 10,000 clients holds one copy of the bytes).
#ifndef SIGD_SERVER_HUB_FRAME_H_
#define SIGD_SERVER_HUB_FRAME_H_

#include <chrono>
#include <memory>
#include <string>

namespace sigd::hub {

struct Frame {
  std::shared_ptr<const std::string> data;
  bool binary = false;
  // When a backend's SendSignal produced it (for the send-to-write latency
  // histogram); default for frames from browsers.
  std::chrono::steady_clock::time_point sent_at{};

  size_t size() const { return data ? data->size() : 0; }
};

inline Frame TextFrame(std::string text) {
  return Frame{std::make_shared<const std::string>(std::move(text)), false};
}

inline Frame BinaryFrame(std::string bytes) {
  return Frame{std::make_shared<const std::string>(std::move(bytes)), true};
}

}  // namespace sigd::hub

#endif  // SIGD_SERVER_HUB_FRAME_H_
