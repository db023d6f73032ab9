#include "server/rpc/health_service.h"

#include <atomic>
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
// Deleted once its last operation (done, writes, finish) has completed.
class HealthService::WatchCall {
 public:
  explicit WatchCall(HealthService* health)
      : health_(health), writer_(&context_), arrived_(this), wrote_(this), done_(this),
        finished_(this) {}

  void Arm() {
    context_.AsyncNotifyWhenDone(&done_);
    grpc::ServerCompletionQueue* cq = health_->queue_->cq();
    health_->queue_->Start(&arrived_, [&] {
      health_->async_.RequestWatch(&context_, &request_, &writer_, cq, cq, &arrived_);
    });
  }

  // Sends the status for `serving` unless it is what was sent last.
  void Update(bool serving) {
    {
      util::MutexLock lock(&mu_);
      if (ended_) return;
      if (writing_) {
        dirty_ = true;
        return;
      }
      const HealthCheckResponse::ServingStatus status = StatusFor(request_.service(), serving);
      if (sent_ && status == last_) return;
      sent_ = true;
      last_ = status;
      writing_ = true;
      response_.set_status(status);
      pending_.fetch_add(1);  // before OnDone can see writing_ and leave
    }
    health_->queue_->Start(&wrote_, [&] { writer_.Write(response_, &wrote_); });
  }

  // Shutdown: ends the stream once what is being written (NOT_SERVING) is.
  void End() {
    bool finish = false;
    {
      util::MutexLock lock(&mu_);
      if (ended_) return;
      ended_ = true;
      finish = !writing_ && !finishing_;
      finishing_ = finishing_ || finish;
      // The finish's count, taken before this returns: the done tag may
      // follow it at once on the queue's thread.
      if (finish) pending_.fetch_add(1);
    }
    if (finish) StartFinish(/*counted=*/true);
  }

 private:
  void OnArrived(bool ok) {
    if (!ok) {  // shutting down: no call came, so no done tag will either
      delete this;
      return;
    }
    health_->ArmWatch();
    pending_.store(1);  // the done tag
    health_->Watch(this);
  }

  void OnWrote(bool ok) {
    bool finish = false;
    bool again = false;
    {
      util::MutexLock lock(&mu_);
      writing_ = false;
      finish = ended_ && !finishing_;
      finishing_ = finishing_ || finish;
      again = ok && dirty_ && !ended_;
      dirty_ = false;
    }
    if (finish) StartFinish();
    if (again) Update(health_->serving());
    Release();
  }

  // The client went away, or the server is shutting down.
  void OnDone(bool) {
    health_->Forget(this);
    bool finish = false;
    {
      util::MutexLock lock(&mu_);
      ended_ = true;
      finish = !writing_ && !finishing_;
      finishing_ = finishing_ || finish;
    }
    if (finish) StartFinish();  // else once the write in flight completes
    Release();
  }

  void StartFinish(bool counted = false) {
    if (!counted) pending_.fetch_add(1);
    health_->queue_->Start(&finished_, [&] {
      writer_.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the watch has ended"),
                     &finished_);
    });
  }

  void OnFinished(bool) { Release(); }

  void Release() {
    if (pending_.fetch_sub(1) == 1) delete this;
  }

  HealthService* health_;
  grpc::ServerContext context_;
  HealthCheckRequest request_;
  grpc::ServerAsyncWriter<HealthCheckResponse> writer_;
  MemberTag<WatchCall, &WatchCall::OnArrived> arrived_;
  MemberTag<WatchCall, &WatchCall::OnWrote> wrote_;
  MemberTag<WatchCall, &WatchCall::OnDone> done_;
  MemberTag<WatchCall, &WatchCall::OnFinished> finished_;
  std::atomic<int> pending_{0};
  util::Mutex mu_;
  HealthCheckResponse response_;  // the write in flight; set under mu_ before it starts
  HealthCheckResponse::ServingStatus last_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool sent_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
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
