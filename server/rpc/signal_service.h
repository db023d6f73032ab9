// The sigd.v1.SignalService control plane on gRPC's callback API: no thread
// per call or stream, and no reaction ever blocks (SendSignal finishes from
// the I/O threads once every shard has queued the frame).
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
#include "server/rpc/control_plane.h"
#include "server/rpc/subscriber.h"
#include "signal.grpc.pb.h"

namespace sigd::rpc {

class SignalService final : public sigd::v1::SignalService::CallbackService {
 public:
  SignalService(ControlPlane& control, routes::RouteTable& routes, Metrics& metrics,
                const config::Config& config);

  grpc::ServerUnaryReactor* SendSignal(grpc::CallbackServerContext* context,
                                       const sigd::v1::SendSignalRequest* request,
                                       sigd::v1::SendSignalResponse* response) override;
  grpc::ServerUnaryReactor* ListClients(grpc::CallbackServerContext* context,
                                        const sigd::v1::ListClientsRequest* request,
                                        sigd::v1::ListClientsResponse* response) override;
  grpc::ServerWriteReactor<sigd::v1::SignalEvent>* SubscribeSignals(
      grpc::CallbackServerContext* context,
      const sigd::v1::SubscribeSignalsRequest* request) override;
  grpc::ServerUnaryReactor* DisconnectClient(
      grpc::CallbackServerContext* context, const sigd::v1::DisconnectClientRequest* request,
      sigd::v1::DisconnectClientResponse* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const sigd::v1::GetServerInfoRequest* request,
                                          sigd::v1::ServerInfo* response) override;

  // Ends every subscriber stream with UNAVAILABLE after writing what is
  // already queued (shutdown).
  void EndAllStreams();
  size_t subscriber_count() const;

 private:
  grpc::Status Authorize(const grpc::CallbackServerContext* context,
                         std::string_view method) const;

  ControlPlane& control_;
  routes::RouteTable& routes_;
  Metrics& metrics_;
  const config::Config& config_;

  mutable util::Mutex mu_;
  absl::flat_hash_set<std::shared_ptr<SubscriberSink>> sinks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_SIGNAL_SERVICE_H_
