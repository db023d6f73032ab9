#include "server/cluster/cluster.h"

#include <nats/nats.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/post.hpp"
#include "server/util/client_id.h"
#include "server/util/strings.h"
#include "server/util/thread_name.h"
#include "spdlog/spdlog.h"

namespace sigd::cluster {

namespace net = boost::asio;

namespace {

// A NATS subject token we build from another node's instance id.
bool IsSubjectToken(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_';
  });
}

// Bounds on announced routes: far above anything SubscribeSignals lets a
// backend register, far below what would hurt.
constexpr int kMaxAnnouncedRoutes = 1 << 16;
constexpr int kMaxPatternsPerRoute = 4096;
constexpr size_t kMaxPatternBytes = 4096;
constexpr size_t kMaxGroupBytes = 1024;

// Whether the other nodes will accept the subscription's announcement.
bool Announceable(const routes::Subscription& s) {
  if (s.routes.empty() || s.routes.size() > static_cast<size_t>(kMaxPatternsPerRoute) ||
      s.group.size() > kMaxGroupBytes) {
    return false;
  }
  return std::none_of(s.routes.begin(), s.routes.end(), [](const routes::RoutePattern& p) {
    return p.text().size() > kMaxPatternBytes;
  });
}

// Another node's subscription, as an entry of this node's route table: an
// offer forwards the event to the holder. At most `max_in_flight` events
// wait for the holder's answer at once; past that the sink reports itself
// full, like a local subscriber's bounded queue.
class RemoteSink : public routes::EventSink {
 public:
  RemoteSink(Cluster& cluster, std::string instance, uint64_t route_id, bool observe,
             uint32_t max_in_flight)
      : cluster_(cluster), instance_(std::move(instance)), route_id_(route_id),
        observe_(observe), max_in_flight_(max_in_flight) {}

  bool Offer(routes::EventPtr event) override {
    if (in_flight_->fetch_add(1, std::memory_order_acq_rel) >= max_in_flight_) {
      in_flight_->fetch_sub(1, std::memory_order_acq_rel);
      return false;
    }
    if (cluster_.ForwardEvent(instance_, route_id_, observe_, std::move(event), in_flight_)) {
      return true;
    }
    in_flight_->fetch_sub(1, std::memory_order_acq_rel);
    return false;
  }

 private:
  Cluster& cluster_;
  const std::string instance_;
  const uint64_t route_id_;
  const bool observe_;
  const uint32_t max_in_flight_;
  std::shared_ptr<std::atomic<uint32_t>> in_flight_ = std::make_shared<std::atomic<uint32_t>>(0);
};

std::string NatsError(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  return absl::StrCat(natsStatus_GetText(s), last != nullptr && *last ? ": " : "",
                      last != nullptr ? last : "");
}

}  // namespace

Cluster::Cluster(const config::Config& config, std::string node_id, Metrics& metrics,
                 LocalNode local)
    : config_(config),
      node_id_(std::move(node_id)),
      instance_(util::NewEventId()),
      prefix_(config.nats_prefix),
      // A signal or browser message plus its envelope; list replies of a
      // full page. Anything larger did not come from a sigd node.
      max_inbound_bytes_(std::max<size_t>(config.max_message_bytes * 2 + 64 * 1024, 4 << 20)),
      metrics_(metrics),
      local_(std::move(local)) {}

Cluster::~Cluster() { Stop(); }

std::string Cluster::Subject(Topic topic) const {
  switch (topic) {
    case Topic::kSignal: return absl::StrCat(prefix_, ".signal");
    case Topic::kClientMessage: return absl::StrCat(prefix_, ".client.msg");
    case Topic::kList: return absl::StrCat(prefix_, ".rpc.list");
    case Topic::kInfo: return absl::StrCat(prefix_, ".rpc.info");
    case Topic::kDisconnect: return absl::StrCat(prefix_, ".rpc.disconnect");
  }
  return prefix_;
}

std::string Cluster::EventSubject(const std::string& instance) const {
  return absl::StrCat(prefix_, ".event.", instance);
}

