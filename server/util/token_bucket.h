// A token bucket for per-client message rates: `rate` tokens a second, at
// most `burst` saved up. Single-threaded (each client's own shard thread).
//
//   TokenBucket bucket(10, 20);
//   if (!bucket.Take(now)) Reject("rate_limited");
#ifndef SIGD_SERVER_UTIL_TOKEN_BUCKET_H_
#define SIGD_SERVER_UTIL_TOKEN_BUCKET_H_

#include <algorithm>
#include <chrono>

namespace sigd::util {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double rate, double burst, Clock::time_point now = Clock::now())
      : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

  // Takes one token if there is one.
  bool Take(Clock::time_point now) {
    Refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  void Refill(Clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    if (elapsed > 0) {
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now;
    }
  }

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_TOKEN_BUCKET_H_
