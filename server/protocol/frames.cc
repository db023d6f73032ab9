#include "server/protocol/frames.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/protocol/inbound_message.h"
#include "server/protocol/json_compact.h"
#include "server/protocol/json_scan.h"

namespace sigd::protocol {

using json = nlohmann::ordered_json;

std::string DumpCompact(const json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

std::string DumpCompact(const nlohmann::json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

std::string ErrorFrame(std::string_view code, std::string_view message) {
  json j = {{"error", {{"code", code}, {"message", message}}}};
  return DumpCompact(j);
}

std::string WelcomeFrame(std::string_view client_id) {
  json j = {{"welcome", {{"clientId", client_id}}}};
  return DumpCompact(j);
}

void TrimFrame(std::string& frame) {
  if (frame.capacity() - frame.size() > std::max<size_t>(256, frame.size() / 4)) {
    frame.shrink_to_fit();
  }
}

absl::StatusOr<std::string> FrameFromJsonText(std::string_view json_text, int max_depth) {
  JsonScanner scan(json_text, max_depth);
  std::string_view string_value;
  bool verbatim;
  if (scan.Peek() == '"') {
    if (scan.String(&string_value, &verbatim) && scan.AtEndAfterSpace()) {
      std::string frame = JsonScanner::Decode(string_value);
      TrimFrame(frame);
      return frame;
    }
  } else {
    // Reserved at the text's size: rarely regrown (only numbers get longer,
    // 1e9 -> 1000000000.0), and trimmed after if the text had much space.
    std::string compact;
    compact.reserve(json_text.size());
    if (scan.Value(0, &compact) && scan.AtEndAfterSpace()) {
      TrimFrame(compact);
      return compact;
    }
  }
  if (!WithinJsonDepth(json_text, max_depth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", max_depth, " levels"));
  }
  std::optional<CompactJson> value = CompactJsonOf(json_text, /*members=*/false);
  if (!value) return absl::InvalidArgumentError("invalid JSON");
  std::string frame = value->kind == CompactJson::kString ? std::move(value->text)
                                                           : std::move(value->json);
  TrimFrame(frame);
  return frame;
}

namespace detail {

absl::StatusOr<std::string> FrameFromJsonTextWithTree(std::string_view json_text,
                                                      int max_depth) {
  if (!WithinJsonDepth(json_text, max_depth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", max_depth, " levels"));
  }
  json value;
  try {
    value = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (value.is_discarded()) return absl::InvalidArgumentError("invalid JSON");
  if (value.is_string()) return value.get<std::string>();
  return DumpCompact(value);
}

}  // namespace detail
}  // namespace sigd::protocol
