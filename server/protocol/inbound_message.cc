#include "server/protocol/inbound_message.h"

#include <optional>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/protocol/frames.h"
#include "server/protocol/json_compact.h"
#include "server/protocol/json_scan.h"

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

namespace {

// The envelope's keys, matched case-insensitively.
enum class Field { kMessage, kPath, kClientId, kDirect, kOther };

// `key` equals the lowercase `name` but for the case of its ASCII letters.
bool EqualsLower(std::string_view key, std::string_view name) {
  if (key.size() != name.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(key[i])) != name[i]) return false;
  }
  return true;
}

Field FieldOfKey(std::string_view key) {
  if (EqualsLower(key, "message")) return Field::kMessage;
  if (EqualsLower(key, "path")) return Field::kPath;
  if (EqualsLower(key, "clientid")) return Field::kClientId;
  if (EqualsLower(key, "direct")) return Field::kDirect;
  return Field::kOther;
}

// A key token: the key between its quotes.
Field FieldOf(std::string_view token) { return FieldOfKey(token.substr(1, token.size() - 2)); }

// The envelope has a handful of keys; more than this goes to the SAX path.
constexpr size_t kMaxEnvelopeKeys = 32;

// ParseInbound's fast path (json_scan.h): false when the scanner declines,
// and then `out` is to be thrown away.
bool ScanInbound(std::string_view text, int max_depth, InboundMessage& out) {
  JsonScanner scan(text, max_depth);
  if (max_depth < 1 || !scan.Consume('{')) return false;
  absl::InlinedVector<std::string_view, 4> keys;
  bool seen[4] = {false, false, false, false};
  std::string_view string_message;  // the token, when the message is a string
  if (scan.Peek() == '}') return false;  // no message: nlohmann says so
  do {
    // A key with a \u or \/ escape may spell a field's name: the SAX path
    // reads it.
    std::string_view key;
    bool verbatim;
    if (!scan.String(&key, &verbatim) || !verbatim || !scan.Consume(':')) return false;
    if (keys.size() == kMaxEnvelopeKeys) return false;
    for (std::string_view earlier : keys) {
      if (earlier == key) return false;  // nlohmann keeps the last value
    }
    keys.push_back(key);
    Field field = FieldOf(key);
    if (field != Field::kOther && seen[static_cast<int>(field)]) field = Field::kOther;
    if (field != Field::kOther) seen[static_cast<int>(field)] = true;
    std::string_view token;
    switch (field) {
      case Field::kMessage:
        if (scan.Peek() == '"') {
          if (!scan.String(&string_message, &verbatim)) return false;
        } else {
          // Reserved at the text's size: rarely regrown (only numbers get
          // longer), and trimmed below if the message was a small part.
          out.frame.reserve(text.size());
          if (!scan.Value(1, &out.frame)) return false;
        }
        break;
      case Field::kPath:
      case Field::kClientId:
        if (!scan.String(&token, &verbatim)) return false;  // not a string: nlohmann's error
        (field == Field::kPath ? out.path : out.client_id) = JsonScanner::Decode(token);
        break;
      case Field::kDirect:
        if (!scan.Boolean(&out.direct)) return false;
        break;
      case Field::kOther:
        if (!scan.Value(1, nullptr)) return false;
        break;
    }
  } while (scan.Consume(','));
  if (!scan.Consume('}') || !scan.AtEndAfterSpace() || !seen[0]) return false;
  if (!string_message.empty()) {
    out.frame = JsonScanner::Decode(string_message);
    out.message_is_string = true;
  }
  TrimFrame(out.frame);
  return true;
}

}  // namespace

namespace detail {

absl::StatusOr<InboundMessage> ParseInboundCompact(std::string_view text, int max_depth) {
  // The frame itself is one level; the message value may use the rest.
  if (!WithinJsonDepth(text, max_depth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", max_depth, " levels"));
  }
  std::optional<CompactJson> doc = CompactJsonOf(text, /*members=*/true);
  if (!doc) return absl::InvalidArgumentError("invalid JSON");
  if (doc->kind != CompactJson::kObject) {
    return absl::InvalidArgumentError("expected a JSON object with a \"message\" key");
  }
  CompactJson* fields[4] = {nullptr, nullptr, nullptr, nullptr};
  for (CompactMember& member : doc->members) {
    const Field field = FieldOfKey(member.key);
    if (field != Field::kOther && fields[static_cast<int>(field)] == nullptr) {
      fields[static_cast<int>(field)] = &member.value;
    }
  }
  CompactJson* message = fields[static_cast<int>(Field::kMessage)];
  CompactJson* path = fields[static_cast<int>(Field::kPath)];
  CompactJson* client_id = fields[static_cast<int>(Field::kClientId)];
  CompactJson* direct = fields[static_cast<int>(Field::kDirect)];
  if (message == nullptr) return absl::InvalidArgumentError("missing \"message\"");
  InboundMessage out;
  if (path != nullptr) {
    if (path->kind != CompactJson::kString) {
      return absl::InvalidArgumentError("\"path\" must be a string");
    }
    out.path = std::move(path->text);
  }
  if (client_id != nullptr) {
    if (client_id->kind != CompactJson::kString) {
      return absl::InvalidArgumentError("\"clientId\" must be a string");
    }
    out.client_id = std::move(client_id->text);
  }
  if (direct != nullptr) {
    if (direct->kind != CompactJson::kBoolean) {
      return absl::InvalidArgumentError("\"direct\" must be a boolean");
    }
    out.direct = direct->boolean;
  }
  out.message_is_string = message->kind == CompactJson::kString;
  out.frame = out.message_is_string ? std::move(message->text) : std::move(message->json);
  TrimFrame(out.frame);
  return out;
}

}  // namespace detail

std::string InboundMessage::MessageJson() const {
  if (!message_is_string) return frame;
  std::string json;
  AppendJsonString(frame, &json);
  return json;
}

absl::StatusOr<InboundMessage> ParseInbound(std::string_view text, int max_depth) {
  InboundMessage out;
  if (ScanInbound(text, max_depth, out)) return out;
  return detail::ParseInboundCompact(text, max_depth);
}

namespace detail {

bool ScanAccepts(std::string_view text, int max_depth) {
  InboundMessage out;
  return ScanInbound(text, max_depth, out);
}

}  // namespace detail

namespace detail {

absl::StatusOr<InboundMessage> ParseInboundWithTree(std::string_view text, int max_depth) {
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
  out.message_is_string = message->is_string();
  out.frame = out.message_is_string ? message->get<std::string>() : DumpCompact(*message);
  return out;
}

}  // namespace detail
}  // namespace sigd::protocol
