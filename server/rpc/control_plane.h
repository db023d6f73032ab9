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
#include "server/cluster/cluster.h"
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
  // False when every caller is authorized (no --grpc-token configured).
  bool auth_required() const { return tokens_ != nullptr; }

  // Cluster mode: the operations below answer for every node. Set before
  // the first call; null (the default) keeps everything local.
  void SetCluster(cluster::Cluster* cluster) { cluster_ = cluster; }

  // `done` runs exactly once, on any thread: with the response once every
  // shard (in a cluster: every node, up to the cluster timeout) has queued
  // the frame, or with the error (InvalidArgument for a bad value, NotFound
  // for an unknown client id, Unavailable for a client id not on this node
  // while NATS is unreachable).
  void SendSignal(const sigd::v1::SendSignalRequest& request,
                  std::function<void(absl::StatusOr<sigd::v1::SendSignalResponse>)> done);
  // Cluster-wide versions of the calls below; `done` once, any thread.
  // InvalidArgument for a page token that ListClients did not hand out.
  void ListClientsAll(
      const sigd::v1::ListClientsRequest& request,
      std::function<void(absl::StatusOr<sigd::v1::ListClientsResponse>)> done) const;
  void DisconnectClientAll(
      const sigd::v1::DisconnectClientRequest& request,
      std::function<void(absl::StatusOr<sigd::v1::DisconnectClientResponse>)> done);
  void GetServerInfoAll(uint64_t subscribers,
                        std::function<void(sigd::v1::ServerInfo)> done) const;

  // This node alone (the admin API, and other nodes' requests).
  void SendSignalLocal(const sigd::v1::SendSignalRequest& request,
                       cluster::LocalNode::DeliveryDone done);
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
  cluster::Cluster* cluster_ = nullptr;
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_CONTROL_PLANE_H_
