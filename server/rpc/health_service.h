// grpc.health.v1.Health on sigd's completion queue: Check, and Watch, which
// sends the status at once and again whenever it changes. The server ("")
// and sigd.v1.SignalService share one status; other names are unknown.
#ifndef SIGD_SERVER_RPC_HEALTH_SERVICE_H_
#define SIGD_SERVER_RPC_HEALTH_SERVICE_H_

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "grpcpp/grpcpp.h"
#include "health.grpc.pb.h"
#include "server/rpc/completion_queue.h"
#include "server/util/mutex.h"

namespace sigd::rpc {

class HealthService {
 public:
  HealthService() = default;
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  grpc::Service* service() { return &async_; }
  // Waits for the first calls on `queue` (which must outlive them).
  void Start(CompletionQueueThread* queue);
  void SetServing(bool serving);
  // Shutdown: ends every Watch stream after the status it is being sent.
  void EndWatches();

 private:
  using Async = grpc::health::v1::Health::AsyncService;
  using CheckCall = UnaryCall<Async, grpc::health::v1::HealthCheckRequest,
                              grpc::health::v1::HealthCheckResponse>;
  class WatchCall;

  bool serving() const;
  void Check(CheckCall* call);
  void ArmWatch();
  // A watch stream has arrived: send it the status, and later changes.
  void Watch(WatchCall* call);
  void Forget(WatchCall* call);

  Async async_;
  CompletionQueueThread* queue_ = nullptr;
  CheckCall::Method check_;
  mutable util::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<WatchCall*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_HEALTH_SERVICE_H_
