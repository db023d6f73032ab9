// One SubscribeSignals stream: a bounded queue of shared events with one write
// in flight, the same shape as a WebSocket session's outbound queue.
//
// Lifetime: gRPC owns the reactor and deletes it in OnDone. The route table
// and the service hold the SubscriberSink (a shared_ptr) instead, which
// outlives the reactor and forgets it in OnDone; every call into the reactor
// happens before Finish, after which gRPC may delete it.
#ifndef SIGD_SERVER_RPC_SUBSCRIBER_H_
#define SIGD_SERVER_RPC_SUBSCRIBER_H_

#include <deque>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "server/util/mutex.h"
#include "grpcpp/grpcpp.h"
#include "server/metrics.h"
#include "server/routes/event_sink.h"
#include "server/routes/route_table.h"
#include "signal.pb.h"

namespace sigd::rpc {

class SubscriberReactor;

class SubscriberSink : public routes::EventSink {
 public:
  SubscriberSink(size_t max_queue, Metrics& metrics);

  bool Offer(routes::EventPtr event) override;

  // Ends the stream with `status`. With flush, events already queued are
  // written first; otherwise they are dropped (and counted). Idempotent.
  void End(grpc::Status status, bool flush);

  // Runs once, when the stream ends for any reason: removes the routes.
  void SetOnEnd(std::function<void()> on_end);

 private:
  friend class SubscriberReactor;
  void Attach(SubscriberReactor* reactor);
  void OnWriteDone(bool ok);
  void Detach();
  // Takes the next step after a state change; called without mu_ held.
  void Pump();

  const size_t max_queue_;
  Metrics& metrics_;
  util::Mutex mu_;
  SubscriberReactor* reactor_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::deque<routes::EventPtr> queue_ ABSL_GUARDED_BY(mu_);
  routes::EventPtr in_flight_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_end_ ABSL_GUARDED_BY(mu_);
};

class SubscriberReactor : public grpc::ServerWriteReactor<sigd::v1::SignalEvent> {
 public:
  explicit SubscriberReactor(std::shared_ptr<SubscriberSink> sink);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  std::shared_ptr<SubscriberSink> sink_;
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_SUBSCRIBER_H_
