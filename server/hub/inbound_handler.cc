#include "server/hub/inbound_handler.h"

#include <utility>

#include "absl/time/clock.h"
#include "spdlog/spdlog.h"
#include "server/protocol/default_target.h"
#include "server/protocol/frames.h"
#include "server/rpc/convert.h"
#include "server/util/client_id.h"
#include "server/util/strings.h"

namespace sigd::hub {

using Result = routes::MessageOutcome::Result;

InboundHandler::InboundHandler(Hub& hub, const routes::RouteTable& routes, Metrics& metrics,
                               const config::Config& config, std::string node_id)
    : hub_(hub), routes_(routes), metrics_(metrics), config_(config),
      node_id_(std::move(node_id)) {}

void InboundHandler::SendError(Client& client, std::string_view code, std::string_view message) {
  spdlog::info("rejected message from client {} on {}: {}: {}", client.info().id,
               client.info().path, code, message);
  client.Deliver(TextFrame(protocol::ErrorFrame(code, message)));
}

void InboundHandler::OnMessage(Client& sender, std::string_view data, bool is_text) {
  metrics_.messages_in.fetch_add(1, std::memory_order_relaxed);
  metrics_.bytes_in.fetch_add(data.size(), std::memory_order_relaxed);
  if (sender.info().raw) {
    HandleRaw(sender, data, is_text);
    return;
  }
  if (!is_text) {
    metrics_.invalid_messages.fetch_add(1, std::memory_order_relaxed);
    SendError(sender, protocol::kInvalidMessage,
              "binary frames are not accepted here; send a JSON text frame");
    return;
  }
  absl::StatusOr<protocol::InboundMessage> message =
      protocol::ParseInbound(data, config_.max_json_depth);
  if (!message.ok()) {
    metrics_.invalid_messages.fetch_add(1, std::memory_order_relaxed);
    SendError(sender, protocol::kInvalidMessage, util::ToStd(message.status().message()));
    return;
  }

  const routes::MessageOutcome outcome =
      routes_.RouteMessage(sender.info().path, [&](const std::string& route) {
        return MakeEvent(sigd::v1::MESSAGE, sender, &*message, route);
      });
  metrics_.observe_dropped.fetch_add(outcome.observe_dropped, std::memory_order_relaxed);
  switch (outcome.result) {
    case Result::kHandled:
      return;
    case Result::kBusy:
      metrics_.route_busy.fetch_add(1, std::memory_order_relaxed);
      SendError(sender, protocol::kRouteBusy,
                "the handler for this path is too busy to take the message; retry later");
      return;
    case Result::kNoHandler:
      metrics_.no_handler.fetch_add(1, std::memory_order_relaxed);
      SendError(sender, protocol::kNoHandler, "no handler is connected for this path");
      return;
    case Result::kUnrouted:
      HandleDefault(sender, *std::move(message));
      return;
  }
}

void InboundHandler::HandleRaw(Client& sender, std::string_view data, bool is_text) {
  Frame frame = is_text ? TextFrame(std::string(data)) : BinaryFrame(std::string(data));
  if (cluster_ != nullptr) {
    // Raw paths relay across nodes too: every client on the path, anywhere.
    cluster::Request request;
    cluster::ClientMessage* forward = request.mutable_client_message();
    if (is_text) {
      forward->set_frame(*frame.data);
    } else {
      forward->set_binary(*frame.data);
    }
    forward->set_path(sender.info().path);
    cluster_->Tell(cluster::Topic::kClientMessage, std::move(request));
  }
  hub_.Publish({.path = sender.info().path}, std::move(frame)).IgnoreError();
}

void InboundHandler::HandleDefault(Client& sender, protocol::InboundMessage message) {
  using Kind = protocol::DefaultTarget::Kind;
  // Under --client-targeting own-path a client reaches only its own path,
  // so "everyone" narrows to that path too.
  // So does a JWT "send" claim: "everyone" is no path it could list.
  const protocol::DefaultScope scope =
      config_.client_targeting == config::Config::Targeting::kOwnPath ||
              sender.info().send_paths() != nullptr
          ? protocol::DefaultScope::kOwnPath
          : config_.default_broadcast;
  protocol::DefaultTarget target =
      protocol::DecideDefaultTarget(message, sender.info().path, scope);
  if (!TargetAllowed(sender, target) || !SendClaimAllows(sender, target)) return;
  Frame frame = TextFrame(std::move(message.frame));
  // Under own-path targeting a client id elsewhere must share the path.
  std::string required_path =
      config_.client_targeting == config::Config::Targeting::kOwnPath ? sender.info().path : "";
  switch (target.kind) {
    case Kind::kSender:
      sender.Deliver(frame);
      return;
    case Kind::kClient:
      if (hub_.Publish({.client_id = target.value}, frame).ok()) return;
      if (cluster_ != nullptr) {
        SendToRemoteClient(sender, std::move(target.value), std::move(required_path),
                           std::move(frame));
        return;
      }
      metrics_.unknown_client.fetch_add(1, std::memory_order_relaxed);
      SendError(sender, protocol::kUnknownClient, "no client with that id is connected");
      return;
    case Kind::kPath:
    case Kind::kAll: {
      std::string path = target.kind == Kind::kPath ? std::move(target.value) : std::string();
      if (cluster_ != nullptr) {
        cluster::Request request;
        cluster::ClientMessage* forward = request.mutable_client_message();
        forward->set_frame(*frame.data);
        forward->set_path(path);
        cluster_->Tell(cluster::Topic::kClientMessage, std::move(request));
      }
      hub_.Publish({.path = std::move(path)}, std::move(frame)).IgnoreError();
      return;
    }
  }
}

void InboundHandler::SendToRemoteClient(const Client& sender, std::string client_id,
                                        std::string path, Frame frame) {
  cluster::Request request;
  cluster::ClientMessage* forward = request.mutable_client_message();
  forward->set_frame(*frame.data);
  forward->set_path(std::move(path));
  forward->set_client_id(std::move(client_id));
  auto found = std::make_shared<bool>(false);
  // The sender may be gone by the time the answer comes: look it up again.
  cluster_->Ask(
      cluster::Topic::kClientMessage, std::move(request),
      [found](const cluster::Reply& reply) {
        *found = *found || (reply.has_delivery() && reply.delivery().found());
        return *found;
      },
      [this, found, sender_id = sender.info().id](const cluster::Gathered& g) {
        if (*found) return;
        std::shared_ptr<Client> client = hub_.Find(sender_id);
        if (client == nullptr) return;
        // "Not connected" only when every node said so.
        const std::string unsure = g.Unsure();
        const bool known = unsure.empty();
        (known ? metrics_.unknown_client : metrics_.cluster_unavailable)
            .fetch_add(1, std::memory_order_relaxed);
        std::string text =
            known ? "no client with that id is connected"
                  : absl::StrCat("no client with that id on the nodes that answered; ", unsure);
        hub_.Post(client->shard(), [this, client, known, text = std::move(text)] {
          SendError(*client, known ? protocol::kUnknownClient : protocol::kClusterUnavailable,
                    text);
        });
      });
}

void InboundHandler::DeliverFromCluster(const cluster::ClientMessage& message,
                                        cluster::LocalNode::DeliveryDone done) {
  Frame frame = message.has_binary() ? BinaryFrame(message.binary()) : TextFrame(message.frame());
  if (message.client_id().empty()) {
    Hub::Done counted;
    if (done) counted = [done](uint64_t n) { done(n, n > 0); };
    hub_.Publish({.path = message.path()}, std::move(frame), std::move(counted)).IgnoreError();
    return;
  }
  auto shared = std::make_shared<cluster::LocalNode::DeliveryDone>(std::move(done));
  absl::Status status = hub_.Publish(
      {.path = message.path(), .client_id = message.client_id()}, std::move(frame),
      [shared](uint64_t n) {
        if (*shared) (*shared)(n, n > 0);
      });
  if (!status.ok() && *shared) (*shared)(0, false);
}

void InboundHandler::OnRemoteEventRejected(const sigd::v1::SignalEvent& event, bool observe) {
  if (event.kind() != sigd::v1::MESSAGE) {
    metrics_.lifecycle_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (observe) {
    metrics_.observe_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  metrics_.route_busy.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<Client> client = hub_.Find(event.client().id());
  if (client == nullptr) return;
  hub_.Post(client->shard(), [this, client] {
    SendError(*client, protocol::kRouteBusy,
              "the handler for this path is too busy to take the message; retry later");
  });
}

bool InboundHandler::TargetAllowed(Client& sender, const protocol::DefaultTarget& target) {
  using Kind = protocol::DefaultTarget::Kind;
  using Targeting = config::Config::Targeting;
  const Targeting policy = config_.client_targeting;
  if (policy == Targeting::kAny || target.kind == Kind::kSender || target.kind == Kind::kAll) {
    return true;
  }
  bool allowed = false;
  if (policy == Targeting::kOwnPath) {
    if (target.kind == Kind::kPath) {
      allowed = target.value == sender.info().path;
    } else {
      // A client on another path is reported like an unknown one, so the
      // policy does not reveal who is connected elsewhere.
      std::shared_ptr<Client> other = hub_.Find(target.value);
      // Not here: another node may have it; the forwarded message carries
      // the sender's path, and a mismatch there reads as unknown_client.
      if (other == nullptr && cluster_ != nullptr) return true;
      if (other == nullptr || other->info().path != sender.info().path) {
        metrics_.unknown_client.fetch_add(1, std::memory_order_relaxed);
        SendError(sender, protocol::kUnknownClient, "no client with that id is connected");
        return false;
      }
      allowed = true;
    }
  }
  if (!allowed) {
    metrics_.target_not_allowed.fetch_add(1, std::memory_order_relaxed);
    SendError(sender, protocol::kTargetNotAllowed,
              policy == Targeting::kNone
                  ? "this server does not let clients choose a path or client id"
                  : "clients may only address their own path");
  }
  return allowed;
}

bool InboundHandler::SendClaimAllows(Client& sender, const protocol::DefaultTarget& target) {
  using Kind = protocol::DefaultTarget::Kind;
  const std::vector<routes::RoutePattern>* allowed = sender.info().send_paths();
  if (allowed == nullptr || target.kind == Kind::kSender) return true;
  auto matches = [allowed](std::string_view path) {
    for (const routes::RoutePattern& p : *allowed) {
      if (p.Matches(path)) return true;
    }
    return false;
  };
  bool ok = true;
  if (target.kind == Kind::kPath) {
    ok = matches(target.value);
  } else if (target.kind == Kind::kClient) {
    // An id that is not connected falls through to unknown_client.
    std::shared_ptr<Client> other = hub_.Find(target.value);
    ok = other == nullptr || matches(other->info().path);
  } else {
    ok = false;  // kAll cannot happen under a claim (scope is own-path)
  }
  if (!ok) {
    metrics_.target_not_allowed.fetch_add(1, std::memory_order_relaxed);
    SendError(sender, protocol::kTargetNotAllowed,
              "your token does not allow sending to that path");
  }
  return ok;
}

void InboundHandler::OnConnect(const Client& client) {
  if (client.info().raw) return;
  const uint32_t failed =
      routes_.RouteLifecycle(client.info().path, sigd::v1::CONNECT, [&](const std::string& route) {
        return MakeEvent(sigd::v1::CONNECT, client, nullptr, route);
      });
  metrics_.lifecycle_dropped.fetch_add(failed, std::memory_order_relaxed);
}

void InboundHandler::OnDisconnect(const Client& client) {
  if (client.info().raw) return;
  const uint32_t failed = routes_.RouteLifecycle(
      client.info().path, sigd::v1::DISCONNECT, [&](const std::string& route) {
        return MakeEvent(sigd::v1::DISCONNECT, client, nullptr, route);
      });
  metrics_.lifecycle_dropped.fetch_add(failed, std::memory_order_relaxed);
}

routes::EventPtr InboundHandler::MakeEvent(sigd::v1::EventKind kind, const Client& client,
                                           const protocol::InboundMessage* message,
                                           const std::string& route) const {
  auto event = std::make_shared<sigd::v1::SignalEvent>();
  event->set_id(util::NewEventId());
  event->set_kind(kind);
  if (message != nullptr) {
    sigd::v1::SignalData* data = event->mutable_data();
    data->set_message_json(message->MessageJson());
    data->set_path(message->path);
    data->set_client_id(message->client_id);
    data->set_direct(message->direct);
  }
  const ClientInfo& info = client.info();
  event->mutable_endpoint()->set_address(*info.local_address);
  event->mutable_endpoint()->set_protocol(info.secure ? sigd::v1::WSS : sigd::v1::WS);
  event->set_path(info.path);
  event->set_route(route);
  rpc::FillClient(client, node_id_, event->mutable_client());
  rpc::SetTimestamp(absl::Now(), event->mutable_timestamp());
  return event;
}

}  // namespace sigd::hub