absl::Status Cluster::Start() {
  if (started_) return absl::FailedPreconditionError("already started");
  metrics_.cluster_nodes.store(1);
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  auto fail = [&](std::string_view what, natsStatus status) {
    if (opts != nullptr) natsOptions_Destroy(opts);
    return absl::InvalidArgumentError(absl::StrCat(util::ToAbsl(what), ": ", NatsError(status)));
  };
  if (s != NATS_OK) return fail("nats options", s);
  if ((s = natsOptions_SetURL(opts, config_.nats_url.c_str())) != NATS_OK) {
    return fail("--nats", s);
  }
  natsOptions_SetName(opts, absl::StrCat("sigd ", node_id_).c_str());
  // Reconnect forever, quickly: the cluster must heal within seconds of NATS
  // coming back. Pings every 2 s find a dead server in a few seconds.
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 250);
  natsOptions_SetReconnectJitter(opts, 100, 100);
  natsOptions_SetPingInterval(opts, 2000);
  natsOptions_SetMaxPingsOut(opts, 2);
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetDisconnectedCB(opts, &Cluster::OnDisconnected, this);
  natsOptions_SetClosedCB(opts, &Cluster::OnClosed, this);
  natsOptions_SetReconnectedCB(opts, &Cluster::OnConnected, this);
  // Signals must not be replayed late, so nothing is published while the
  // connection is down (Publish checks the status) and nats.c's reconnect
  // buffer stays empty.
  if (!config_.nats_creds.empty() &&
      (s = natsOptions_SetUserCredentialsFromFiles(opts, config_.nats_creds.c_str(), nullptr)) !=
          NATS_OK) {
    return fail("--nats-creds", s);
  }
  if (!config_.nats_user.empty() &&
      (s = natsOptions_SetUserInfo(opts, config_.nats_user.c_str(),
                                   config_.nats_password.c_str())) != NATS_OK) {
    return fail("--nats-user", s);
  }
  if (!config_.nats_token.empty() &&
      (s = natsOptions_SetToken(opts, config_.nats_token.c_str())) != NATS_OK) {
    return fail("--nats-token", s);
  }
  if (!config_.nats_tls_ca.empty() || !config_.nats_tls_cert.empty()) {
    if ((s = natsOptions_SetSecure(opts, true)) != NATS_OK) return fail("nats TLS", s);
    if (!config_.nats_tls_ca.empty() &&
        (s = natsOptions_LoadCATrustedCertificates(opts, config_.nats_tls_ca.c_str())) !=
            NATS_OK) {
      return fail("--nats-tls-ca", s);
    }
    if (!config_.nats_tls_cert.empty() &&
        (s = natsOptions_LoadCertificatesChain(opts, config_.nats_tls_cert.c_str(),
                                               config_.nats_tls_key.c_str())) != NATS_OK) {
      return fail("--nats-tls-cert/--nats-tls-key", s);
    }
  }

  work_ = std::make_unique<net::executor_work_guard<net::io_context::executor_type>>(
      net::make_work_guard(context_));
  thread_ = std::thread([this] { context_.run(); });
  util::NameThread(thread_, "sigd-cluster");
  started_ = true;

  // A first attempt in the foreground tells a refusal (wrong credentials: a
  // setting to fix, which nats.c would not retry anyway) from an outage.
  s = natsConnection_Connect(&connection_, opts);
  if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
    natsOptions_Destroy(opts);
    connection_ = nullptr;
    Stop();
    return absl::PermissionDeniedError(absl::StrCat(
        "--nats ", config_.nats_url, ": the NATS server refused this node (",
        natsStatus_GetText(s), "): check --nats-token, --nats-user/--nats-password or "
        "--nats-creds"));
  }
  if (s != NATS_OK) {
    // Not reachable now: connect in the background, retrying until it is.
    connection_ = nullptr;
    natsOptions_SetRetryOnFailedConnect(opts, true, &Cluster::OnConnected, this);
    s = natsConnection_Connect(&connection_, opts);
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    const std::string error = NatsError(s);
    connection_ = nullptr;
    Stop();
    return absl::UnavailableError(absl::StrCat("--nats ", config_.nats_url, ": ", error));
  }
  // Subscriptions made while the first connection is still being retried
  // are sent once it succeeds (and again after every reconnect).
  struct Sub {
    std::string subject;
    natsMsgHandler handler;
  };
  const std::vector<Sub> subs = {
      {absl::StrCat(prefix_, ".node.hello"), &Cluster::OnHelloMsg},
      {Subject(Topic::kSignal), &Cluster::OnRequestMsg},
      {Subject(Topic::kClientMessage), &Cluster::OnRequestMsg},
      {absl::StrCat(prefix_, ".rpc.*"), &Cluster::OnRequestMsg},
      {absl::StrCat(prefix_, ".reply.", instance_, ".*"), &Cluster::OnReplyMsg},
      {EventSubject(instance_), &Cluster::OnRequestMsg},
  };
  if (routes_ != nullptr) {
    // A route that comes or goes is announced at once, not at the next
    // heartbeat: the other nodes route to it within milliseconds.
    routes_->SetOnLocalChange([this] {
      if (stopping_.load()) return;
      net::post(context_, [this] {
        if (!stopping_.load()) SendHello(/*leaving=*/false);
      });
    });
  }
  for (const Sub& sub : subs) {
    natsSubscription* handle = nullptr;
    natsStatus ss = natsConnection_Subscribe(&handle, connection_, sub.subject.c_str(),
                                             sub.handler, this);
    if (ss != NATS_OK) {
      const std::string error = NatsError(ss);
      Stop();
      return absl::UnavailableError(absl::StrCat("subscribing to ", sub.subject, ": ", error));
    }
    subscriptions_.push_back(handle);
  }
  if (s == NATS_OK) {
    OnConnected(connection_, this);
  } else {
    spdlog::warn("cluster: NATS at {} not reachable yet; serving locally and retrying",
                 config_.nats_url);
  }
  net::post(context_, [this] { Heartbeat(); });
  spdlog::info("cluster: node {} (instance {}) on NATS {} with subject prefix {}", node_id_,
               instance_, config_.nats_url, prefix_);
  return absl::OkStatus();
}

