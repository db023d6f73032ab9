// The one JSON line sigd_loadgen prints: field helpers shared by the modes.
#ifndef SIGD_BENCH_LOADGEN_REPORT_H_
#define SIGD_BENCH_LOADGEN_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/proc_stats.h"

namespace sigd::bench {

using Report = nlohmann::ordered_json;

// The run's settings, first in every line.
Report SettingsReport(const Options& options);

// p50/p99/p99.9/max in microseconds and the sample count.
Report LatencyReport(const LatencyHistogram& histogram);

// Server CPU between two samples, per delivery and as a share of one core.
// Null fields when either sample is missing (no --server-pid).
void AddServerCpu(Report& report, const std::optional<CpuSample>& before,
                  const std::optional<CpuSample>& after, double seconds, uint64_t deliveries);

// Per-process CPU between two samples of the same processes (in the order of
// `pids`), as report[key] = [{pid, cpu_ms, cpu_us_per_delivery, cpu_pct}, ...].
// Nothing when either sample is missing.
void AddProcessCpu(Report& report, const char* key, const std::vector<int>& pids,
                   const std::optional<std::vector<CpuSample>>& before,
                   const std::optional<std::vector<CpuSample>>& after, double seconds,
                   uint64_t deliveries);

// Rounds to `digits` decimals so the line stays readable.
double Round(double value, int digits);

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_REPORT_H_
