#include "server/admin/prometheus.h"

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
  w.Counter("connections_total", "WebSocket upgrades completed.", Load(m.connections_accepted));
  w.Counter("handshakes_failed_total", "WebSocket upgrades that failed.",
            Load(m.handshakes_failed));
  w.Header("connections_closed_total", "counter", "WebSocket connections ended, by reason.");
  for (size_t i = 0; i < kCloseReasonNames.size(); ++i) {
    w.Value("connections_closed_total",
            absl::StrCat("{reason=\"", std::string(kCloseReasonNames[i]), "\"}"),
            static_cast<double>(Load(m.closes[i])));
  }
  w.Counter("http_requests_total", "HTTP requests on the WebSocket port.", Load(m.http_requests));
  w.Counter("http_rejected_total", "HTTP requests answered with an error status.",
            Load(m.http_rejected));
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
  w.Header("rejected_messages_total", "counter",
           "Client messages answered with an error frame, by code.");
  w.Value("rejected_messages_total", "{code=\"invalid_message\"}",
          static_cast<double>(Load(m.invalid_messages)));
  w.Value("rejected_messages_total", "{code=\"unknown_client\"}",
          static_cast<double>(Load(m.unknown_client)));
  w.Value("rejected_messages_total", "{code=\"no_handler\"}",
          static_cast<double>(Load(m.no_handler)));
  w.Value("rejected_messages_total", "{code=\"route_busy\"}",
          static_cast<double>(Load(m.route_busy)));
  w.Value("rejected_messages_total", "{code=\"rate_limited\"}",
          static_cast<double>(Load(m.rate_limited)));
  w.Value("rejected_messages_total", "{code=\"target_not_allowed\"}",
          static_cast<double>(Load(m.target_not_allowed)));
  w.Header("dropped_total", "counter", "Frames or events that were not delivered, by reason.");
  w.Value("dropped_total", "{reason=\"slow_client_queue\"}",
          static_cast<double>(Load(m.frames_dropped_slow)));
  w.Value("dropped_total", "{reason=\"observe_full\"}",
          static_cast<double>(Load(m.observe_dropped)));
  w.Value("dropped_total", "{reason=\"lifecycle_full\"}",
          static_cast<double>(Load(m.lifecycle_dropped)));
  w.Value("dropped_total", "{reason=\"subscriber_ended\"}",
          static_cast<double>(Load(m.subscriber_events_dropped)));
  w.Counter("slow_clients_total", "Clients closed with 1013 because their queue filled.",
            Load(m.slow_clients_dropped));
  w.Counter("route_events_total", "MESSAGE events queued to subscribers.", Load(m.route_events));

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