void Cluster::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  if (routes_ != nullptr) routes_->SetOnLocalChange(nullptr);
  // A goodbye, so the others drop this node at once instead of after kMemberTimeout;
  // asks still waiting complete now with what they have. Then the thread
  // runs out of work and returns.
  net::post(context_, [this] {
    SendHello(/*leaving=*/true);
    if (connection_ != nullptr) natsConnection_FlushTimeout(connection_, 500);
    heartbeat_.cancel();
    while (!pending_.empty()) Finish(pending_.begin()->first);
    while (!acks_.empty()) FinishAck(acks_.begin()->first, /*accepted=*/false);
    for (auto& [instance, member] : members_) DropRemoteRoutes(member);
  });
  work_.reset();
  if (thread_.joinable()) thread_.join();
  for (natsSubscription* sub : subscriptions_) natsSubscription_Unsubscribe(sub);
  if (connection_ != nullptr) natsConnection_Close(connection_);
  for (natsSubscription* sub : subscriptions_) natsSubscription_Destroy(sub);
  subscriptions_.clear();
  if (connection_ != nullptr) natsConnection_Destroy(connection_);
  connection_ = nullptr;
  // Waits for nats.c's own threads, which may still hold `this` as closure.
  nats_CloseAndWait(2000);
}

// ---- nats.c callbacks (nats.c threads): copy, then hop to our thread. ----

void Cluster::OnNatsMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure,
                            Inbound kind) {
  auto* self = static_cast<Cluster*>(closure);
  if (kind == Inbound::kReply && natsMsg_IsNoResponders(msg)) {
    // NATS's own answer to a request nobody subscribes to: the node it was
    // for is gone. Not a malformed message.
    std::string subject = natsMsg_GetSubject(msg);
    natsMsg_Destroy(msg);
    if (!self->stopping_.load()) {
      net::post(self->context_, [self, subject = std::move(subject)] {
        self->HandleNoResponders(subject);
      });
    }
    return;
  }
  const int size = natsMsg_GetDataLength(msg);
  if (self->stopping_.load() || size < 0 || static_cast<size_t>(size) > self->max_inbound_bytes_) {
    if (!self->stopping_.load()) self->Dropped("oversized message");
    natsMsg_Destroy(msg);
    return;
  }
  std::string subject = natsMsg_GetSubject(msg);
  const char* reply_to = natsMsg_GetReply(msg);
  std::string reply = reply_to != nullptr ? reply_to : "";
  std::string data(natsMsg_GetData(msg), static_cast<size_t>(size));
  natsMsg_Destroy(msg);
  net::post(self->context_, [self, kind, subject = std::move(subject), reply = std::move(reply),
                             data = std::move(data)] {
    switch (kind) {
      case Inbound::kHello: self->HandleHello(data); break;
      case Inbound::kRequest: self->HandleRequest(subject, reply, data); break;
      case Inbound::kReply: self->HandleReply(subject, data); break;
    }
  });
}

