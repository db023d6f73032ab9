// A fixed-size log-linear histogram of latencies in nanoseconds: exact below
// 128 ns, then 128 buckets per power of two (under 0.8% relative error), so
// millions of samples cost no allocation and two threads' histograms merge by
// adding counts.
#ifndef SIGD_BENCH_LOADGEN_LATENCY_HISTOGRAM_H_
#define SIGD_BENCH_LOADGEN_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace sigd::bench {

class LatencyHistogram {
 public:
  void Record(int64_t ns);
  void Merge(const LatencyHistogram& other);

  // The value at quantile q in [0, 1] (bucket midpoint); 0 when empty.
  int64_t Quantile(double q) const;
  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }

 private:
  static constexpr int kSubBits = 7;
  static constexpr int kBuckets = 64 << kSubBits;
  static int BucketOf(uint64_t value);
  static uint64_t MidpointOf(int bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t max_ = 0;
};

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_LATENCY_HISTOGRAM_H_
