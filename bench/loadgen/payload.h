// Benchmark payloads. Each published message carries who sent it, its
// sequence number and when it was sent (nanoseconds of the generator's steady
// clock), so a receiver can count losses and reorders and measure latency
// without any shared state with the sender:
//
//   p<publisher>:<seq>:<send ns>xxxxxx   (padded with 'x' to the chosen size)
//
// Readiness probes are "r<n>" and are never counted as deliveries.
#ifndef SIGD_BENCH_LOADGEN_PAYLOAD_H_
#define SIGD_BENCH_LOADGEN_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sigd::bench {

struct Payload {
  uint32_t publisher = 0;
  uint64_t seq = 0;
  int64_t send_ns = 0;
};

// The frame text a receiver gets: at least `size` bytes (longer only when the
// header alone does not fit).
std::string FormatPayload(const Payload& payload, std::size_t size);

// The inbound WebSocket message that makes a server broadcast `text`:
// {"message":"<text>"}. `text` must need no JSON escaping (payloads and
// probes never do).
std::string InboundMessage(std::string_view text);

// Parses a received frame; nullopt for anything that is not a payload.
std::optional<Payload> ParsePayload(std::string_view text);

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_PAYLOAD_H_