void Cluster::OnHelloMsg(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* c) {
  OnNatsMessage(nc, sub, msg, c, Inbound::kHello);
}
void Cluster::OnRequestMsg(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* c) {
  OnNatsMessage(nc, sub, msg, c, Inbound::kRequest);
}
void Cluster::OnReplyMsg(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* c) {
  OnNatsMessage(nc, sub, msg, c, Inbound::kReply);
}

void Cluster::OnConnected(natsConnection*, void* closure) {
  auto* self = static_cast<Cluster*>(closure);
  if (self->stopping_.load()) return;
  self->connected_.store(true);
  self->metrics_.cluster_connected.store(1);
  net::post(self->context_, [self] {
    spdlog::info("cluster: connected to NATS; announcing node {}", self->node_id_);
    const int64_t max_payload =
        self->connection_ != nullptr ? natsConnection_GetMaxPayload(self->connection_) : 0;
    if (max_payload > 0 &&
        static_cast<uint64_t>(max_payload) < self->config_.max_message_bytes + 4096) {
      spdlog::warn("cluster: the NATS server's max_payload ({} bytes) is below --max-message-bytes "
                   "({}) plus framing: larger messages and signals reach this node's clients "
                   "only (raise max_payload in nats-server's config)",
                   max_payload, self->config_.max_message_bytes);
    }
    self->SendHello(/*leaving=*/false);
  });
}

void Cluster::OnDisconnected(natsConnection*, void* closure) {
  auto* self = static_cast<Cluster*>(closure);
  self->connected_.store(false);
  self->metrics_.cluster_connected.store(0);
  if (self->stopping_.load()) return;
  spdlog::warn("cluster: lost NATS; serving local clients only until it is back");
}

void Cluster::OnClosed(natsConnection* connection, void* closure) {
  auto* self = static_cast<Cluster*>(closure);
  self->connected_.store(false);
  self->metrics_.cluster_connected.store(0);
  if (self->stopping_.load()) return;
  // nats.c gives up only on what retrying cannot fix (a refused login).
  const char* text = nullptr;
  const natsStatus why = natsConnection_GetLastError(connection, &text);
  spdlog::error("cluster: the NATS connection is closed for good ({}): this node serves its own "
                "clients only until it is restarted",
                text != nullptr && *text != '\0' ? text : natsStatus_GetText(why));
}

// ---- The cluster thread. ----

void Cluster::Dropped(std::string_view why) {
  metrics_.cluster_dropped.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("cluster: dropped an inter-node message: {}", std::string(why));
}

bool Cluster::IsConnected() const {
  return connection_ != nullptr && connected_.load() &&
         natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED;
}

