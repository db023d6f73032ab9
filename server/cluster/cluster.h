// Cluster mode: this node's link to the other sigd nodes over NATS (--nats).
//
// One NATS connection per node. Nodes announce themselves on
// <prefix>.node.hello when they reach NATS and every 2 s after; a node unheard
// of for 6 s is dropped from the membership. Cluster-wide operations are
// scatter-gather: a request goes to every node on a broadcast subject, each
// answers on the asker's own reply subject, and the asker waits for every
// node it knows, up to --cluster-timeout. Without NATS (down, or not yet
// reached) asks complete at once with only this node counted, so no call
// ever waits past its deadline; local serving never depends on NATS.
//
// Signal routes across nodes: every hello lists the node's live routes
// (and a hello goes out at once when one comes or goes). Each node adds the
// other nodes' routes to its own RouteTable as entries whose sink forwards
// the event to the holder on <prefix>.event.<instance>, so the single-node
// rules (most specific HANDLE wins, one member per group, OBSERVE copies)
// apply cluster-wide, decided by the sender's node. The holder acknowledges;
// an event not accepted within --cluster-timeout is reported through
// LocalNode::event_rejected (the sender gets route_busy). A node's routes
// leave the table with the node (goodbye, or kMemberTimeout of silence).
//
// Threads: nats.c calls back on its own threads; each callback only copies
// the message and posts it to the cluster's single thread, where all state
// lives and every publish happens. Nothing here runs on an I/O (shard)
// thread or inside a gRPC reaction, and no call blocks its caller.
//
//   Cluster cluster(config, node_id, metrics, local);
//   cluster.Start();
//   cluster.Ask(Topic::kInfo, request, on_reply, [](Gathered g) { ... });
#ifndef SIGD_SERVER_CLUSTER_CLUSTER_H_
#define SIGD_SERVER_CLUSTER_CLUSTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "cluster.pb.h"
#include "server/config/config.h"
#include "server/metrics.h"
#include "server/routes/route_table.h"
#include "signal.pb.h"

struct __natsConnection;
struct __natsSubscription;
struct __natsMsg;

namespace sigd::cluster {

// The subjects requests travel on, under the prefix.
enum class Topic { kSignal, kClientMessage, kList, kInfo, kDisconnect };

// What this node does for other nodes' requests. Called on the cluster
// thread; the `done` callbacks may run on any thread.
struct LocalNode {
  using DeliveryDone = std::function<void(uint64_t delivered, bool found)>;
  std::function<void(const sigd::v1::SendSignalRequest&, DeliveryDone)> send_signal;
  // `done` is null for a message nobody waits for (path or everyone).
  std::function<void(const ClientMessage&, DeliveryDone)> deliver_message;
  std::function<sigd::v1::ListClientsResponse(const sigd::v1::ListClientsRequest&)> list_clients;
  std::function<sigd::v1::DisconnectClientResponse(const sigd::v1::DisconnectClientRequest&)>
      disconnect;
  std::function<sigd::v1::ServerInfo()> info;
  // A route event another node did not accept within the cluster timeout;
  // `observe` tells whether the route was an OBSERVE one. Any thread.
  std::function<void(const sigd::v1::SignalEvent&, bool observe)> event_rejected;
};

// How an ask ended.
struct Gathered {
  uint32_t nodes = 1;     // nodes that answered, this one included
  uint32_t expected = 1;  // nodes known when the ask started, this one included
  bool connected = false; // NATS was reachable when the ask started
  bool too_large = false; // NATS refused the request: over its max_payload
  uint32_t missing = 0;    // known nodes that neither answered nor left

  // Why "not found on any node" cannot be said, or empty when it can: NATS
  // was down, or a node did not answer in time (and may still act on the
  // request later). For error messages.
  std::string Unsure() const;
};

class Cluster {
 public:
  // Returns true when the answers so far are enough (e.g. the client was
  // found) and waiting can stop.
  using OnReply = std::function<bool(const Reply&)>;
  using OnDone = std::function<void(const Gathered&)>;

  // A node announces itself every kHeartbeat and is dropped after
  // kMemberTimeout of silence (three missed heartbeats), checked every
  // kSweep: a dead node is gone within 10 s of its last heartbeat.
  static constexpr std::chrono::seconds kHeartbeat{2};
  static constexpr std::chrono::seconds kMemberTimeout{6};
  static constexpr std::chrono::seconds kSweep{1};

  Cluster(const config::Config& config, std::string node_id, Metrics& metrics, LocalNode local);
  ~Cluster();

  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Cluster-wide signal routes: this node's routes are announced and the
  // other nodes' routes are added to `routes`. Call before Start; the table
  // must outlive Stop.
  void SetRoutes(routes::RouteTable* routes) { routes_ = routes; }

