#include "server/rpc/control_plane.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/rpc/convert.h"
#include "server/util/client_id.h"
#include "server/ws/write_batcher.h"
#include "spdlog/spdlog.h"

namespace sigd::rpc {
namespace {

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;

// Close codes an endpoint may send (RFC 6455 section 7.4).
bool IsSendableCloseCode(uint32_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014 && code != 1010) ||
         (code >= 3000 && code <= 4999);
}

// A targeted call that found its client nowhere: NOT_FOUND only when every
// node said so. NATS down: UNAVAILABLE (nothing was sent to the other nodes).
// A node that did not answer in time: DEADLINE_EXCEEDED, which in gRPC's
// terms may mean that the operation happened all the same.
absl::Status NotFoundOnAnyNode(const std::string& client_id, const cluster::Gathered& g) {
  const std::string unsure = g.Unsure();
  if (unsure.empty()) {
    return absl::NotFoundError(absl::StrCat("no client with id ", client_id, " on the ", g.nodes,
                                            " node(s) of the cluster"));
  }
  const std::string text = absl::StrCat("no client with id ", client_id,
                                        " on the nodes that answered; ", unsure);
  if (g.too_large) return absl::ResourceExhaustedError(text);
  return g.connected ? absl::DeadlineExceededError(text) : absl::UnavailableError(text);
}

}  // namespace

ControlPlane::ControlPlane(hub::Hub& hub, Metrics& metrics, const config::Config& config,
                           std::string node_id, const util::TokenStore* tokens)
    : hub_(hub), metrics_(metrics), config_(config), node_id_(std::move(node_id)),
      started_(absl::Now()), tokens_(tokens) {}

absl::Status ControlPlane::Authorize(std::string_view authorization, std::string_view peer,
                                     std::string_view what) const {
  if (tokens_ == nullptr) return absl::OkStatus();
  if (tokens_->Check(util::BearerToken(authorization))) return absl::OkStatus();
  metrics_.auth_failures.fetch_add(1, std::memory_order_relaxed);
  const bool missing = authorization.empty();
  spdlog::info("refused {} from {}: {} bearer token", std::string(what), std::string(peer),
               missing ? "no" : "wrong");
  return absl::UnauthenticatedError(missing ? "missing bearer token (authorization metadata)"
                                            : "invalid bearer token");
}

void ControlPlane::SendSignal(
    const sigd::v1::SendSignalRequest& request,
    std::function<void(absl::StatusOr<sigd::v1::SendSignalResponse>)> done) {
  absl::StatusOr<hub::Frame> frame = FrameFromRequest(request, config_.max_json_depth);
  if (!frame.ok()) {
    done(frame.status());
    return;
  }
  frame->sent_at = std::chrono::steady_clock::now();
  if (cluster_ == nullptr) {
    // Publish either calls the completion (once) or returns an error without
    // calling it; `done` is shared between the two paths.
    auto shared_done = std::make_shared<decltype(done)>(std::move(done));
    absl::Status status = hub_.Publish(
        {.path = request.path(), .client_id = request.client_id()}, *std::move(frame),
        [this, shared_done](uint64_t delivered) {
          if (delivered > 0) metrics_.signals_sent.fetch_add(1, std::memory_order_relaxed);
          // On the I/O thread that delivered last: the answer is written by
          // gRPC inline, so it goes after that thread's frames, not before.
          ws::WriteBatcher::AfterFlush([shared_done, delivered] {
            sigd::v1::SendSignalResponse response;
            response.set_delivered(delivered);
            response.set_nodes(1);
            (*shared_done)(std::move(response));
          });
        });
    if (!status.ok()) (*shared_done)(status);
    return;
  }

  // Cluster: this node's shards and the other nodes in parallel; the answer
  // comes when both parts are in.
  struct Join {
    absl::Mutex mu;
    int remaining ABSL_GUARDED_BY(mu) = 2;
    uint64_t delivered ABSL_GUARDED_BY(mu) = 0;
    bool found ABSL_GUARDED_BY(mu) = false;
    cluster::Gathered gathered ABSL_GUARDED_BY(mu);
  };
  auto join = std::make_shared<Join>();
  const std::string client_id = request.client_id();
  auto part_done = [this, join, client_id,
                    done = std::move(done)](uint64_t delivered, bool found,
                                            const cluster::Gathered* gathered) {
    absl::ReleasableMutexLock lock(&join->mu);
    join->delivered += delivered;
    join->found = join->found || found;
    if (gathered != nullptr) join->gathered = *gathered;
    if (--join->remaining > 0) return;
    const uint64_t total = join->delivered;
    const bool any_found = join->found;
    const cluster::Gathered g = join->gathered;
    lock.Release();
    if (!client_id.empty() && !any_found) {
      done(NotFoundOnAnyNode(client_id, g));
      return;
    }
    if (total > 0) metrics_.signals_sent.fetch_add(1, std::memory_order_relaxed);
    sigd::v1::SendSignalResponse response;
    response.set_delivered(total);
    // A client id lives on one node: once it is found the answer is whole.
    response.set_nodes(!client_id.empty() ? std::max(g.nodes, g.expected) : g.nodes);
    done(std::move(response));
  };
  auto shared = std::make_shared<decltype(part_done)>(std::move(part_done));

  absl::Status local = hub_.Publish(
      {.path = request.path(), .client_id = request.client_id()}, *std::move(frame),
      [shared](uint64_t delivered) {
        ws::WriteBatcher::AfterFlush([shared, delivered] { (*shared)(delivered, true, nullptr); });
      });
  if (!local.ok()) (*shared)(0, false, nullptr);
  if (!client_id.empty() && local.ok()) {
    cluster::Gathered g;
    g.expected = g.nodes = 1 + cluster_->member_count();
    g.connected = cluster_->connected();
    (*shared)(0, false, &g);
    return;
  }
  cluster::Request ask;
  *ask.mutable_signal() = request;
  const bool targeted = !client_id.empty();
  // Summed on the cluster thread, handed over with the final count.
  auto remote = std::make_shared<std::pair<uint64_t, bool>>(0, false);
  cluster_->Ask(
      cluster::Topic::kSignal, std::move(ask),
      [remote, targeted](const cluster::Reply& reply) {
        if (!reply.has_delivery()) return false;
        remote->first += reply.delivery().delivered();
        remote->second = remote->second || reply.delivery().found();
        return targeted && remote->second;
      },
      [remote, shared](const cluster::Gathered& g) {
        (*shared)(remote->first, remote->second, &g);
      });
}