bool Cluster::Publish(const std::string& subject, const std::string& reply,
                      const std::string& data) {
  publish_too_large_ = false;
  if (!IsConnected()) return false;
  natsStatus s = reply.empty()
                     ? natsConnection_Publish(connection_, subject.c_str(), data.data(),
                                              static_cast<int>(data.size()))
                     : natsConnection_PublishRequest(connection_, subject.c_str(), reply.c_str(),
                                                     data.data(), static_cast<int>(data.size()));
  if (s == NATS_MAX_PAYLOAD) {
    publish_too_large_ = true;
    // A setting mismatch, not an outage: say so (once a minute at most).
    const auto now = std::chrono::steady_clock::now();
    if (now - last_too_large_log_ >= std::chrono::minutes(1)) {
      last_too_large_log_ = now;
      spdlog::warn("cluster: a message of {} bytes is over the NATS server's max_payload ({} "
                   "bytes) and did not reach the other nodes: raise max_payload in nats-server's "
                   "config or lower --max-message-bytes",
                   data.size(), natsConnection_GetMaxPayload(connection_));
    }
    return false;
  }
  if (s != NATS_OK) {
    spdlog::debug("cluster: publish on {} failed: {}", subject, NatsError(s));
    return false;
  }
  metrics_.cluster_messages_out.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Cluster::SendHello(bool leaving) {
  Hello hello;
  hello.set_instance(instance_);
  hello.set_node_id(node_id_);
  hello.set_leaving(leaving);
  if (!leaving && routes_ != nullptr) {
    for (const auto& [handle, subscription] : routes_->LocalSubscriptions()) {
      if (!Announceable(subscription) || hello.routes_size() >= kMaxAnnouncedRoutes) {
        spdlog::debug("cluster: subscription {} is too large to announce; it stays local",
                      handle);
        continue;
      }
      RouteAnnouncement* route = hello.add_routes();
      route->set_id(handle);
      for (const routes::RoutePattern& p : subscription.routes) route->add_patterns(p.text());
      route->set_observe(subscription.observe);
      route->set_group(subscription.group);
      route->set_message(subscription.wants_message);
      route->set_connect(subscription.wants_connect);
      route->set_disconnect(subscription.wants_disconnect);
    }
  }
  Publish(absl::StrCat(prefix_, ".node.hello"), "", hello.SerializeAsString());
}

void Cluster::Heartbeat() {
  if (stopping_.load()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_hello_ >= kHeartbeat - std::chrono::milliseconds(100)) {
    SendHello(/*leaving=*/false);
    last_hello_ = now;
  }
  for (auto it = members_.begin(); it != members_.end();) {
    if (now - it->second.last_seen > kMemberTimeout) {
      spdlog::warn("cluster: node {} silent for {} s; dropped", it->second.node_id,
                   kMemberTimeout.count());
      DropRemoteRoutes(it->second);
      members_.erase(it++);
    } else {
      ++it;
    }
  }
  members_count_.store(static_cast<uint32_t>(members_.size()));
  metrics_.cluster_nodes.store(1 + static_cast<int64_t>(members_.size()));
  heartbeat_.expires_after(kSweep);
  heartbeat_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Heartbeat();
  });
}

void Cluster::HandleHello(const std::string& data) {
  Hello hello;
  if (!hello.ParseFromString(data) || !IsSubjectToken(hello.instance()) ||
      hello.node_id().size() > 256 || hello.routes_size() > kMaxAnnouncedRoutes) {
    Dropped("malformed hello");
    return;
  }
  if (hello.instance() == instance_) return;
  absl::flat_hash_set<uint64_t> ids;
  for (const RouteAnnouncement& route : hello.routes()) {
    bool valid = route.id() != 0 && ids.insert(route.id()).second &&
                 route.patterns_size() > 0 && route.patterns_size() <= kMaxPatternsPerRoute &&
                 route.group().size() <= kMaxGroupBytes &&
                 (route.message() || route.connect() || route.disconnect());
    for (int i = 0; valid && i < route.patterns_size(); ++i) {
      valid = route.patterns(i).size() <= kMaxPatternBytes &&
              routes::RoutePattern::Parse(route.patterns(i)).ok();
    }
    if (!valid) {
      Dropped("malformed route announcement");
      return;
    }
  }
  metrics_.cluster_messages_in.fetch_add(1, std::memory_order_relaxed);
  if (hello.leaving()) {
    auto it = members_.find(hello.instance());
    if (it != members_.end()) {
      DropRemoteRoutes(it->second);
      members_.erase(it);
      spdlog::info("cluster: node {} left", hello.node_id());
    }
    // Asks waiting for it need not: it will not answer, nor act later.
    std::vector<uint64_t> done;
    for (auto& [token, pending] : pending_) {
      if (pending.waiting.erase(hello.instance()) > 0 && pending.waiting.empty()) {
        done.push_back(token);
      }
    }
    for (uint64_t token : done) Finish(token);
  } else {
    auto [it, added] = members_.try_emplace(hello.instance());
    it->second.node_id = hello.node_id();
    it->second.last_seen = std::chrono::steady_clock::now();
    if (added) {
      spdlog::info("cluster: node {} joined ({} other node(s))", hello.node_id(),
                   members_.size());
      if (hello.node_id() == node_id_) {
        spdlog::error("cluster: another node (instance {}) also calls itself {}: give each node "
                      "its own --node-id, or Client.node and ServerInfo.nodes cannot tell them "
                      "apart",
                      hello.instance(), node_id_);
      }
      // Answer a newcomer at once so it knows this node without waiting for
      // the next heartbeat.
      SendHello(/*leaving=*/false);
    }
    UpdateRemoteRoutes(hello.instance(), it->second, hello);
  }
  members_count_.store(static_cast<uint32_t>(members_.size()));
  metrics_.cluster_nodes.store(1 + static_cast<int64_t>(members_.size()));
}

