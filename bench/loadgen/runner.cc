#include "bench/loadgen/runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/grpc_driver.h"
#include "bench/loadgen/proc_stats.h"
#include "bench/loadgen/shared_state.h"
#include "bench/loadgen/worker.h"

namespace sigd::bench {
namespace {

constexpr double kMaxDrainSeconds = 60;

// A failure that ends the run with {"ok":false,"error":...}.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void SleepSeconds(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, s)));
}

double SecondsSince(int64_t start_ns) { return static_cast<double>(NowNs() - start_ns) / 1e9; }

class Runner {
 public:
  explicit Runner(const Options& o) : o_(o), shared_(o) {
    shared_.receivers_per_message =
        o.mode == Mode::kRouteRtt ? 1 : static_cast<uint64_t>(o.clients);
    for (int t = 0; t < o.threads; ++t) {
      workers_.push_back(std::make_unique<Worker>(t, shared_));
    }
    for (int i = 0; i < o.clients; ++i) {
      workers_[static_cast<std::size_t>(i % o.threads)]->AddClient(static_cast<uint32_t>(i));
    }
    shared_.received = [this] {
      uint64_t sum = 0;
      for (const auto& w : workers_) sum += w->received();
      return sum;
    };
    for (auto& w : workers_) w->Start();
  }

  Report Run() {
    report_ = SettingsReport(o_);
    if (o_.mode == Mode::kGrpc || o_.mode == Mode::kRouteRtt) ConnectGrpc();
    if (o_.mode == Mode::kIdle) {
      RunIdle();
    } else {
      RunPublishing();
    }
    report_["ok"] = true;
    return report_;
  }

  Report& report() { return report_; }

  void StopPublishing() {
    shared_.phase.store(Phase::kStopped);
    if (grpc_) grpc_->Stop();
  }

 private:
  // Each server process (a cluster: each node), in the order of --server-pid.
  std::optional<std::vector<CpuSample>> Cpu() const { return ReadProcessesCpu(o_.server_pids); }
  // Summed over the server processes; each one's figure in `each` if asked.
  std::optional<uint64_t> Rss(std::vector<uint64_t>* each = nullptr) const {
    const std::optional<std::vector<uint64_t>> values = ReadVmRssBytes(o_.server_pids);
    if (!values) return std::nullopt;
    if (each != nullptr) *each = *values;
    uint64_t sum = 0;
    for (uint64_t v : *values) sum += v;
    return sum;
  }
  static std::optional<CpuSample> Summed(const std::optional<std::vector<CpuSample>>& samples) {
    if (!samples) return std::nullopt;
    return SumSamples(*samples);
  }

  template <typename F>
  uint64_t Sum(F f) const {
    uint64_t sum = 0;
    for (const auto& w : workers_) sum += f(*w);
    return sum;
  }

  std::string FirstWorkerError() const {
    for (const auto& w : workers_) {
      if (std::string e = w->first_error(); !e.empty()) return e;
    }
    return "";
  }

  void ConnectGrpc() {
    grpc_ = std::make_unique<GrpcDriver>(shared_);
    std::string error;
    if (!grpc_->WaitConnected(5, error)) throw RunError(error);
    if (o_.mode == Mode::kRouteRtt && !grpc_->StartRouteHandler(o_.path, 5, error)) {
      throw RunError(error);
    }
  }

