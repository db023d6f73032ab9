// State shared by the generator's threads during a run: the phase the main
// thread drives, the measurement start, and the publish counters every
// publisher (WebSocket or gRPC) updates. Everything here is atomic; the
// per-thread detail lives in each Worker.
#ifndef SIGD_BENCH_LOADGEN_SHARED_STATE_H_
#define SIGD_BENCH_LOADGEN_SHARED_STATE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>

#include "bench/loadgen/options.h"

namespace sigd::bench {

enum class Phase { kIdle, kPublishing, kStopped };

// One steady clock for stamping and receiving; ns since the generator started.
inline int64_t NowNs() {
  static const auto start = std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

struct SharedState {
  explicit SharedState(const Options& o) : options(o) {}

  // Takes one message from the measured budget (--messages); false when it is
  // used up. Warm-up messages are free.
  bool TakeBudget() {
    if (options.messages == 0 || !measuring.load(std::memory_order_relaxed)) return true;
    return budget.fetch_sub(1, std::memory_order_relaxed) > 0;
  }

  bool publishing() const { return phase.load(std::memory_order_relaxed) == Phase::kPublishing; }

  // Deliveries still expected: what the window (--rate 0) bounds.
  int64_t Outstanding() const {
    return static_cast<int64_t>(sent.load(std::memory_order_relaxed) * receivers_per_message) -
           static_cast<int64_t>(received());
  }

  const Options& options;
  std::atomic<Phase> phase{Phase::kIdle};
  std::atomic<bool> measuring{false};
  // Latency is recorded for messages stamped at or after this.
  std::atomic<int64_t> measure_start_ns{std::numeric_limits<int64_t>::max()};
  std::atomic<uint64_t> sent{0};      // payload messages published, every phase
  std::atomic<int64_t> budget{0};     // measured messages left when --messages is set
  uint64_t receivers_per_message = 1;
  std::function<uint64_t()> received;  // payload deliveries so far, all threads
};

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_SHARED_STATE_H_