void Cluster::UpdateRemoteRoutes(const std::string& instance, Member& member,
                                 const Hello& hello) {
  if (routes_ == nullptr) return;
  absl::flat_hash_set<uint64_t> announced;
  for (const RouteAnnouncement& route : hello.routes()) {
    announced.insert(route.id());
    if (member.routes.contains(route.id())) continue;  // announcements never change a route
    routes::Subscription subscription;
    for (const std::string& text : route.patterns()) {
      subscription.routes.push_back(*routes::RoutePattern::Parse(text));  // validated
    }
    subscription.observe = route.observe();
    subscription.group = route.group();
    subscription.wants_message = route.message();
    subscription.wants_connect = route.connect();
    subscription.wants_disconnect = route.disconnect();
    subscription.holder = instance;
    subscription.sink = std::make_shared<RemoteSink>(
        *this, instance, route.id(), route.observe(),
        static_cast<uint32_t>(std::min<uint64_t>(config_.subscriber_queue, 1u << 20)));
    member.routes.emplace(route.id(), routes_->Add(std::move(subscription)));
    metrics_.cluster_remote_routes.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("cluster: route {} of node {} is live here", route.patterns(0),
                  member.node_id);
  }
  for (auto it = member.routes.begin(); it != member.routes.end();) {
    if (announced.contains(it->first)) {
      ++it;
      continue;
    }
    routes_->Remove(it->second);
    metrics_.cluster_remote_routes.fetch_sub(1, std::memory_order_relaxed);
    member.routes.erase(it++);
  }
}

void Cluster::DropRemoteRoutes(Member& member) {
  if (routes_ == nullptr) return;
  for (const auto& [id, handle] : member.routes) {
    routes_->Remove(handle);
    metrics_.cluster_remote_routes.fetch_sub(1, std::memory_order_relaxed);
  }
  member.routes.clear();
}

void Cluster::HandleRequest(const std::string& subject, const std::string& reply_subject,
                            const std::string& data) {
  Request request;
  if (!request.ParseFromString(data) || request.instance().empty()) {
    Dropped("malformed request");
    return;
  }
  if (request.instance() == instance_) return;  // our own broadcast
  // Replies go only to another node's reply subject under our prefix.
  const std::string reply_base = absl::StrCat(prefix_, ".reply.");
  if (!reply_subject.empty() && !absl::StartsWith(reply_subject, reply_base)) {
    Dropped("reply subject outside the cluster prefix");
    return;
  }
  metrics_.cluster_messages_in.fetch_add(1, std::memory_order_relaxed);
  auto expect = [&](Topic topic) {
    if (subject == Subject(topic)) return true;
    Dropped("request on the wrong subject");
    return false;
  };
  // Completion from any thread: hop back here to publish.
  auto delivery_done = [this, reply_subject](uint64_t delivered, bool found) {
    net::post(context_, [this, reply_subject, delivered, found] {
      Reply reply;
      reply.mutable_delivery()->set_delivered(delivered);
      reply.mutable_delivery()->set_found(found);
      SendReply(reply_subject, std::move(reply));
    });
  };
  switch (request.body_case()) {
    case Request::kSignal:
      if (!expect(Topic::kSignal)) return;
      local_.send_signal(request.signal(), delivery_done);
      return;
    case Request::kClientMessage:
      if (!expect(Topic::kClientMessage)) return;
      if (request.client_message().frame().size() > config_.max_message_bytes ||
          request.client_message().binary().size() > config_.max_message_bytes ||
          (request.client_message().has_binary() && !request.client_message().frame().empty())) {
        Dropped("client message over --max-message-bytes or with two frames");
        return;
      }
      local_.deliver_message(request.client_message(),
                             reply_subject.empty() ? LocalNode::DeliveryDone() : delivery_done);
      return;
    case Request::kList: {
      if (!expect(Topic::kList) || reply_subject.empty()) return;
      Reply reply;
      *reply.mutable_list() = local_.list_clients(request.list());
      SendReply(reply_subject, std::move(reply));
      return;
    }
    case Request::kInfo: {
      if (!expect(Topic::kInfo) || reply_subject.empty()) return;
      Reply reply;
      *reply.mutable_info() = local_.info();
      SendReply(reply_subject, std::move(reply));
      return;
    }
    case Request::kDisconnect: {
      if (!expect(Topic::kDisconnect) || reply_subject.empty()) return;
      Reply reply;
      *reply.mutable_disconnect() = local_.disconnect(request.disconnect());
      SendReply(reply_subject, std::move(reply));
      return;
    }
    case Request::kRouteEvent:
      HandleRouteEvent(subject, reply_subject, request.route_event());
      return;
    case Request::BODY_NOT_SET:
      Dropped("request without a body");
      return;
  }
}