void ControlPlane::SendSignalLocal(const sigd::v1::SendSignalRequest& request,
                                   cluster::LocalNode::DeliveryDone done) {
  absl::StatusOr<hub::Frame> frame = FrameFromRequest(request, config_.max_json_depth);
  if (!frame.ok()) {
    done(0, false);
    return;
  }
  frame->sent_at = std::chrono::steady_clock::now();
  auto shared_done = std::make_shared<cluster::LocalNode::DeliveryDone>(std::move(done));
  absl::Status status = hub_.Publish(
      {.path = request.path(), .client_id = request.client_id()}, *std::move(frame),
      [shared_done](uint64_t delivered) { (*shared_done)(delivered, true); });
  if (!status.ok()) (*shared_done)(0, false);
}

void ControlPlane::ListClients(const sigd::v1::ListClientsRequest& request,
                               sigd::v1::ListClientsResponse* response) const {
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  hub::Hub::Page page = hub_.List(request.path(), page_size, request.page_token());
  for (const auto& client : page.clients) FillClient(*client, node_id_, response->add_clients());
  response->set_next_page_token(page.next_token);
  response->set_total(page.total);
}

absl::StatusOr<sigd::v1::DisconnectClientResponse> ControlPlane::DisconnectClient(
    const sigd::v1::DisconnectClientRequest& request) {
  const uint32_t code = request.code() == 0 ? 1000 : request.code();
  if (!IsSendableCloseCode(code)) {
    return absl::InvalidArgumentError(absl::StrCat("close code ", code, " cannot be sent"));
  }
  if (request.reason().size() > 123) {
    return absl::InvalidArgumentError("reason is longer than 123 bytes");
  }
  std::shared_ptr<hub::Client> client = hub_.Find(request.client_id());
  if (client != nullptr) client->Close(static_cast<uint16_t>(code), request.reason());
  sigd::v1::DisconnectClientResponse response;
  response.set_disconnected(client != nullptr);
  return response;
}

sigd::v1::ServerInfo ControlPlane::GetServerInfo(uint64_t subscribers) const {
  sigd::v1::ServerInfo info;
  info.set_version(SIGD_VERSION);
  info.set_uptime_seconds(static_cast<uint64_t>(absl::ToInt64Seconds(absl::Now() - started_)));
  info.set_node_id(node_id_);
  info.set_clients(hub_.size());
  info.set_subscribers(subscribers);
  info.add_nodes(node_id_);
  return info;
}

