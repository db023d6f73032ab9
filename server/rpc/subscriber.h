// One SubscribeSignals stream: a bounded queue of shared events with one write
// in flight, the same shape as a WebSocket session's outbound queue.
//
// Lifetime: the stream (the gRPC call) lives until its last operation has
// completed; the route table and the service hold the SubscriberSink (a
// shared_ptr) instead, which outlives the stream and forgets it in Detach.
// Every call into the stream happens before Finish, and Finish only once no
// write is in flight, so the stream outlives every call into it.
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

// The gRPC side of one SubscribeSignals call.
class SubscriberStream {
 public:
  // One write at a time; the stream calls SubscriberSink::OnWriteDone.
  virtual void StartWrite(const sigd::v1::SignalEvent* event) = 0;
  // Once, with no write in flight; the last call into the stream.
  virtual void Finish(grpc::Status status) = 0;

 protected:
  ~SubscriberStream() = default;
};

class SubscriberSink : public routes::EventSink {
 public:
  SubscriberSink(size_t max_queue, Metrics& metrics);

  bool Offer(routes::EventPtr event) override;

  // Ends the stream with `status`. With flush, events already queued are
  // written first; otherwise they are dropped (and counted). Idempotent.
  void End(grpc::Status status, bool flush);

  // Runs once, when the stream ends for any reason: removes the routes.
  void SetOnEnd(std::function<void()> on_end);

  // The stream's side: once it is ready to write; when a write completed;
  // when it is gone (no call into it after this returns).
  void Attach(SubscriberStream* stream);
  void OnWriteDone(bool ok);
  void Detach();

 private:
  // Takes the next step after a state change; called without mu_ held.
  void Pump();

  const size_t max_queue_;
  Metrics& metrics_;
  util::Mutex mu_;
  SubscriberStream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::deque<routes::EventPtr> queue_ ABSL_GUARDED_BY(mu_);
  routes::EventPtr in_flight_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_end_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_SUBSCRIBER_H_