void Cluster::HandleRouteEvent(const std::string& subject, const std::string& reply_subject,
                               const RouteEvent& route_event) {
  const sigd::v1::SignalEvent& event = route_event.event();
  const sigd::v1::EventKind kind = event.kind();
  if (subject != EventSubject(instance_) || reply_subject.empty() || route_event.route_id() == 0 ||
      (kind != sigd::v1::MESSAGE && kind != sigd::v1::CONNECT && kind != sigd::v1::DISCONNECT) ||
      event.route().empty() || event.route().size() > kMaxPatternBytes ||
      event.data().message_json().size() > config_.max_message_bytes) {
    Dropped("malformed route event");
    return;
  }
  const bool accepted =
      routes_ != nullptr &&
      routes_->OfferTo(route_event.route_id(), std::make_shared<sigd::v1::SignalEvent>(event));
  Reply reply;
  reply.mutable_ack()->set_accepted(accepted);
  SendReply(reply_subject, std::move(reply));
}

bool Cluster::ForwardEvent(const std::string& instance, uint64_t route_id, bool observe,
                           routes::EventPtr event,
                           std::shared_ptr<std::atomic<uint32_t>> in_flight) {
  if (stopping_.load() || !connected_.load()) return false;
  net::post(context_, [this, instance, route_id, observe, event = std::move(event),
                       in_flight = std::move(in_flight)]() mutable {
    auto done = [this, observe, event, in_flight](bool accepted) {
      in_flight->fetch_sub(1, std::memory_order_acq_rel);
      if (accepted) return;
      metrics_.cluster_events_rejected.fetch_add(1, std::memory_order_relaxed);
      if (local_.event_rejected) local_.event_rejected(*event, observe);
    };
    Request request;
    request.set_instance(instance_);
    request.mutable_route_event()->set_route_id(route_id);
    *request.mutable_route_event()->mutable_event() = *event;
    const uint64_t token = next_token_++;
    const std::string reply = absl::StrCat(prefix_, ".reply.", instance_, ".", token);
    if (stopping_.load() || !Publish(EventSubject(instance), reply, request.SerializeAsString())) {
      done(false);
      return;
    }
    PendingAck& ack = acks_[token];
    ack.instance = instance;
    ack.done = std::move(done);
    ack.timer = std::make_unique<net::steady_timer>(context_, config_.cluster_timeout);
    ack.timer->async_wait([this, token](boost::system::error_code ec) {
      if (!ec) FinishAck(token, /*accepted=*/false);
    });
  });
  return true;
}

void Cluster::FinishAck(uint64_t token, bool accepted) {
  auto it = acks_.find(token);
  if (it == acks_.end()) return;
  PendingAck ack = std::move(it->second);
  acks_.erase(it);
  if (ack.timer) ack.timer->cancel();
  ack.done(accepted);
}

void Cluster::SendReply(const std::string& subject, Reply reply) {
  if (subject.empty()) return;
  reply.set_instance(instance_);
  reply.set_node_id(node_id_);
  Publish(subject, "", reply.SerializeAsString());
}