void ControlPlane::ListClientsAll(
    const sigd::v1::ListClientsRequest& request,
    std::function<void(absl::StatusOr<sigd::v1::ListClientsResponse>)> done) const {
  // Tokens are client ids (the last one of the previous page). Anything else
  // would silently give the first page or none; say it is wrong instead.
  if (!request.page_token().empty() && !util::IsClientIdShaped(request.page_token())) {
    done(absl::InvalidArgumentError(
        "page_token is not a token from ListClients (pass next_page_token back unchanged)"));
    return;
  }
  sigd::v1::ListClientsResponse local;
  ListClients(request, &local);
  local.set_nodes(1);
  if (cluster_ == nullptr) {
    done(std::move(local));
    return;
  }
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  // Each node answers with its own first page after the token; the cluster's
  // page is the first `page_size` of their union, in id order.
  auto parts = std::make_shared<std::vector<sigd::v1::ListClientsResponse>>();
  parts->push_back(std::move(local));
  cluster::Request ask;
  *ask.mutable_list() = request;
  cluster_->Ask(
      cluster::Topic::kList, std::move(ask),
      [parts, page_size](const cluster::Reply& reply) {
        if (reply.has_list() && static_cast<uint32_t>(reply.list().clients_size()) <= page_size) {
          parts->push_back(reply.list());
        }
        return false;
      },
      [parts, page_size, done = std::move(done)](const cluster::Gathered& g) {
        std::vector<sigd::v1::Client*> all;
        uint64_t total = 0;
        bool more = false;
        for (auto& part : *parts) {
          total += part.total();
          more = more || !part.next_page_token().empty();
          for (auto& c : *part.mutable_clients()) all.push_back(&c);
        }
        std::sort(all.begin(), all.end(),
                  [](const sigd::v1::Client* a, const sigd::v1::Client* b) {
                    return a->id() < b->id();
                  });
        sigd::v1::ListClientsResponse response;
        if (all.size() > page_size) {
          all.resize(page_size);
          more = true;
        }
        for (sigd::v1::Client* c : all) response.add_clients()->Swap(c);
        if (more && !all.empty()) {
          response.set_next_page_token(response.clients(response.clients_size() - 1).id());
        }
        response.set_total(total);
        response.set_nodes(g.nodes);
        done(std::move(response));
      });
}

void ControlPlane::DisconnectClientAll(
    const sigd::v1::DisconnectClientRequest& request,
    std::function<void(absl::StatusOr<sigd::v1::DisconnectClientResponse>)> done) {
  absl::StatusOr<sigd::v1::DisconnectClientResponse> local = DisconnectClient(request);
  if (!local.ok() || local->disconnected() || cluster_ == nullptr) {
    done(std::move(local));
    return;
  }
  cluster::Request ask;
  *ask.mutable_disconnect() = request;
  auto found = std::make_shared<bool>(false);
  cluster_->Ask(
      cluster::Topic::kDisconnect, std::move(ask),
      [found](const cluster::Reply& reply) {
        *found = *found || (reply.has_disconnect() && reply.disconnect().disconnected());
        return *found;
      },
      [found, client_id = request.client_id(), done = std::move(done)](const cluster::Gathered& g) {
        if (!*found) {
          absl::Status unsure = NotFoundOnAnyNode(client_id, g);
          if (!absl::IsNotFound(unsure)) {
            done(unsure);
            return;
          }
        }
        sigd::v1::DisconnectClientResponse response;
        response.set_disconnected(*found);
        done(std::move(response));
      });
}

void ControlPlane::GetServerInfoAll(uint64_t subscribers,
                                    std::function<void(sigd::v1::ServerInfo)> done) const {
  sigd::v1::ServerInfo local = GetServerInfo(subscribers);
  if (cluster_ == nullptr) {
    done(std::move(local));
    return;
  }
  auto info = std::make_shared<sigd::v1::ServerInfo>(std::move(local));
  cluster::Request ask;
  ask.mutable_info();
  cluster_->Ask(
      cluster::Topic::kInfo, std::move(ask),
      [info](const cluster::Reply& reply) {
        if (!reply.has_info()) return false;
        info->set_clients(info->clients() + reply.info().clients());
        info->set_subscribers(info->subscribers() + reply.info().subscribers());
        info->add_nodes(reply.node_id());
        return false;
      },
      [info, done = std::move(done)](const cluster::Gathered&) { done(std::move(*info)); });
}

}  // namespace sigd::rpc
