#include "bench/loadgen/report.h"

#include <cmath>

namespace sigd::bench {

double Round(double value, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

Report SettingsReport(const Options& o) {
  Report r;
  if (!o.scenario.empty()) r["scenario"] = o.scenario;
  if (!o.label.empty()) r["label"] = o.label;
  if (o.run > 0) r["run"] = o.run;
  r["mode"] = ModeName(o.mode);
  r["path"] = o.path;
  r["clients"] = o.clients;
  // Several ports: the clients are spread over that many server nodes.
  if (o.ports.size() > 1) r["nodes"] = o.ports.size();
  if (o.mode != Mode::kIdle) {
    r["publishers"] = o.mode == Mode::kGrpc ? 0 : o.publishers;
    r["rate"] = o.rate;
    if (o.rate == 0) r["window"] = o.window;
    r["size"] = o.size;
  }
  r["threads"] = o.threads;
  return r;
}

Report LatencyReport(const LatencyHistogram& h) {
  auto us = [](int64_t ns) { return Round(static_cast<double>(ns) / 1000.0, 1); };
  Report r;
  r["p50"] = us(h.Quantile(0.50));
  r["p99"] = us(h.Quantile(0.99));
  r["p999"] = us(h.Quantile(0.999));
  r["max"] = us(h.max());
  r["samples"] = h.count();
  return r;
}

void AddServerCpu(Report& report, const std::optional<CpuSample>& before,
                  const std::optional<CpuSample>& after, double seconds, uint64_t deliveries) {
  if (!before || !after) {
    report["server_cpu_us_per_delivery"] = nullptr;
    report["server_cpu_pct"] = nullptr;
    return;
  }
  const double cpu_ns = static_cast<double>(after->cpu_ns - before->cpu_ns);
  const double slices = static_cast<double>(after->timeslices - before->timeslices);
  const double per = deliveries > 0 ? static_cast<double>(deliveries) : NAN;
  report["server_cpu_us_per_delivery"] =
      deliveries > 0 ? Report(Round(cpu_ns / 1000.0 / per, 4)) : Report(nullptr);
  report["server_cpu_pct"] = Round(cpu_ns / (seconds * 1e9) * 100.0, 1);
  report["server_cpu_ms"] = Round(cpu_ns / 1e6, 1);
  report["server_wakeups_per_delivery"] =
      deliveries > 0 ? Report(Round(slices / per, 5)) : Report(nullptr);
  const double user = static_cast<double>(after->user_ticks - before->user_ticks);
  const double system = static_cast<double>(after->system_ticks - before->system_ticks);
  report["server_kernel_share"] =
      user + system > 0 ? Report(Round(system / (user + system), 3)) : Report(nullptr);
  report["server_threads"] = after->threads;
}

void AddProcessCpu(Report& report, const char* key, const std::vector<int>& pids,
                   const std::optional<std::vector<CpuSample>>& before,
                   const std::optional<std::vector<CpuSample>>& after, double seconds,
                   uint64_t deliveries) {
  if (!before || !after || before->size() != pids.size() || after->size() != pids.size()) return;
  Report list = Report::array();
  for (std::size_t i = 0; i < pids.size(); ++i) {
    const double cpu_ns = static_cast<double>((*after)[i].cpu_ns - (*before)[i].cpu_ns);
    Report p;
    p["pid"] = pids[i];
    p["cpu_ms"] = Round(cpu_ns / 1e6, 1);
    p["cpu_us_per_delivery"] = deliveries > 0
                                   ? Report(Round(cpu_ns / 1000.0 / static_cast<double>(deliveries), 4))
                                   : Report(nullptr);
    p["cpu_pct"] = Round(cpu_ns / (seconds * 1e9) * 100.0, 1);
    p["threads"] = (*after)[i].threads;
    list.push_back(std::move(p));
  }
  report[key] = std::move(list);
}

}  // namespace sigd::bench
