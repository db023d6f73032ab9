#include "server/rpc/subscriber.h"

#include <utility>

namespace sigd::rpc {

SubscriberSink::SubscriberSink(size_t max_queue, Metrics& metrics)
    : max_queue_(max_queue), metrics_(metrics) {}

void SubscriberSink::Attach(SubscriberStream* stream) {
  {
    util::MutexLock lock(&mu_);
    stream_ = stream;
  }
  Pump();
}

void SubscriberSink::SetOnEnd(std::function<void()> on_end) {
  bool run_now = false;
  {
    util::MutexLock lock(&mu_);
    if (ending_) {
      run_now = true;
    } else {
      on_end_ = std::move(on_end);
    }
  }
  if (run_now && on_end) on_end();
}

bool SubscriberSink::Offer(routes::EventPtr event) {
  {
    util::MutexLock lock(&mu_);
    if (ending_ || queue_.size() >= max_queue_) return false;
    // Counted where queued: in a cluster, on the node holding the route.
    if (event->kind() == sigd::v1::MESSAGE) {
      metrics_.route_events.fetch_add(1, std::memory_order_relaxed);
    }
    queue_.push_back(std::move(event));
    if (in_flight_ != nullptr) return true;  // OnWriteDone picks it up
  }
  Pump();
  return true;
}

void SubscriberSink::End(grpc::Status status, bool flush) {
  std::function<void()> on_end;
  {
    util::MutexLock lock(&mu_);
    if (ending_) return;
    ending_ = true;
    final_status_ = std::move(status);
    if (!flush) {
      metrics_.subscriber_events_dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
      queue_.clear();
    }
    on_end = std::move(on_end_);
  }
  if (on_end) on_end();
  Pump();
}

void SubscriberSink::OnWriteDone(bool ok) {
  {
    util::MutexLock lock(&mu_);
    in_flight_.reset();
  }
  if (!ok) {
    // The stream is broken (client gone): nothing more can be written.
    End(grpc::Status(grpc::StatusCode::CANCELLED, "stream broken"), /*flush=*/false);
  }
  Pump();
}

void SubscriberSink::Pump() {
  SubscriberStream* stream = nullptr;
  const sigd::v1::SignalEvent* next = nullptr;
  bool finish = false;
  grpc::Status status;
  {
    util::MutexLock lock(&mu_);
    if (stream_ == nullptr || finished_ || in_flight_ != nullptr) return;
    if (!queue_.empty()) {
      in_flight_ = std::move(queue_.front());
      queue_.pop_front();
      next = in_flight_.get();
    } else if (ending_) {
      finished_ = true;
      finish = true;
      status = final_status_;
    } else {
      return;
    }
    stream = stream_;
  }
  // Outside the lock: a refused operation completes inline. The stream is
  // alive until Finish completes, and Finish is called once, here, with no
  // write outstanding.
  if (next != nullptr) {
    stream->StartWrite(next);
  } else if (finish) {
    stream->Finish(status);
  }
}

void SubscriberSink::Detach() {
  {
    util::MutexLock lock(&mu_);
    stream_ = nullptr;
  }
  End(grpc::Status::CANCELLED, /*flush=*/false);
}

}  // namespace sigd::rpc
