#include "server/rpc/convert.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "server/protocol/frames.h"

namespace sigd::rpc {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

void FillClient(const hub::Client& client, const std::string& node_id, sigd::v1::Client* out) {
  const hub::ClientInfo& info = client.info();
  out->set_id(info.id);
  out->set_path(info.path);
  out->set_remote_address(info.remote_address);
  out->set_protocol(info.secure ? sigd::v1::WSS : sigd::v1::WS);
  SetTimestamp(info.connected_at, out->mutable_connected_at());
  for (const auto& [k, v] : *info.query) (*out->mutable_query())[k] = v;
  out->set_user_agent(*info.user_agent);
  out->set_origin(*info.origin);
  out->set_messages_in(client.messages_in());
  out->set_messages_out(client.messages_out());
  out->set_node(node_id);
  out->set_subject(info.subject());
}

absl::StatusOr<hub::Frame> FrameFromRequest(const sigd::v1::SendSignalRequest& request,
                                            int max_json_depth) {
  switch (request.value_case()) {
    case sigd::v1::SendSignalRequest::kJson: {
      absl::StatusOr<std::string> frame =
          protocol::FrameFromJsonText(request.json(), max_json_depth);
      if (!frame.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("json: ", frame.status().message()));
      }
      return hub::TextFrame(*std::move(frame));
    }
    case sigd::v1::SendSignalRequest::kData: {
      if (request.data().kind_case() == google::protobuf::Value::kStringValue) {
        return hub::TextFrame(request.data().string_value());
      }
      std::string json;
      auto status = google::protobuf::util::MessageToJsonString(request.data(), &json);
      if (!status.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("data: ", status.ToString()));
      }
      // Re-encode through the JSON library so `data` and `json` produce the
      // same compact form.
      absl::StatusOr<std::string> frame = protocol::FrameFromJsonText(json, max_json_depth);
      if (!frame.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("data: ", frame.status().message()));
      }
      return hub::TextFrame(*std::move(frame));
    }
    case sigd::v1::SendSignalRequest::kText:
      return hub::TextFrame(request.text());
    case sigd::v1::SendSignalRequest::kBinary:
      return hub::BinaryFrame(request.binary());
    case sigd::v1::SendSignalRequest::VALUE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("set one of json, data, text or binary");
}

}  // namespace sigd::rpc