void Cluster::HandleReply(const std::string& subject, const std::string& data) {
  uint64_t token = 0;
  const size_t dot = subject.rfind('.');
  Reply reply;
  if (dot == std::string::npos || !absl::SimpleAtoi(subject.substr(dot + 1), &token) ||
      !reply.ParseFromString(data) || reply.instance().empty()) {
    Dropped("malformed reply");
    return;
  }
  metrics_.cluster_messages_in.fetch_add(1, std::memory_order_relaxed);
  if (reply.has_ack()) {
    auto ack = acks_.find(token);
    if (ack != acks_.end() && ack->second.instance == reply.instance()) {
      FinishAck(token, reply.ack().accepted());
    }
    return;
  }
  auto it = pending_.find(token);
  if (it == pending_.end()) return;  // late: the ask already finished
  Pending& p = it->second;
  if (p.waiting.erase(reply.instance()) == 0 && !members_.contains(reply.instance())) {
    // A node we have not heard a hello from yet: its answer counts all the
    // same (it will announce itself shortly).
  }
  ++p.result.nodes;
  p.satisfied = p.on_reply ? p.on_reply(reply) : false;
  if (p.satisfied || p.waiting.empty()) Finish(token);
}

std::string Gathered::Unsure() const {
  if (too_large) {
    return "it is larger than the NATS server's max_payload, so it was not sent to the other "
           "nodes";
  }
  // Even with no other node known (they are forgotten 6 s into an outage).
  if (!connected) return "the other nodes are unreachable (NATS is down), so it was not sent to them";
  if (missing == 0) return "";
  return absl::StrCat(missing, " of ", expected,
                      " nodes did not answer within --cluster-timeout and may still act on it");
}

void Cluster::HandleNoResponders(const std::string& subject) {
  uint64_t token = 0;
  const size_t dot = subject.rfind('.');
  if (dot == std::string::npos || !absl::SimpleAtoi(subject.substr(dot + 1), &token)) return;
  // An event for a holder that has died (before its routes time out): no
  // need to wait the cluster timeout for its answer.
  if (acks_.contains(token)) FinishAck(token, /*accepted=*/false);
}

void Cluster::Finish(uint64_t token) {
  auto it = pending_.find(token);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.timer) p.timer->cancel();
  p.result.missing = static_cast<uint32_t>(p.waiting.size());
  if (p.result.nodes < p.result.expected && !p.satisfied) {
    metrics_.cluster_partial.fetch_add(1, std::memory_order_relaxed);
  }
  if (p.done) p.done(p.result);
}

void Cluster::Ask(Topic topic, Request request, OnReply on_reply, OnDone done) {
  if (stopping_.load()) {
    Gathered alone;
    alone.expected = 1 + member_count();
    done(alone);
    return;
  }
  request.set_instance(instance_);
  net::post(context_, [this, topic, request = std::move(request), on_reply = std::move(on_reply),
                       done = std::move(done)]() mutable {
    const uint64_t token = next_token_++;
    Pending& p = pending_[token];
    p.on_reply = std::move(on_reply);
    p.done = std::move(done);
    p.result.expected = 1 + static_cast<uint32_t>(members_.size());
    p.result.connected = IsConnected();
    for (const auto& [instance, member] : members_) p.waiting.insert(instance);
    const std::string reply = absl::StrCat(prefix_, ".reply.", instance_, ".", token);
    const bool stopping = stopping_.load();
    if (stopping || !Publish(Subject(topic), reply, request.SerializeAsString())) {
      // NATS is down (or refused the size): answer with this node alone, at once.
      p.result.too_large = !stopping && publish_too_large_;
      p.result.connected = p.result.too_large;
      Finish(token);
      return;
    }
    if (p.waiting.empty()) {
      // No other node known: nothing to wait for.
      Finish(token);
      return;
    }
    p.timer = std::make_unique<net::steady_timer>(context_, config_.cluster_timeout);
    p.timer->async_wait([this, token](boost::system::error_code ec) {
      if (!ec) Finish(token);
    });
  });
}

void Cluster::Tell(Topic topic, Request request) {
  request.set_instance(instance_);
  net::post(context_, [this, topic, request = std::move(request)] {
    // No answer is awaited, so a failure here is the only trace of a message
    // the other nodes never got.
    if (!Publish(Subject(topic), "", request.SerializeAsString())) {
      metrics_.cluster_publish_failed.fetch_add(1, std::memory_order_relaxed);
    }
  });
}

}  // namespace sigd::cluster
