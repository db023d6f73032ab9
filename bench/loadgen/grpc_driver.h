// The generator's gRPC side. In grpc mode it publishes with SendSignal (text =
// the payload, so the frame is the payload verbatim), paced on its own thread
// and sent through the callback API so a slow answer never holds the pace.
// In route-rtt mode it is the backend: it holds a HANDLE route with
// SubscribeSignals and answers every message with SendSignal to the sender,
// so the measured round trip is sigd plus gRPC and nothing else.
#ifndef SIGD_BENCH_LOADGEN_GRPC_DRIVER_H_
#define SIGD_BENCH_LOADGEN_GRPC_DRIVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/shared_state.h"
#include "signal.grpc.pb.h"

namespace sigd::bench {

class GrpcDriver {
 public:
  explicit GrpcDriver(SharedState& shared);
  ~GrpcDriver();

  // Waits for the channel to be ready; false (with a reason) at the deadline.
  bool WaitConnected(double timeout_s, std::string& error);

  // Sends `text` as a signal (to every client, or to one); asynchronous.
  void Send(std::string text, std::string client_id = {});

  // grpc mode: publishes on a thread of its own until the phase ends.
  void StartPublishing();

  // route-rtt: subscribes with a HANDLE route on `route` and answers events
  // until Stop(); returns once SUBSCRIBED arrived, or false at the deadline.
  bool StartRouteHandler(const std::string& route, double timeout_s, std::string& error);

  void Stop();

  uint64_t errors() const { return errors_.load(); }
  uint64_t handled() const { return handled_.load(); }
  // route-rtt: from a client's send to the backend reading its event (the
  // first leg of the round trip). Read it after Stop().
  const LatencyHistogram& event_latency() const { return event_latency_; }
  std::string first_error() const;

 private:
  void PublishLoop();
  void HandleLoop(std::string route);
  void RecordError(const std::string& what);

  SharedState& shared_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sigd::v1::SignalService::Stub> stub_;
  std::thread publisher_;
  std::thread handler_;
  grpc::ClientContext subscribe_context_;
  std::atomic<bool> subscribed_{false};
  std::atomic<bool> handler_done_{false};
  LatencyHistogram event_latency_;  // written by the handler thread only
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> handled_{0};
  mutable std::mutex mutex_;
  std::string first_error_;  // guarded by mutex_
};

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_GRPC_DRIVER_H_
