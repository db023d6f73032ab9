#include "server/protocol/inbound_message.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/protocol/frames.h"

namespace sigd::protocol {

// ordered_json keeps the sender's key order in what goes out.
using json = nlohmann::ordered_json;

bool WithinJsonDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

absl::StatusOr<InboundMessage> ParseInbound(std::string_view text, int max_depth) {
  // The frame itself is one level; the message value may use the rest.
  if (!WithinJsonDepth(text, max_depth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", max_depth, " levels"));
  }
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception& e) {  // defensive: some inputs still throw
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (doc.is_discarded()) return absl::InvalidArgumentError("invalid JSON");
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("expected a JSON object with a \"message\" key");
  }

  InboundMessage out;
  const json* message = nullptr;
  const json* path = nullptr;
  const json* client_id = nullptr;
  const json* direct = nullptr;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string key = absl::AsciiStrToLower(it.key());
    const json** slot = key == "message"    ? &message
                        : key == "path"     ? &path
                        : key == "clientid" ? &client_id
                        : key == "direct"   ? &direct
                                            : nullptr;
    if (slot != nullptr && *slot == nullptr) *slot = &it.value();
  }
  if (message == nullptr) return absl::InvalidArgumentError("missing \"message\"");
  if (path != nullptr) {
    if (!path->is_string()) return absl::InvalidArgumentError("\"path\" must be a string");
    out.path = path->get<std::string>();
  }
  if (client_id != nullptr) {
    if (!client_id->is_string()) {
      return absl::InvalidArgumentError("\"clientId\" must be a string");
    }
    out.client_id = client_id->get<std::string>();
  }
  if (direct != nullptr) {
    if (!direct->is_boolean()) return absl::InvalidArgumentError("\"direct\" must be a boolean");
    out.direct = direct->get<bool>();
  }
  out.message_json = DumpCompact(*message);
  out.frame = message->is_string() ? message->get<std::string>() : out.message_json;
  return out;
}

}  // namespace sigd::protocol
