#include "server/admin/prometheus.h"

#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sigd::admin {
namespace {

class Writer {
 public:
  void Header(std::string_view name, std::string_view type, std::string_view help) {
    absl::StrAppend(&out_, "# HELP sigd_", std::string(name), " ", std::string(help), "\n",
                    "# TYPE sigd_", std::string(name), " ", std::string(type), "\n");
  }
  void Value(std::string_view name, std::string_view labels, double value) {
    absl::StrAppend(&out_, "sigd_", std::string(name), std::string(labels), " ",
                    absl::StrFormat("%.17g", value), "\n");
  }
  void Counter(std::string_view name, std::string_view help, uint64_t value) {
    Header(name, "counter", help);
    Value(name, "", static_cast<double>(value));
  }
  void Gauge(std::string_view name, std::string_view help, double value) {
    Header(name, "gauge", help);
    Value(name, "", value);
  }
  // A counter family with one label and a fixed set of values.
  void Family(std::string_view name, std::string_view label, std::string_view help,
              std::initializer_list<std::pair<std::string_view, const std::atomic<uint64_t>*>>
                  series) {
    Header(name, "counter", help);
    for (const auto& [value, counter] : series) {
      Value(name, absl::StrCat("{", std::string(label), "=\"", std::string(value), "\"}"),
            static_cast<double>(counter->load(std::memory_order_relaxed)));
    }
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

uint64_t Load(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

}  // namespace

std::string RenderPrometheus(const Metrics& m, const Gauges& g) {
  Writer w;
  w.Gauge("clients", "WebSocket clients connected now.", static_cast<double>(g.clients));
  w.Gauge("subscribers", "SubscribeSignals streams open now.", static_cast<double>(g.subscribers));
  w.Gauge("ready", "1 while sigd takes new clients, 0 while draining.", g.ready ? 1 : 0);
  w.Gauge("io_uring_threads",
          "I/O threads that send through io_uring; fewer than --io-threads where the kernel "
          "refuses it (see the log) or with --io-uring off.",
          m.io_uring_threads.load(std::memory_order_relaxed));
  w.Counter("connections_total", "WebSocket upgrades completed.", Load(m.connections_accepted));
  w.Counter("handshakes_failed_total", "WebSocket upgrades that failed.",
            Load(m.handshakes_failed));
  w.Counter("tls_handshakes_failed_total",
            "TLS handshakes on the WebSocket port that failed (incl. plain HTTP sent there).",
            Load(m.tls_handshakes_failed));
  w.Counter("tls_reloads_total", "Certificate reloads (SIGHUP) that took effect.",
            Load(m.tls_reloads));
  w.Header("connections_closed_total", "counter", "WebSocket connections ended, by reason.");
  for (size_t i = 0; i < kCloseReasonNames.size(); ++i) {
    w.Value("connections_closed_total",
            absl::StrCat("{reason=\"", std::string(kCloseReasonNames[i]), "\"}"),
            static_cast<double>(Load(m.closes[i])));
  }
  w.Counter("http_requests_total", "HTTP requests on the WebSocket port.", Load(m.http_requests));
  w.Counter("http_rejected_total", "HTTP requests answered with an error status.",
            Load(m.http_rejected));
  w.Header("jwt_rejected_total", "counter",
           "WebSocket upgrades refused for their JWT, by HTTP status.");
  w.Value("jwt_rejected_total", "{status=\"401\"}", static_cast<double>(Load(m.jwt_unauthorized)));
  w.Value("jwt_rejected_total", "{status=\"403\"}", static_cast<double>(Load(m.jwt_forbidden)));
  w.Counter("messages_in_total", "Frames received from clients.", Load(m.messages_in));
  w.Counter("bytes_in_total", "Payload bytes received from clients.", Load(m.bytes_in));
  w.Counter("messages_out_total", "Frames written to clients.", Load(m.frames_out));
  w.Counter("bytes_out_total", "Payload bytes written to clients.", Load(m.bytes_out));
  w.Counter("signals_sent_total", "SendSignal calls that reached at least one client.",
            Load(m.signals_sent));
  w.Counter("admin_requests_total", "Requests to the admin HTTP listener.",
            Load(m.admin_requests));
  w.Counter("auth_failures_total", "Control-plane calls refused for a missing or wrong token.",
            Load(m.auth_failures));
  w.Family("rejected_messages_total", "code",
           "Client messages answered with an error frame, by code.",
           {{"invalid_message", &m.invalid_messages},
            {"unknown_client", &m.unknown_client},
            {"cluster_unavailable", &m.cluster_unavailable},
            {"no_handler", &m.no_handler},
            {"route_busy", &m.route_busy},
            {"rate_limited", &m.rate_limited},
            {"target_not_allowed", &m.target_not_allowed}});
  w.Family("dropped_total", "reason", "Frames or events that were not delivered, by reason.",
           {{"slow_client_queue", &m.frames_dropped_slow},
            {"client_gone", &m.frames_dropped_gone},
            {"observe_full", &m.observe_dropped},
            {"lifecycle_full", &m.lifecycle_dropped},
            {"subscriber_ended", &m.subscriber_events_dropped}});
  w.Counter("slow_clients_total", "Clients closed with 1013 because their queue filled.",
            Load(m.slow_clients_dropped));
  w.Counter("route_events_total", "MESSAGE events queued to subscribers.", Load(m.route_events));
  w.Counter("cluster_messages_in_total", "Valid messages received from other nodes over NATS.",
            Load(m.cluster_messages_in));
  w.Counter("cluster_messages_out_total", "Messages published to NATS.",
            Load(m.cluster_messages_out));
  w.Counter("cluster_publish_failed_total",
            "Messages for other nodes (client messages, raw relays) that could not be "
            "published to NATS: disconnected, or over its max_payload.",
            Load(m.cluster_publish_failed));
  w.Counter("cluster_dropped_total", "Malformed or oversized messages from NATS, dropped.",
            Load(m.cluster_dropped));
  w.Counter("cluster_partial_total",
            "Cluster-wide calls answered without every known node (timeout or NATS down).",
            Load(m.cluster_partial));
  w.Counter("cluster_events_rejected_total",
            "Route events sent to another node's subscriber that were not accepted within "
            "--cluster-timeout (node gone, queue full); a HANDLE message's sender got route_busy.",
            Load(m.cluster_events_rejected));
  w.Gauge("cluster_remote_routes", "Subscriptions held on other nodes that this node routes to.",
          static_cast<double>(m.cluster_remote_routes.load(std::memory_order_relaxed)));
  w.Gauge("cluster_nodes", "Cluster nodes this node knows, itself included (0 without --nats).",
          static_cast<double>(m.cluster_nodes.load(std::memory_order_relaxed)));
  w.Gauge("cluster_connected", "1 while this node is connected to NATS (0 without --nats).",
          m.cluster_connected.load(std::memory_order_relaxed));

  int64_t frames = 0, bytes = 0;
  std::array<uint64_t, kLatencyBuckets.size() + 1> buckets{};
  uint64_t sum_ns = 0;
  for (size_t s = 0; s < g.shards && s < m.shards.size(); ++s) {
    const ShardGauges& sg = m.shards[s];
    frames += sg.queued_frames.load(std::memory_order_relaxed);
    bytes += sg.queued_bytes.load(std::memory_order_relaxed);
    for (size_t b = 0; b < buckets.size(); ++b) {
      buckets[b] += sg.latency_buckets[b].load(std::memory_order_relaxed);
    }
    sum_ns += sg.latency_sum_ns.load(std::memory_order_relaxed);
  }
  w.Gauge("queued_frames", "Frames waiting in client outbound queues.", static_cast<double>(frames));
  w.Gauge("queued_bytes", "Bytes waiting in client outbound queues.", static_cast<double>(bytes));

  w.Header("send_to_write_seconds", "histogram",
           "Time from a SendSignal call to the frame's socket write, per client.");
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kLatencyBuckets.size(); ++b) {
    cumulative += buckets[b];
    w.Value("send_to_write_seconds_bucket",
            absl::StrCat("{le=\"", absl::StrFormat("%g", kLatencyBuckets[b]), "\"}"),
            static_cast<double>(cumulative));
  }
  cumulative += buckets.back();
  w.Value("send_to_write_seconds_bucket", "{le=\"+Inf\"}", static_cast<double>(cumulative));
  w.Value("send_to_write_seconds_sum", "", static_cast<double>(sum_ns) / 1e9);
  // The +Inf bucket and the count must agree even while writers race.
  w.Value("send_to_write_seconds_count", "", static_cast<double>(cumulative));
  return w.Take();
}

}  // namespace sigd::admin
