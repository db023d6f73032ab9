#include "server/rpc/health_service.h"

#include <utility>

namespace sigd::rpc {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

constexpr std::string_view kSignalService = "sigd.v1.SignalService";

HealthCheckResponse::ServingStatus StatusFor(std::string_view service, bool serving) {
  if (!service.empty() && service != kSignalService) return HealthCheckResponse::SERVICE_UNKNOWN;
  return serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

}  // namespace

// One Watch stream: one write in flight; a status that changes meanwhile is
// sent when it completes (only the latest: that is what Watch promises).
class HealthService::WatchCall final
    : public StreamCall<Async, HealthCheckRequest, HealthCheckResponse> {
 public:
  explicit WatchCall(HealthService* health)
      : StreamCall(health->queue_, &health->async_, &Async::RequestWatch), health_(health) {}

  using StreamCall::Arm;

  // Sends the status for `serving` unless it is what was sent last.
  void Update(bool serving) {
    {
      util::MutexLock lock(&mu_);
      if (ended_) return;
      if (writing_) {
        dirty_ = true;
        return;
      }
      const HealthCheckResponse::ServingStatus status = StatusFor(request().service(), serving);
      if (sent_ && status == last_) return;
      sent_ = true;
      last_ = status;
      writing_ = true;
      response_.set_status(status);
    }
    Write(response_);
  }

  // Shutdown, or the call is over: finishes once what is being written
  // (at shutdown, NOT_SERVING) is.
  void End() {
    {
      util::MutexLock lock(&mu_);
      if (ended_) return;
      ended_ = true;
      if (writing_) return;  // OnWrote finishes
    }
    FinishWatch();
  }

 private:
  void FinishWatch() {
    FinishCall(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the watch has ended"));
  }

  void OnArrived() override {
    health_->ArmWatch();
    health_->Watch(this);
  }

  void OnWrote(bool ok) override {
    // Read before mu_: SetServing holds the service's lock while it takes
    // ours.
    const bool serving = health_->serving();
    bool write = false;
    bool finish = false;
    bool again = false;
    {
      util::MutexLock lock(&mu_);
      writing_ = false;
      const bool changed = ok && dirty_;
      dirty_ = false;
      if (changed && ended_) {
        // Shutdown began while the previous status was being written: the
        // status it set (NOT_SERVING) still goes out, then the call ends.
        const HealthCheckResponse::ServingStatus status = StatusFor(request().service(), serving);
        write = status != last_;
        if (write) {
          last_ = status;
          writing_ = true;
          response_.set_status(status);
        }
      }
      finish = ended_ && !write;
      again = changed && !ended_;
    }
    if (write) {
      Write(response_);
    } else if (finish) {
      FinishWatch();
    } else if (again) {
      Update(serving);
    }
  }

  void OnDone() override {
    health_->Forget(this);
    End();
  }

  HealthService* health_;
  util::Mutex mu_;
  HealthCheckResponse response_;  // the write in flight; set under mu_ before it starts
  HealthCheckResponse::ServingStatus last_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool sent_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

void HealthService::Start(CompletionQueueThread* queue) {
  queue_ = queue;
  check_ = CheckCall::Method{&async_, &Async::RequestCheck, queue,
                             [this](CheckCall* call) { Check(call); }};
  CheckCall::Arm(&check_);
  ArmWatch();
}

void HealthService::ArmWatch() { (new WatchCall(this))->Arm(); }

bool HealthService::serving() const {
  util::MutexLock lock(&mu_);
  return serving_;
}

void HealthService::Check(CheckCall* call) {
  HealthCheckResponse response;
  const HealthCheckResponse::ServingStatus status =
      StatusFor(call->request().service(), serving());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    call->Finish(response, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                        "unknown service " + call->request().service()));
    return;
  }
  response.set_status(status);
  call->Finish(response, grpc::Status::OK);
}

// Under the lock Forget takes: no watcher is deleted while it is updated.
void HealthService::SetServing(bool serving) {
  util::MutexLock lock(&mu_);
  if (serving_ == serving) return;
  serving_ = serving;
  for (WatchCall* w : watchers_) w->Update(serving);
}

void HealthService::Watch(WatchCall* call) {
  util::MutexLock lock(&mu_);
  watchers_.insert(call);
  call->Update(serving_);
}

void HealthService::EndWatches() {
  util::MutexLock lock(&mu_);
  for (WatchCall* w : watchers_) w->End();
}

void HealthService::Forget(WatchCall* call) {
  util::MutexLock lock(&mu_);
  watchers_.erase(call);
}

}  // namespace sigd::rpc
