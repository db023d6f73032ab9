#include "bench/loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sigd::bench {

int LatencyHistogram::BucketOf(uint64_t value) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (value < kSub) return static_cast<int>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - kSubBits;
  const uint64_t top = value >> shift;  // in [kSub, 2 * kSub)
  return static_cast<int>((static_cast<uint64_t>(shift + 1) << kSubBits) + (top - kSub));
}

uint64_t LatencyHistogram::MidpointOf(int bucket) {
  constexpr int kSub = 1 << kSubBits;
  if (bucket < kSub) return static_cast<uint64_t>(bucket);
  const int shift = (bucket >> kSubBits) - 1;
  const uint64_t top = static_cast<uint64_t>(kSub + (bucket & (kSub - 1)));
  const uint64_t low = top << shift;
  return low + ((uint64_t{1} << shift) >> 1);
}

void LatencyHistogram::Record(int64_t ns) {
  const uint64_t value = ns < 0 ? 0 : static_cast<uint64_t>(ns);
  ++counts_[static_cast<std::size_t>(BucketOf(value))];
  ++count_;
  max_ = std::max(max_, static_cast<int64_t>(value));
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[static_cast<std::size_t>(i)];
    if (seen >= rank) {
      return std::min(static_cast<int64_t>(MidpointOf(i)), max_);
    }
  }
  return max_;
}

}  // namespace sigd::bench
