// Process-wide counters and gauges. Every drop, rejection and close has one,
// so nothing is lost without a trace; the admin endpoint exports them in the
// Prometheus text format. Relaxed atomics: they are read for reporting, never
// for synchronisation. Values written on the hot path by one I/O thread live
// in that thread's own cache line (ShardGauges).
#ifndef SIGD_SERVER_METRICS_H_
#define SIGD_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace sigd {

// Why a WebSocket connection ended.
enum class CloseReason : int {
  kClient,        // the client closed (or went away cleanly)
  kReset,         // reset, EOF without a close, or another transport error
  kTooBig,        // 1009: message over the size limit
  kBadPayload,    // 1007: invalid UTF-8
  kProtocol,      // 1002: protocol violation
  kTimeout,       // no pong / handshake too slow
  kSlow,          // 1013: outbound queue full
  kDisconnected,  // DisconnectClient from a backend
  kShutdown,      // 1001: sigd shutting down
  kPolicy,        // 1008: sustained sending over the rate limit
  kCount,
};

inline constexpr std::array<std::string_view, static_cast<int>(CloseReason::kCount)>
    kCloseReasonNames = {"client",    "reset", "too_big",      "bad_payload", "protocol",
                         "timeout",   "slow",  "disconnected", "shutdown",    "policy"};

// Latency buckets in seconds, 50 us to 5 s.
inline constexpr std::array<double, 16> kLatencyBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0};

struct alignas(64) ShardGauges {
  std::atomic<int64_t> queued_frames{0};
  std::atomic<int64_t> queued_bytes{0};
  // SendSignal-to-socket-write latency, observed by this shard's thread.
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_buckets{};
  std::atomic<uint64_t> latency_count{0};
  std::atomic<uint64_t> latency_sum_ns{0};

  void ObserveLatency(std::chrono::nanoseconds d) {
    const double seconds = std::chrono::duration<double>(d).count();
    size_t i = 0;
    while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
    latency_buckets[i].fetch_add(1, std::memory_order_relaxed);
    latency_count.fetch_add(1, std::memory_order_relaxed);
    latency_sum_ns.fetch_add(static_cast<uint64_t>(d.count()), std::memory_order_relaxed);
  }
};

struct Metrics {
  using Counter = std::atomic<uint64_t>;
  static constexpr size_t kMaxShards = 256;

  Counter connections_accepted{0};   // WebSocket upgrades completed
  Counter handshakes_failed{0};
  Counter tls_handshakes_failed{0};  // TLS handshakes on the --listen port that failed
  Counter tls_reloads{0};            // certificate reloads that took effect
  Counter http_requests{0};
  Counter http_rejected{0};          // 4xx/5xx answered on the HTTP side
  Counter jwt_unauthorized{0};       // upgrades refused 401: no or invalid JWT
  Counter jwt_forbidden{0};          // upgrades refused 403: JWT "paths" excludes the path
  Counter messages_in{0};
  Counter bytes_in{0};
  Counter frames_out{0};             // frames written to sockets
  Counter bytes_out{0};
  Counter invalid_messages{0};       // error frame invalid_message
  Counter unknown_client{0};         // error frame unknown_client
  Counter cluster_unavailable{0};    // error frame cluster_unavailable
  Counter slow_clients_dropped{0};   // clients whose outbound queue filled (closed 1013)
  Counter frames_dropped_slow{0};    // queued frames lost when a slow client was dropped
  Counter frames_dropped_gone{0};    // queued or failed-write frames of a client that went away
  Counter route_events{0};           // MESSAGE events queued to subscribers
  Counter route_busy{0};             // HANDLE groups that could not take an event
  Counter no_handler{0};
  Counter observe_dropped{0};        // OBSERVE copies no member could take
  Counter lifecycle_dropped{0};      // CONNECT/DISCONNECT events no member could take
  Counter subscriber_events_dropped{0};  // queued events lost when a stream ended
  Counter signals_sent{0};           // SendSignal calls that queued a frame
  Counter admin_requests{0};
  Counter auth_failures{0};          // control-plane calls with a missing or wrong token
  Counter rate_limited{0};           // messages dropped by the per-client rate limit
  Counter target_not_allowed{0};     // path/clientId refused by --client-targeting
  // Cluster mode (--nats).
  Counter cluster_messages_in{0};    // valid messages from other nodes
  Counter cluster_messages_out{0};   // messages published to NATS
  Counter cluster_publish_failed{0};  // messages for other nodes NATS did not take (Tell)
  Counter cluster_dropped{0};        // malformed or oversized messages from NATS, dropped
  Counter cluster_partial{0};        // cluster-wide asks that ended without every node's answer
  Counter cluster_events_rejected{0};  // route events no holder on another node accepted in time
  std::atomic<int64_t> cluster_remote_routes{0};  // gauge: other nodes' subscriptions known here
  std::atomic<int64_t> cluster_nodes{0};      // gauge: nodes known, this one included (0: no --nats)
  std::atomic<int> cluster_connected{0};      // gauge: 1 while connected to NATS
  std::atomic<int> io_uring_threads{0};  // gauge: I/O threads sending through io_uring
  std::array<Counter, static_cast<int>(CloseReason::kCount)> closes{};

  std::array<ShardGauges, kMaxShards> shards;

  void CountClose(CloseReason reason) {
    closes[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace sigd

#endif  // SIGD_SERVER_METRICS_H_