  // Starts the cluster thread and the connection. Succeeds even while NATS is
  // unreachable (the connection keeps retrying, forever); fails only for bad
  // settings (URL, credentials or certificate files).
  absl::Status Start();
  // Says goodbye to the other nodes and closes the connection. Idempotent.
  void Stop();

  // Sends `request` to every other node and gathers their replies: each goes
  // to `on_reply` until it returns true, every known node has answered, or
  // the cluster timeout passes; then `done` runs once. Both on the cluster
  // thread. Any thread may call.
  void Ask(Topic topic, Request request, OnReply on_reply, OnDone done);
  // Sends `request` to every other node; nobody answers.
  void Tell(Topic topic, Request request);

  // Sends `event` for the route `route_id` held by node `instance`; the
  // holder's answer (or the timeout) decrements `in_flight` and, unless it
  // accepted, calls LocalNode::event_rejected. False at once, with nothing
  // sent, while NATS is down or the cluster stops. Any thread; never blocks.
  bool ForwardEvent(const std::string& instance, uint64_t route_id, bool observe,
                    routes::EventPtr event, std::shared_ptr<std::atomic<uint32_t>> in_flight);

  // Other nodes currently known (heard from within kMemberTimeout).
  uint32_t member_count() const { return members_count_.load(std::memory_order_relaxed); }
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  const std::string& node_id() const { return node_id_; }

 private:
  struct Pending {
    OnReply on_reply;
    OnDone done;
    absl::flat_hash_set<std::string> waiting;  // instances yet to answer
    Gathered result;
    bool satisfied = false;  // on_reply said the answers were enough
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  struct Member {
    std::string node_id;
    std::chrono::steady_clock::time_point last_seen;
    // Its announced routes: announcement id -> entry in routes_.
    absl::flat_hash_map<uint64_t, uint64_t> routes;
  };
  // A forwarded route event waiting for the holder's acknowledgement.
  struct PendingAck {
    std::string instance;  // the holder; only its answer counts
    std::function<void(bool accepted)> done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  enum class Inbound { kHello, kRequest, kReply };

  static void OnNatsMessage(__natsConnection*, __natsSubscription*, __natsMsg* msg,
                            void* closure, Inbound kind);
  static void OnHelloMsg(__natsConnection*, __natsSubscription*, __natsMsg*, void*);
  static void OnRequestMsg(__natsConnection*, __natsSubscription*, __natsMsg*, void*);
  static void OnReplyMsg(__natsConnection*, __natsSubscription*, __natsMsg*, void*);
  static void OnConnected(__natsConnection*, void*);
  static void OnDisconnected(__natsConnection*, void*);
  static void OnClosed(__natsConnection*, void*);

  // Cluster thread only, from here on.
  void HandleHello(const std::string& data);
  // Replaces what is known of a member's routes with its hello's list.
  void UpdateRemoteRoutes(const std::string& instance, Member& member, const Hello& hello);
  void DropRemoteRoutes(Member& member);
  void HandleRouteEvent(const std::string& subject, const std::string& reply,
                        const RouteEvent& event);
  void FinishAck(uint64_t token, bool accepted);
  std::string EventSubject(const std::string& instance) const;
  void HandleRequest(const std::string& subject, const std::string& reply,
                     const std::string& data);
  void HandleReply(const std::string& subject, const std::string& data);
  // NATS's "no responders" status on one of our reply subjects.
  void HandleNoResponders(const std::string& subject);
  void SendReply(const std::string& subject, Reply reply);
  void SendHello(bool leaving);
  void Heartbeat();
  void Finish(uint64_t token);
  bool Publish(const std::string& subject, const std::string& reply, const std::string& data);
  bool IsConnected() const;
  std::string Subject(Topic topic) const;
  void Dropped(std::string_view why);

  const config::Config& config_;
  const std::string node_id_;
  const std::string instance_;
  const std::string prefix_;
  const size_t max_inbound_bytes_;
  Metrics& metrics_;
  LocalNode local_;

  boost::asio::io_context context_{1};
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  boost::asio::steady_timer heartbeat_{context_};

  __natsConnection* connection_ = nullptr;
  std::vector<__natsSubscription*> subscriptions_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint32_t> members_count_{0};
  bool started_ = false;
  bool stopped_ = false;

  // Cluster thread only.
  absl::flat_hash_map<std::string, Member> members_;  // by instance
  std::map<uint64_t, Pending> pending_;
  absl::flat_hash_map<uint64_t, PendingAck> acks_;
  routes::RouteTable* routes_ = nullptr;
  uint64_t next_token_ = 1;
  std::chrono::steady_clock::time_point last_hello_{};
  bool publish_too_large_ = false;  // the last Publish failed on max_payload
  std::chrono::steady_clock::time_point last_too_large_log_{};
};

}  // namespace sigd::cluster

#endif  // SIGD_SERVER_CLUSTER_CLUSTER_H_