  // Connects clients [connected so far, upto) and waits, within the ramp's
  // deadline; any failed connection fails the run.
  void Ramp(uint32_t upto) {
    for (auto& w : workers_) w->Ramp(upto, std::max(1, o_.connect_concurrency / o_.threads));
    while (true) {
      const uint64_t connected = Sum([](const Worker& w) { return w.connected(); });
      const uint64_t failed = Sum([](const Worker& w) { return w.failed(); });
      if (failed > 0) {
        throw RunError(std::to_string(failed) + " connection(s) failed, " +
                       std::to_string(connected) + " up; first: " + FirstWorkerError());
      }
      if (connected >= upto) return;
      if (SecondsSince(ramp_start_ns_) > o_.connect_timeout_s) {
        throw RunError("only " + std::to_string(connected) + " of " + std::to_string(upto) +
                       " clients connected within " + std::to_string(o_.connect_timeout_s) +
                       " s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  void RampAll() {
    ramp_start_ns_ = NowNs();
    Ramp(static_cast<uint32_t>(o_.clients));
    const double seconds = SecondsSince(ramp_start_ns_);
    report_["connect_s"] = Round(seconds, 3);
  }

  // Probes until every client has received one: the server has registered
  // them all and the whole path works.
  void WaitReady() {
    const int64_t start = NowNs();
    for (int n = 1;; ++n) {
      if (o_.mode == Mode::kGrpc) {
        grpc_->Send("r" + std::to_string(n));
      } else {
        for (auto& w : workers_) w->Probe(n, o_.mode == Mode::kRouteRtt);
      }
      const int64_t next = NowNs() + 250'000'000;
      while (NowNs() < next) {
        if (Sum([](const Worker& w) { return w.probed(); }) >= static_cast<uint64_t>(o_.clients)) {
          report_["ready_s"] = Round(SecondsSince(start), 3);
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (SecondsSince(start) > o_.ready_timeout_s) {
        throw RunError("not ready: " +
                       std::to_string(Sum([](const Worker& w) { return w.probed(); })) + " of " +
                       std::to_string(o_.clients) + " clients got a probe within " +
                       std::to_string(o_.ready_timeout_s) + " s");
      }
    }
  }

  void RunIdle() {
    const auto base = Rss();
    ramp_start_ns_ = NowNs();
    const auto half_count = static_cast<uint32_t>(o_.clients / 2);
    Ramp(half_count);
    SleepSeconds(o_.settle_s);
    const auto half = Rss();
    Ramp(static_cast<uint32_t>(o_.clients));
    report_["connect_s"] = Round(SecondsSince(ramp_start_ns_) - o_.settle_s, 3);
    SleepSeconds(o_.settle_s);
    std::vector<uint64_t> full_each;
    const auto full = Rss(&full_each);
    const uint64_t closed = Sum([](const Worker& w) { return w.closed(); });
    report_["closed"] = closed;
    if (base && half && full) {
      report_["server_rss_base_bytes"] = *base;
      report_["server_rss_half_bytes"] = *half;
      report_["server_rss_full_bytes"] = *full;
      const double slope = (static_cast<double>(*full) - static_cast<double>(*half)) /
                           static_cast<double>(static_cast<uint32_t>(o_.clients) - half_count);
      report_["bytes_per_connection"] = Round(slope, 0);
      if (full_each.size() > 1) report_["server_rss_full_bytes_each"] = full_each;
    } else {
      report_["bytes_per_connection"] = nullptr;
    }
    if (closed > 0) report_["first_error"] = FirstWorkerError();
  }

  void RunPublishing() {
    RampAll();
    if (o_.wait_ready) WaitReady();

    shared_.phase.store(Phase::kPublishing);
    if (o_.mode == Mode::kGrpc) {
      grpc_->StartPublishing();
    } else {
      // Worker w holds publishers w, w + T, ...: staggered by w / rate, the
      // workers' sends interleave into one evenly spaced stream.
      const int64_t start = NowNs();
      const double interval_ns = o_.rate > 0 ? 1e9 / o_.rate : 0;
      for (std::size_t w = 0; w < workers_.size(); ++w) {
        workers_[w]->StartPublishing(start,
                                     static_cast<int64_t>(static_cast<double>(w) * interval_ns));
      }
    }
    SleepSeconds(o_.warmup_s);

    // Measurement window.
    shared_.budget.store(static_cast<int64_t>(o_.messages));
    const int64_t t0 = NowNs();
    shared_.measure_start_ns.store(t0);
    shared_.measuring.store(true);
    const auto cpu0 = Cpu();
    const auto extra0 = ReadProcessesCpu(o_.extra_pids);
    const auto self0 = ReadProcessCpu(getpid());
    const uint64_t recv0 = shared_.received();
    const uint64_t sent0 = shared_.sent.load();
    // The window's end is waited for in few wake-ups: a 1 ms poll here cost
    // the low-rate scenarios a thousand wake-ups a second on the cores the
    // server and the clients share. With --messages the budget is checked
    // every 10 ms, so the window may end up to 10 ms after the last message
    // (deliveries/s reads that much low; --messages is for counting).
    const int64_t window_end = t0 + static_cast<int64_t>(o_.duration_s * 1e9);
    const int64_t poll_ns = o_.messages > 0 ? 10'000'000 : window_end - t0;
    for (int64_t now = NowNs(); now < window_end; now = NowNs()) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(poll_ns, window_end - now)));
      if (o_.messages > 0 && shared_.budget.load() <= 0) break;
    }
    shared_.phase.store(Phase::kStopped);
    const int64_t t_end = NowNs();
    const uint64_t recv_end = shared_.received();
    const uint64_t sent_end = shared_.sent.load();

    // Let outstanding deliveries arrive: as long as they keep coming (a deep
    // window takes a while), until none came for --drain seconds.
    {
      uint64_t last = shared_.received();
      int64_t last_progress = NowNs();
      while (shared_.Outstanding() > 0 && SecondsSince(last_progress) < o_.drain_s &&
             SecondsSince(t_end) < kMaxDrainSeconds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (const uint64_t now = shared_.received(); now != last) {
          last = now;
          last_progress = NowNs();
        }
      }
    }
    const auto cpu1 = Cpu();
    const auto extra1 = ReadProcessesCpu(o_.extra_pids);
    const auto self1 = ReadProcessCpu(getpid());
    const int64_t t1 = NowNs();
    const uint64_t recv1 = shared_.received();
    if (grpc_) grpc_->Stop();

    WorkerReport merged;
    for (auto& w : workers_) {
      WorkerReport r = w->Collect().get();
      merged.latency.Merge(r.latency);
      merged.reordered += r.reordered;
      merged.foreign += r.foreign;
      merged.error_frames += r.error_frames;
      if (merged.first_foreign.empty()) merged.first_foreign = r.first_foreign;
    }

    const double window_s = static_cast<double>(t_end - t0) / 1e9;
    const uint64_t sent = shared_.sent.load();
    const uint64_t expected = sent * shared_.receivers_per_message;
    const uint64_t received = shared_.received();
    report_["window_s"] = Round(window_s, 3);
    report_["messages_per_sec"] = Round(static_cast<double>(sent_end - sent0) / window_s, 1);
    report_["deliveries_per_sec"] = Round(static_cast<double>(recv_end - recv0) / window_s, 1);
    report_["sent"] = sent;
    report_["expected"] = expected;
    report_["received"] = received;
    report_["lost"] = expected > received ? expected - received : 0;
    report_["reordered"] = merged.reordered;
    report_["latency_us"] = LatencyReport(merged.latency);
    const double measured_s = static_cast<double>(t1 - t0) / 1e9;
    AddServerCpu(report_, Summed(cpu0), Summed(cpu1), measured_s, recv1 - recv0);
    if (o_.server_pids.size() > 1) {
      AddProcessCpu(report_, "server_processes", o_.server_pids, cpu0, cpu1, measured_s,
                    recv1 - recv0);
    }
    if (!o_.extra_pids.empty()) {
      const auto e0 = Summed(extra0);
      const auto e1 = Summed(extra1);
      if (e0 && e1 && recv1 > recv0) {
        const double ns = static_cast<double>(e1->cpu_ns - e0->cpu_ns);
        report_["extra_cpu_us_per_delivery"] =
            Round(ns / 1000.0 / static_cast<double>(recv1 - recv0), 4);
        report_["extra_cpu_pct"] = Round(ns / (measured_s * 1e9) * 100.0, 1);
      } else {
        report_["extra_cpu_us_per_delivery"] = nullptr;
      }
      AddProcessCpu(report_, "extra_processes", o_.extra_pids, extra0, extra1, measured_s,
                    recv1 - recv0);
    }
    if (self0 && self1) {
      report_["loadgen_cpu_pct"] = Round(static_cast<double>(self1->cpu_ns - self0->cpu_ns) /
                                             static_cast<double>(t1 - t0) * 100.0,
                                         1);
    }
    report_["closed"] = Sum([](const Worker& w) { return w.closed(); });
    report_["error_frames"] = merged.error_frames;
    report_["foreign_frames"] = merged.foreign;
    if (!merged.first_foreign.empty()) report_["first_foreign"] = merged.first_foreign;
    if (grpc_) {
      report_["grpc_errors"] = grpc_->errors();
      if (o_.mode == Mode::kRouteRtt) {
        report_["route_events"] = grpc_->handled();
        report_["route_event_latency_us"] = LatencyReport(grpc_->event_latency());
      }
      if (std::string e = grpc_->first_error(); !e.empty()) report_["grpc_first_error"] = e;
    }
    if (std::string e = FirstWorkerError(); !e.empty()) report_["first_error"] = e;
  }

  const Options& o_;
  SharedState shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<GrpcDriver> grpc_;
  Report report_;
  int64_t ramp_start_ns_ = 0;
};

}  // namespace

Report RunBenchmark(const Options& options) {
  NowNs();  // start the clock
  Runner runner(options);
  try {
    return runner.Run();
  } catch (const RunError& e) {
    runner.StopPublishing();
    Report& report = runner.report();
    report["ok"] = false;
    report["error"] = e.what();
    return report;
  }
}

}  // namespace sigd::bench
