// The control operations behind both the gRPC service and the admin HTTP
// API, independent of transport: validate, act on the hub, fill the reply.
//
//   ControlPlane control(hub, metrics, config, node_id);
//   control.SendSignal(request, [](absl::StatusOr<SendSignalResponse> r) {...});
#ifndef SIGD_SERVER_RPC_CONTROL_PLANE_H_
#define SIGD_SERVER_RPC_CONTROL_PLANE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/hub/hub.h"
#include "server/metrics.h"
#include "server/util/token_store.h"
#include "signal.pb.h"

namespace sigd::rpc {

class ControlPlane {
 public:
  // `tokens` may be null: then every caller is authorized (loopback only).
  ControlPlane(hub::Hub& hub, Metrics& metrics, const config::Config& config,
               std::string node_id, const util::TokenStore* tokens);

  // Unauthenticated unless the Authorization value carries a configured
  // bearer token. Counts and logs failures (never the token itself).
  absl::Status Authorize(std::string_view authorization, std::string_view peer,
                         std::string_view what) const;

  // `done` runs exactly once, on any thread: with the response once every
  // shard has queued the frame, or with the error (InvalidArgument for a bad
  // value, NotFound for an unknown client id).
  void SendSignal(const sigd::v1::SendSignalRequest& request,
                  std::function<void(absl::StatusOr<sigd::v1::SendSignalResponse>)> done);
  void ListClients(const sigd::v1::ListClientsRequest& request,
                   sigd::v1::ListClientsResponse* response) const;
  absl::StatusOr<sigd::v1::DisconnectClientResponse> DisconnectClient(
      const sigd::v1::DisconnectClientRequest& request);
  sigd::v1::ServerInfo GetServerInfo(uint64_t subscribers) const;

  const std::string& node_id() const { return node_id_; }

 private:
  hub::Hub& hub_;
  Metrics& metrics_;
  const config::Config& config_;
  const std::string node_id_;
  const absl::Time started_;
  const util::TokenStore* tokens_;
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_CONTROL_PLANE_H_
