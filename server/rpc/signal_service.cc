#include "server/rpc/signal_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/rpc/convert.h"
#include "server/util/client_id.h"

namespace sigd::rpc {
namespace {

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// Close codes an endpoint may send (RFC 6455 section 7.4).
bool IsSendableCloseCode(uint32_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014 && code != 1010) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace

SignalService::SignalService(hub::Hub& hub, routes::RouteTable& routes, Metrics& metrics,
                             const config::Config& config, std::string node_id)
    : hub_(hub), routes_(routes), metrics_(metrics), config_(config),
      node_id_(std::move(node_id)), started_(absl::Now()) {}

grpc::ServerUnaryReactor* SignalService::SendSignal(grpc::CallbackServerContext* context,
                                                    const sigd::v1::SendSignalRequest* request,
                                                    sigd::v1::SendSignalResponse* response) {
  absl::StatusOr<hub::Frame> frame = FrameFromRequest(*request, config_.max_json_depth);
  if (!frame.ok()) return FinishNow(context, ToGrpc(frame.status()));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = hub_.Publish(
      {.path = request->path(), .client_id = request->client_id()}, *std::move(frame),
      [this, reactor, response](uint64_t delivered) {
        response->set_delivered(delivered);
        if (delivered > 0) metrics_.signals_sent.fetch_add(1, std::memory_order_relaxed);
        reactor->Finish(grpc::Status::OK);
      });
  if (!status.ok()) reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* SignalService::ListClients(grpc::CallbackServerContext* context,
                                                     const sigd::v1::ListClientsRequest* request,
                                                     sigd::v1::ListClientsResponse* response) {
  const uint32_t page_size =
      request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
  hub::Hub::Page page = hub_.List(request->path(), page_size, request->page_token());
  for (const auto& client : page.clients) FillClient(*client, node_id_, response->add_clients());
  response->set_next_page_token(page.next_token);
  response->set_total(page.total);
  return FinishNow(context, grpc::Status::OK);
}

grpc::ServerWriteReactor<sigd::v1::SignalEvent>* SignalService::SubscribeSignals(
    grpc::CallbackServerContext* context, const sigd::v1::SubscribeSignalsRequest* request) {
  routes::Subscription subscription;
  grpc::Status invalid;
  if (request->routes().empty()) {
    invalid = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "give at least one route");
  }
  for (const std::string& text : request->routes()) {
    absl::StatusOr<routes::RoutePattern> pattern = routes::RoutePattern::Parse(text);
    if (!pattern.ok()) {
      invalid = ToGrpc(pattern.status());
      break;
    }
    subscription.routes.push_back(*std::move(pattern));
  }
  subscription.observe = request->mode() == sigd::v1::SubscribeSignalsRequest::OBSERVE;
  subscription.group = request->group();
  if (!request->kinds().empty()) {
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
    absl::MutexLock lock(&mu_);
    sinks_.insert(sink);
  }
  std::weak_ptr<SubscriberSink> weak = sink;
  sink->SetOnEnd([this, handle, weak] {
    routes_.Remove(handle);
    if (auto s = weak.lock()) {
      absl::MutexLock lock(&mu_);
      sinks_.erase(s);
    }
  });
  (void)context;
  return reactor;
}

grpc::ServerUnaryReactor* SignalService::DisconnectClient(
    grpc::CallbackServerContext* context, const sigd::v1::DisconnectClientRequest* request,
    sigd::v1::DisconnectClientResponse* response) {
  const uint32_t code = request->code() == 0 ? 1000 : request->code();
  if (!IsSendableCloseCode(code)) {
    return FinishNow(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           absl::StrCat("close code ", code, " cannot be sent")));
  }
  if (request->reason().size() > 123) {
    return FinishNow(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "reason is longer than 123 bytes"));
  }
  std::shared_ptr<hub::Client> client = hub_.Find(request->client_id());
  if (client != nullptr) client->Close(static_cast<uint16_t>(code), request->reason());
  response->set_disconnected(client != nullptr);
  return FinishNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* SignalService::GetServerInfo(grpc::CallbackServerContext* context,
                                                       const sigd::v1::GetServerInfoRequest*,
                                                       sigd::v1::ServerInfo* response) {
  response->set_version(SIGD_VERSION);
  response->set_uptime_seconds(
      static_cast<uint64_t>(absl::ToInt64Seconds(absl::Now() - started_)));
  response->set_node_id(node_id_);
  response->set_clients(hub_.size());
  response->set_subscribers(subscriber_count());
  return FinishNow(context, grpc::Status::OK);
}

void SignalService::EndAllStreams() {
  std::vector<std::shared_ptr<SubscriberSink>> sinks;
  {
    absl::MutexLock lock(&mu_);
    sinks.assign(sinks_.begin(), sinks_.end());
  }
  for (auto& sink : sinks) {
    sink->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "sigd is shutting down"),
              /*flush=*/true);
  }
}

size_t SignalService::subscriber_count() const {
  absl::MutexLock lock(&mu_);
  return sinks_.size();
}

}  // namespace sigd::rpc
