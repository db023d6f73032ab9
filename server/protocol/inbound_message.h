// Parsing of what a browser sends: a text frame holding
//   {"message": <any JSON>, "path": "/x", "clientId": "id", "direct": true}
// Only `message` is required. Keys match case-insensitively (Pode accepts
// "Message"), unknown keys are ignored, an empty path or clientId counts as
// absent, and a non-string path/clientId or non-boolean direct is invalid.
//
// Nesting depth is checked before the JSON parser runs, so copying or
// re-serialising the parsed value (both recursive in nlohmann-json) can never
// overflow the stack however deep the input.
//
//   absl::StatusOr<InboundMessage> m = ParseInbound(frame_text, 64);
//   if (!m.ok()) SendError("invalid_message", m.status().message());
#ifndef SIGD_SERVER_PROTOCOL_INBOUND_MESSAGE_H_
#define SIGD_SERVER_PROTOCOL_INBOUND_MESSAGE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sigd::protocol {

inline constexpr int kDefaultMaxJsonDepth = 64;

struct InboundMessage {
  std::string frame;               // what goes out: a JSON string raw, anything else compact
  bool message_is_string = false;  // `message` was a JSON string: `frame` is its value
  std::string path;                // empty when absent
  std::string client_id;           // empty when absent
  bool direct = false;

  // `message` as compact JSON (what a route's event carries): the frame
  // itself, or for a string its value quoted and escaped. Written on demand
  // because only routed messages need it.
  std::string MessageJson() const;
};

// InvalidArgument with a human-readable reason for anything that is not a
// valid inbound message. Most messages take a one-pass scan (json_scan.h);
// the rest, and every error, nlohmann-json's SAX parser (json_compact.h).
// Both cost time linear in the message.
absl::StatusOr<InboundMessage> ParseInbound(std::string_view text,
                                            int max_depth = kDefaultMaxJsonDepth);

namespace detail {
// What ParseInbound's result must equal, for tests: the same through
// nlohmann-json's parse tree (ordered_json), as sigd read messages before
// the scan. Its cost grows with the square of an object's key count.
absl::StatusOr<InboundMessage> ParseInboundWithTree(std::string_view text, int max_depth);
// ParseInbound's second path, what the scan declines goes to: through
// json_compact.h. Any input gives the same as through the tree.
absl::StatusOr<InboundMessage> ParseInboundCompact(std::string_view text, int max_depth);
// Whether the one-pass scan takes `text` itself (for tests).
bool ScanAccepts(std::string_view text, int max_depth);
}  // namespace detail

// Checks that `text` nests arrays/objects no deeper than max_depth, without
// parsing it (strings and escapes are skipped correctly).
bool WithinJsonDepth(std::string_view text, int max_depth);

}  // namespace sigd::protocol

#endif  // SIGD_SERVER_PROTOCOL_INBOUND_MESSAGE_H_
