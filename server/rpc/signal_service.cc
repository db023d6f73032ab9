#include "server/rpc/signal_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/rpc/convert.h"
#include "server/util/client_id.h"

namespace sigd::rpc {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// Answers `call` with `result`: the response, or its error.
template <class Call, class Response>
void FinishWith(Call* call, const absl::StatusOr<Response>& result) {
  if (result.ok()) {
    call->Finish(*result, grpc::Status::OK);
  } else {
    call->Finish({}, ToGrpc(result.status()));
  }
}

std::string_view AuthorizationOf(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

}  // namespace

grpc::Status SignalService::Authorize(const grpc::ServerContext& context,
                                      std::string_view method) const {
  // The peer's address is only for the log of a refusal; gRPC builds the
  // string on request, so not for every call.
  if (!control_.auth_required()) return grpc::Status::OK;
  return ToGrpc(control_.Authorize(AuthorizationOf(context), context.peer(), method));
}

template <class Call>
bool SignalService::Admit(Call* call, std::string_view method) const {
  grpc::Status status = Authorize(call->context(), method);
  if (!status.ok()) call->Finish({}, status);
  return status.ok();
}

// One SubscribeSignals call: the gRPC side of a SubscriberSink.
class SignalService::SubscribeCall final
    : public StreamCall<SignalService::Async, sigd::v1::SubscribeSignalsRequest,
                        sigd::v1::SignalEvent>,
      public SubscriberStream {
 public:
  explicit SubscribeCall(SignalService* service)
      : StreamCall(service->queue_.get(), &service->async_, &Async::RequestSubscribeSignals),
        service_(service) {}

  using StreamCall::Arm;
  void set_sink(std::shared_ptr<SubscriberSink> sink) { sink_ = std::move(sink); }

  void StartWrite(const sigd::v1::SignalEvent* event) override { Write(*event); }
  void Finish(grpc::Status status) override { FinishCall(status); }

 private:
  void OnArrived() override {
    service_->ArmSubscribe();
    service_->Subscribe(this);
  }
  void OnWrote(bool ok) override { sink_->OnWriteDone(ok); }
  // Cancelled (the backend went away, or shutdown): end the stream, dropping
  // what is queued; a finished call ends nothing more.
  void OnDone() override {
    if (context().IsCancelled()) sink_->End(grpc::Status::CANCELLED, /*flush=*/false);
  }
  void OnGone() override { sink_->Detach(); }

  SignalService* service_;
  std::shared_ptr<SubscriberSink> sink_;  // set before the first operation
};

SignalService::SignalService(ControlPlane& control, routes::RouteTable& routes,
                             Metrics& metrics, const config::Config& config)
    : control_(control), routes_(routes), metrics_(metrics), config_(config) {}

SignalService::~SignalService() { Stop(); }

void SignalService::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(&async_);
  builder.RegisterService(health_.service());
  queue_ = std::make_unique<CompletionQueueThread>(builder.AddCompletionQueue());
}

void SignalService::Start() {
  CompletionQueueThread* q = queue_.get();
  send_signal_ = {&async_, &Async::RequestSendSignal, q,
                  [this](SendSignalCall* call) { SendSignal(call); }};
  list_clients_ = {&async_, &Async::RequestListClients, q,
                   [this](ListClientsCall* call) { ListClients(call); }};
  disconnect_client_ = {&async_, &Async::RequestDisconnectClient, q,
                        [this](DisconnectClientCall* call) { DisconnectClient(call); }};
  get_server_info_ = {&async_, &Async::RequestGetServerInfo, q,
                      [this](GetServerInfoCall* call) { GetServerInfo(call); }};
  SendSignalCall::Arm(&send_signal_);
  ListClientsCall::Arm(&list_clients_);
  DisconnectClientCall::Arm(&disconnect_client_);
  GetServerInfoCall::Arm(&get_server_info_);
  ArmSubscribe();
  health_.Start(q);
  queue_->Run();
}

void SignalService::Stop() {
  if (queue_ != nullptr) queue_->Stop();
}

void SignalService::ArmSubscribe() { (new SubscribeCall(this))->Arm(); }

void SignalService::SendSignal(SendSignalCall* call) {
  if (!Admit(call, "SendSignal")) return;
  control_.SendSignal(call->request(),
                      [call](absl::StatusOr<sigd::v1::SendSignalResponse> result) {
                        FinishWith(call, result);
                      });
}

