// What sigd writes to clients: signal values, error frames and the welcome
// frame. A signal whose value is a JSON string goes out as the string's raw
// text ("hi" -> hi); any other JSON value as compact JSON ({"a":1}).
#ifndef SIGD_SERVER_PROTOCOL_FRAMES_H_
#define SIGD_SERVER_PROTOCOL_FRAMES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace sigd::protocol {

// Error codes carried in {"error":{"code":...}} frames.
inline constexpr std::string_view kInvalidMessage = "invalid_message";
inline constexpr std::string_view kUnknownClient = "unknown_client";
// Cluster: the clientId is on no node that answered, but NATS was down or a
// node did not answer in time.
inline constexpr std::string_view kClusterUnavailable = "cluster_unavailable";
inline constexpr std::string_view kNoHandler = "no_handler";
inline constexpr std::string_view kRouteBusy = "route_busy";
inline constexpr std::string_view kRateLimited = "rate_limited";
inline constexpr std::string_view kTargetNotAllowed = "target_not_allowed";

// {"error":{"code":"<code>","message":"<message>"}}
std::string ErrorFrame(std::string_view code, std::string_view message);

// {"welcome":{"clientId":"<id>"}}
std::string WelcomeFrame(std::string_view client_id);

// Validates JSON text and returns the frame for it (raw string or compact
// JSON). InvalidArgument for invalid JSON or JSON nested deeper than max_depth.
// Most values take a one-pass scan (json_scan.h), the rest nlohmann-json's
// SAX parser (json_compact.h).
absl::StatusOr<std::string> FrameFromJsonText(std::string_view json_text, int max_depth);

// Gives back a frame's unused capacity when that is over a quarter of its
// size (and over 256 bytes). The scan writes into a buffer reserved at its
// input's size, and decoding \u escapes shrinks a string up to sixfold; a
// queued frame is counted by its size, so its memory must be about that,
// or a small frame cut from a large message would hold the whole message.
void TrimFrame(std::string& frame);

namespace detail {
// What FrameFromJsonText must give, for tests: the same through the parse
// tree.
absl::StatusOr<std::string> FrameFromJsonTextWithTree(std::string_view json_text, int max_depth);
}  // namespace detail

// Compact JSON, with invalid UTF-8 replaced rather than thrown on.
std::string DumpCompact(const nlohmann::json& value);
std::string DumpCompact(const nlohmann::ordered_json& value);

}  // namespace sigd::protocol

#endif  // SIGD_SERVER_PROTOCOL_FRAMES_H_
