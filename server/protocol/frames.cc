#include "server/protocol/frames.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/protocol/inbound_message.h"

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

absl::StatusOr<std::string> FrameFromJsonText(std::string_view json_text, int max_depth) {
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

}  // namespace sigd::protocol
