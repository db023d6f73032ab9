// Fuzzes what a browser sends in a text frame (protocol::ParseInbound) and what
// a backend sends as SendSignal's `json` (protocol::FrameFromJsonText).
//
// Invariants beyond "no crash": the depth limit holds for whatever is
// accepted; the re-serialised message is valid compact JSON that survives a
// round trip unchanged; the outgoing frame is the raw text of a string message
// and the compact JSON of anything else; and keys match case-insensitively:
// the accepted message rebuilt with differently cased keys parses to the same
// result. And ParseInbound and FrameFromJsonText, their one-pass scan
// (json_scan.h) and their SAX path (json_compact.h), agree with
// nlohmann-json's parse tree on every input: the same result, or the same
// error.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "server/protocol/frames.h"
#include "server/protocol/inbound_message.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using json = nlohmann::ordered_json;
using sigd::protocol::InboundMessage;

int Depth(const json& j) {
  if (!j.is_structured()) return 0;
  int deepest = 0;
  for (const auto& child : j) deepest = std::max(deepest, Depth(child));
  return deepest + 1;
}

// "message" -> "MeSsAgE", chosen by the bits of `pattern`.
std::string Recase(std::string_view key, uint32_t pattern) {
  std::string out(key);
  for (size_t i = 0; i < out.size(); ++i) {
    if ((pattern >> (i % 32)) & 1) out[i] = static_cast<char>(std::toupper(out[i]));
  }
  return out;
}

// The same fields, whichever path read them.
bool SameFields(const InboundMessage& a, const InboundMessage& b) {
  return a.MessageJson() == b.MessageJson() && a.frame == b.frame && a.path == b.path &&
         a.client_id == b.client_id && a.direct == b.direct &&
         a.message_is_string == b.message_is_string;
}

void CheckAccepted(std::string_view text, int max_depth, const InboundMessage& m) {
  // The message value is valid JSON, compact, and stable under a round trip.
  json message = json::parse(m.MessageJson(), nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!message.is_discarded(), "message_json is not JSON: %s", m.MessageJson().c_str());
  FUZZ_CHECK(sigd::protocol::DumpCompact(message) == m.MessageJson(),
             "message_json is not compact/stable: %s", m.MessageJson().c_str());
  // The frame's depth limit covers the message inside it.
  FUZZ_CHECK(Depth(message) + 1 <= max_depth, "depth %d accepted with limit %d",
             Depth(message) + 1, max_depth);
  FUZZ_CHECK(m.message_is_string == message.is_string(), "message_is_string is wrong");
  if (message.is_string()) {
    FUZZ_CHECK(m.frame == message.get<std::string>(), "string message not sent raw");
  } else {
    FUZZ_CHECK(m.frame == m.MessageJson(), "non-string message not sent as compact JSON");
  }
  // Whatever the backend path does with the same value agrees.
  absl::StatusOr<std::string> frame = sigd::protocol::FrameFromJsonText(m.MessageJson(), max_depth);
  FUZZ_CHECK(frame.ok() && *frame == m.frame, "FrameFromJsonText disagrees with ParseInbound");

  // Case-insensitive keys: the same fields under other casings parse the same.
  const uint32_t pattern = static_cast<uint32_t>(std::hash<std::string_view>()(text));
  json rebuilt = json::object();
  rebuilt[Recase("message", pattern)] = message;
  if (!m.path.empty()) rebuilt[Recase("path", pattern >> 7)] = m.path;
  if (!m.client_id.empty()) rebuilt[Recase("clientid", pattern >> 11)] = m.client_id;
  rebuilt[Recase("direct", pattern >> 3)] = m.direct;
  rebuilt["unknownKey"] = 1;  // ignored
  absl::StatusOr<InboundMessage> again =
      sigd::protocol::ParseInbound(sigd::protocol::DumpCompact(rebuilt), max_depth);
  FUZZ_CHECK(again.ok(), "rebuilt message rejected: %s",
             std::string(again.status().message()).c_str());
  FUZZ_CHECK(SameFields(*again, m), "recased keys changed the result");
}

template <typename T>
bool SameOutcome(const absl::StatusOr<T>& a, const absl::StatusOr<T>& b) {
  return a.ok() == b.ok() && (a.ok() ? true : a.status() == b.status());
}

void CheckAgreesWithTree(std::string_view text, int max_depth,
                         const absl::StatusOr<InboundMessage>& m) {
  const absl::StatusOr<InboundMessage> tree =
      sigd::protocol::detail::ParseInboundWithTree(text, max_depth);
  // The second path on its own, also for what the scan takes.
  const absl::StatusOr<InboundMessage> compact =
      sigd::protocol::detail::ParseInboundCompact(text, max_depth);
  FUZZ_CHECK(SameOutcome(compact, tree), "ParseInboundCompact and tree disagree on acceptance");
  if (compact.ok()) {
    FUZZ_CHECK(SameFields(*compact, *tree), "ParseInboundCompact and tree disagree: %s against %s",
               compact->MessageJson().c_str(), tree->MessageJson().c_str());
  }
  FUZZ_CHECK(SameOutcome(m, tree), "ParseInbound: scan and tree disagree on acceptance: %s / %s",
             std::string(m.status().message()).c_str(),
             std::string(tree.status().message()).c_str());
  if (m.ok()) {
    FUZZ_CHECK(SameFields(*m, *tree), "ParseInbound: scan and tree disagree: %s against %s",
               m->MessageJson().c_str(), tree->MessageJson().c_str());
  }
  const absl::StatusOr<std::string> frame = sigd::protocol::FrameFromJsonText(text, max_depth);
  const absl::StatusOr<std::string> frame_tree =
      sigd::protocol::detail::FrameFromJsonTextWithTree(text, max_depth);
  FUZZ_CHECK(SameOutcome(frame, frame_tree) && (!frame.ok() || *frame == *frame_tree),
             "FrameFromJsonText: scan and tree disagree");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the depth limit: sigd's default most of the time,
  // sometimes a small one so that the boundary is exercised too.
  const int max_depth = data[0] < 200 ? sigd::protocol::kDefaultMaxJsonDepth : 1 + data[0] % 8;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  const bool within = sigd::protocol::WithinJsonDepth(text, max_depth);
  absl::StatusOr<InboundMessage> m = sigd::protocol::ParseInbound(text, max_depth);
  CheckAgreesWithTree(text, max_depth, m);
  if (!within) FUZZ_CHECK(!m.ok(), "input over the depth limit was accepted");
  if (m.ok()) {
    CheckAccepted(text, max_depth, *m);
  } else {
    FUZZ_CHECK(m.status().code() == absl::StatusCode::kInvalidArgument,
               "rejection is not InvalidArgument");
  }

  absl::StatusOr<std::string> frame = sigd::protocol::FrameFromJsonText(text, max_depth);
  if (!within) FUZZ_CHECK(!frame.ok(), "FrameFromJsonText accepted input over the depth limit");
  if (frame.ok()) {
    json value = json::parse(text, nullptr, false);
    FUZZ_CHECK(!value.is_discarded(), "FrameFromJsonText accepted invalid JSON");
  }
  return 0;
}
