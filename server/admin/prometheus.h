// Renders sigd's metrics in the Prometheus text exposition format (0.0.4).
// Every metric is named sigd_..., with # HELP and # TYPE; no label takes a
// per-client or per-path value, so the series count is fixed.
#ifndef SIGD_SERVER_ADMIN_PROMETHEUS_H_
#define SIGD_SERVER_ADMIN_PROMETHEUS_H_

#include <cstdint>
#include <string>

#include "server/metrics.h"

namespace sigd::admin {

struct Gauges {
  uint64_t clients = 0;
  uint64_t subscribers = 0;
  size_t shards = 1;
  bool ready = true;
};

std::string RenderPrometheus(const Metrics& metrics, const Gauges& gauges);

}  // namespace sigd::admin

#endif  // SIGD_SERVER_ADMIN_PROMETHEUS_H_
