// The sigd.v1.SignalService control plane on gRPC's asynchronous API, all on
// one completion queue and its thread (completion_queue.h): no thread per
// call or stream, and no handler ever blocks (SendSignal finishes from the
// I/O threads once every shard has queued the frame).
#ifndef SIGD_SERVER_RPC_SIGNAL_SERVICE_H_
#define SIGD_SERVER_RPC_SIGNAL_SERVICE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "server/util/mutex.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/hub/hub.h"
#include "server/metrics.h"
#include "server/routes/route_table.h"
#include "server/rpc/completion_queue.h"
#include "server/rpc/control_plane.h"
#include "server/rpc/health_service.h"
#include "server/rpc/subscriber.h"
#include "signal.grpc.pb.h"

namespace sigd::rpc {

class SignalService {
 public:
  SignalService(ControlPlane& control, routes::RouteTable& routes, Metrics& metrics,
                const config::Config& config);
  ~SignalService();

  // Registers sigd.v1.SignalService and grpc.health.v1.Health with `builder`
  // and takes the completion queue they run on.
  void Register(grpc::ServerBuilder& builder);
  // After BuildAndStart: waits for the first calls, starts the queue's thread.
  void Start();
  // After grpc::Server::Shutdown has returned: drains and stops the queue.
  void Stop();

  // Health: SERVING or NOT_SERVING for "" and sigd.v1.SignalService.
  void SetServing(bool serving) { health_.SetServing(serving); }

  // Ends every subscriber stream with UNAVAILABLE after writing what is
  // already queued, and every health Watch (shutdown).
  void EndAllStreams();
  size_t subscriber_count() const;

 private:
  using Async = sigd::v1::SignalService::AsyncService;
  using SendSignalCall =
      UnaryCall<Async, sigd::v1::SendSignalRequest, sigd::v1::SendSignalResponse>;
  using ListClientsCall =
      UnaryCall<Async, sigd::v1::ListClientsRequest, sigd::v1::ListClientsResponse>;
  using DisconnectClientCall =
      UnaryCall<Async, sigd::v1::DisconnectClientRequest, sigd::v1::DisconnectClientResponse>;
  using GetServerInfoCall =
      UnaryCall<Async, sigd::v1::GetServerInfoRequest, sigd::v1::ServerInfo>;
  class SubscribeCall;

  grpc::Status Authorize(const grpc::ServerContext& context, std::string_view method) const;
  // Authorizes a unary call; answers it with the error and returns false if refused.
  template <class Call>
  bool Admit(Call* call, std::string_view method) const;
  void SendSignal(SendSignalCall* call);
  void ListClients(ListClientsCall* call);
  void DisconnectClient(DisconnectClientCall* call);
  void GetServerInfo(GetServerInfoCall* call);
  void ArmSubscribe();
  // Sets up a stream that has arrived: its sink, its routes.
  void Subscribe(SubscribeCall* call);

  ControlPlane& control_;
  routes::RouteTable& routes_;
  Metrics& metrics_;
  const config::Config& config_;

  Async async_;
  HealthService health_;
  std::unique_ptr<CompletionQueueThread> queue_;
  SendSignalCall::Method send_signal_;
  ListClientsCall::Method list_clients_;
  DisconnectClientCall::Method disconnect_client_;
  GetServerInfoCall::Method get_server_info_;

  mutable util::Mutex mu_;
  absl::flat_hash_set<std::shared_ptr<SubscriberSink>> sinks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_SIGNAL_SERVICE_H_
