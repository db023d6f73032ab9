// Conversions between sigd's internal types and the sigd.v1 protobuf messages.
#ifndef SIGD_SERVER_RPC_CONVERT_H_
#define SIGD_SERVER_RPC_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "server/hub/client.h"
#include "server/hub/frame.h"
#include "signal.pb.h"

namespace sigd::rpc {

void FillClient(const hub::Client& client, const std::string& node_id, sigd::v1::Client* out);
void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out);

// The frame a SendSignalRequest asks for: `json` validated and sent compact
// (a JSON string raw), `data` as JSON (a string raw), `text` verbatim,
// `binary` verbatim as a binary frame.
// InvalidArgument for invalid JSON or no value at all.
absl::StatusOr<hub::Frame> FrameFromRequest(const sigd::v1::SendSignalRequest& request,
                                            int max_json_depth);

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_CONVERT_H_