void SignalService::ListClients(ListClientsCall* call) {
  if (!Admit(call, "ListClients")) return;
  control_.ListClientsAll(call->request(),
                          [call](absl::StatusOr<sigd::v1::ListClientsResponse> result) {
                            FinishWith(call, result);
                          });
}

void SignalService::Subscribe(SubscribeCall* call) {
  const sigd::v1::SubscribeSignalsRequest* request = &call->request();
  routes::Subscription subscription;
  grpc::Status invalid = Authorize(call->context(), "SubscribeSignals");
  if (invalid.ok() && subscriber_count() >= config_.max_subscribers) {
    invalid = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           absl::StrCat("too many subscribers (", config_.max_subscribers, ")"));
  }
  if (invalid.ok() && request->routes().empty()) {
    invalid = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "give at least one route");
  }
  for (const std::string& text : request->routes()) {
    if (!invalid.ok()) break;
    absl::StatusOr<routes::RoutePattern> pattern = routes::RoutePattern::Parse(text);
    if (!pattern.ok()) {
      invalid = ToGrpc(pattern.status());
      break;
    }
    subscription.routes.push_back(*std::move(pattern));
  }
  subscription.observe = request->mode() == sigd::v1::SubscribeSignalsRequest::OBSERVE;
  subscription.group = request->group();
  if (invalid.ok() && !request->kinds().empty()) {
    subscription.wants_message = false;
    for (int kind : request->kinds()) {
      switch (kind) {
        case sigd::v1::MESSAGE: subscription.wants_message = true; break;
        case sigd::v1::CONNECT: subscription.wants_connect = true; break;
        case sigd::v1::DISCONNECT: subscription.wants_disconnect = true; break;
        case sigd::v1::SUBSCRIBED: break;  // always sent
        default:
          invalid = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 absl::StrCat("unknown event kind ", kind));
      }
    }
  }

  auto sink = std::make_shared<SubscriberSink>(config_.subscriber_queue, metrics_);
  call->set_sink(sink);
  if (!invalid.ok()) {
    sink->Attach(call);
    sink->End(invalid, /*flush=*/false);
    return;
  }

  // SUBSCRIBED goes into the queue before the routes exist, so it is the
  // first event; the stream is attached (and SUBSCRIBED written) only once
  // the routes are live, so a backend that acts on SUBSCRIBED finds them.
  auto subscribed = std::make_shared<sigd::v1::SignalEvent>();
  subscribed->set_id(util::NewEventId());
  subscribed->set_kind(sigd::v1::SUBSCRIBED);
  subscribed->set_route(request->routes(0));
  SetTimestamp(absl::Now(), subscribed->mutable_timestamp());
  sink->Offer(std::move(subscribed));

  subscription.sink = sink;
  const routes::RouteTable::Handle handle = routes_.Add(std::move(subscription));
  {
    util::MutexLock lock(&mu_);
    sinks_.insert(sink);
  }
  std::weak_ptr<SubscriberSink> weak = sink;
  sink->SetOnEnd([this, handle, weak] {
    routes_.Remove(handle);
    if (auto s = weak.lock()) {
      util::MutexLock lock(&mu_);
      sinks_.erase(s);
    }
  });
  sink->Attach(call);
}

void SignalService::DisconnectClient(DisconnectClientCall* call) {
  if (!Admit(call, "DisconnectClient")) return;
  control_.DisconnectClientAll(
      call->request(), [call](absl::StatusOr<sigd::v1::DisconnectClientResponse> result) {
        FinishWith(call, result);
      });
}

void SignalService::GetServerInfo(GetServerInfoCall* call) {
  if (!Admit(call, "GetServerInfo")) return;
  control_.GetServerInfoAll(subscriber_count(), [call](sigd::v1::ServerInfo info) {
    call->Finish(info, grpc::Status::OK);
  });
}

void SignalService::EndAllStreams() {
  health_.EndWatches();
  std::vector<std::shared_ptr<SubscriberSink>> sinks;
  {
    util::MutexLock lock(&mu_);
    sinks.assign(sinks_.begin(), sinks_.end());
  }
  for (auto& sink : sinks) {
    sink->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "sigd is shutting down"),
              /*flush=*/true);
  }
}

size_t SignalService::subscriber_count() const {
  util::MutexLock lock(&mu_);
  return sinks_.size();
}

}  // namespace sigd::rpc
