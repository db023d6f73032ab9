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

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

std::string_view AuthorizationOf(const grpc::CallbackServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

}  // namespace

grpc::Status SignalService::Authorize(const grpc::CallbackServerContext* context,
                                      std::string_view method) const {
  return ToGrpc(control_.Authorize(AuthorizationOf(context), context->peer(), method));
}

SignalService::SignalService(ControlPlane& control, routes::RouteTable& routes,
                             Metrics& metrics, const config::Config& config)
    : control_(control), routes_(routes), metrics_(metrics), config_(config) {}

grpc::ServerUnaryReactor* SignalService::SendSignal(grpc::CallbackServerContext* context,
                                                    const sigd::v1::SendSignalRequest* request,
                                                    sigd::v1::SendSignalResponse* response) {
  if (grpc::Status s = Authorize(context, "SendSignal"); !s.ok()) return FinishNow(context, s);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  control_.SendSignal(*request,
                      [reactor, response](absl::StatusOr<sigd::v1::SendSignalResponse> result) {
                        if (result.ok()) *response = *std::move(result);
                        reactor->Finish(ToGrpc(result.status()));
                      });
  return reactor;
}

grpc::ServerUnaryReactor* SignalService::ListClients(grpc::CallbackServerContext* context,
                                                     const sigd::v1::ListClientsRequest* request,
                                                     sigd::v1::ListClientsResponse* response) {
  if (grpc::Status s = Authorize(context, "ListClients"); !s.ok()) return FinishNow(context, s);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  control_.ListClientsAll(*request, [reactor, response](sigd::v1::ListClientsResponse result) {
    *response = std::move(result);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerWriteReactor<sigd::v1::SignalEvent>* SignalService::SubscribeSignals(
    grpc::CallbackServerContext* context, const sigd::v1::SubscribeSignalsRequest* request) {
  routes::Subscription subscription;
  grpc::Status invalid = Authorize(context, "SubscribeSignals");
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
  auto* reactor = new SubscriberReactor(sink);
  if (!invalid.ok()) {
    sink->End(invalid, /*flush=*/false);
    return reactor;
  }

  // SUBSCRIBED goes into the queue before the routes exist, so it is the
  // first event; the routes are live before it can reach the subscriber.
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
  return reactor;
}

grpc::ServerUnaryReactor* SignalService::DisconnectClient(
    grpc::CallbackServerContext* context, const sigd::v1::DisconnectClientRequest* request,
    sigd::v1::DisconnectClientResponse* response) {
  if (grpc::Status s = Authorize(context, "DisconnectClient"); !s.ok()) {
    return FinishNow(context, s);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  control_.DisconnectClientAll(
      *request,
      [reactor, response](absl::StatusOr<sigd::v1::DisconnectClientResponse> result) {
        if (result.ok()) *response = *std::move(result);
        reactor->Finish(ToGrpc(result.status()));
      });
  return reactor;
}

grpc::ServerUnaryReactor* SignalService::GetServerInfo(grpc::CallbackServerContext* context,
                                                       const sigd::v1::GetServerInfoRequest*,
                                                       sigd::v1::ServerInfo* response) {
  if (grpc::Status s = Authorize(context, "GetServerInfo"); !s.ok()) return FinishNow(context, s);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  control_.GetServerInfoAll(subscriber_count(), [reactor, response](sigd::v1::ServerInfo info) {
    *response = std::move(info);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

void SignalService::EndAllStreams() {
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
