// Process-wide counters. Every drop, rejection and close has one, so nothing
// is lost without a trace; the admin endpoint exports them. Relaxed atomics:
// counters are read for reporting, never for synchronisation.
#ifndef SIGD_SERVER_METRICS_H_
#define SIGD_SERVER_METRICS_H_

#include <atomic>
#include <cstdint>

namespace sigd {

struct Metrics {
  using Counter = std::atomic<uint64_t>;

  Counter connections_accepted{0};   // WebSocket upgrades completed
  Counter connections_closed{0};
  Counter handshakes_failed{0};
  Counter http_requests{0};
  Counter messages_in{0};
  Counter bytes_in{0};
  Counter frames_out{0};             // frames written to sockets
  Counter bytes_out{0};
  Counter invalid_messages{0};       // error frame invalid_message
  Counter unknown_client{0};         // error frame unknown_client
  Counter slow_client_closes{0};     // outbound queue full -> 1013
  Counter frames_dropped_slow{0};    // frames not queued because the client was dropped
  Counter route_events{0};           // MESSAGE events queued to subscribers
  Counter route_busy{0};             // HANDLE groups that could not take an event
  Counter no_handler{0};
  Counter observe_dropped{0};        // OBSERVE copies no member could take
  Counter lifecycle_dropped{0};      // CONNECT/DISCONNECT events no member could take
  Counter subscriber_events_dropped{0};  // queued events lost when a stream ended
  Counter signals_sent{0};           // SendSignal calls that queued a frame
};

}  // namespace sigd

#endif  // SIGD_SERVER_METRICS_H_
