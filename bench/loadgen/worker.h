// One I/O thread of the generator: its own io_context and its shard of the
// clients (client i lives on worker i % threads). It ramps its clients up
// with a bound on concurrent handshakes, publishes from its share of the
// publishers (paced, or bounded by the window), and keeps the receive-side
// statistics of its clients without locks; the main thread reads them through
// atomics during the run and through Collect() at the end.
#ifndef SIGD_BENCH_LOADGEN_WORKER_H_
#define SIGD_BENCH_LOADGEN_WORKER_H_

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/loadgen/latency_histogram.h"
#include "bench/loadgen/shared_state.h"
#include "bench/loadgen/ws_client.h"

namespace sigd::bench {

struct WorkerReport {
  LatencyHistogram latency;
  uint64_t reordered = 0;   // a sequence number lower than one already seen
  uint64_t foreign = 0;     // frames that are neither payloads nor probes
  uint64_t error_frames = 0;  // {"error":...} frames from the server
  std::string first_foreign;
};

class Worker : public FrameSink {
 public:
  Worker(int id, SharedState& shared);
  ~Worker() override;

  void AddClient(uint32_t index);  // before Start()
  void Start();

  // Connects this worker's clients whose index is below `upto`, at most
  // `concurrency` at a time. Progress shows in connected()/failed().
  void Ramp(uint32_t upto, int concurrency);
  // Sends probe n: from client 0 (fanout) or from every client (route-rtt).
  void Probe(int n, bool every_client);
  // Publishes until the phase ends. At a fixed rate this worker's messages
  // go out from `start_ns + phase_ns` on, evenly spaced: the runner staggers
  // the workers' phases so that together they send one message every
  // 1/rate seconds, not one from each worker at the same instant (which
  // would make every other route-rtt round trip wait behind another).
  void StartPublishing(int64_t start_ns, int64_t phase_ns);
  std::future<WorkerReport> Collect();

  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  uint32_t connected() const { return connected_.load(std::memory_order_relaxed); }
  uint32_t failed() const { return failed_.load(std::memory_order_relaxed); }
  uint32_t closed() const { return closed_.load(std::memory_order_relaxed); }
  uint32_t probed() const { return probed_.load(std::memory_order_relaxed); }
  std::string first_error() const;

 private:
  void OnFrame(WsClient& client, std::string_view text) override;
  void OnClosed(WsClient& client, const boost::system::error_code& ec) override;
  void ConnectMore();
  void RecordError(std::string what);
  bool PublishOne();
  void SchedulePace();
  void OnPace();
  void ScheduleWindowTick();
  void PumpWindow();

  const int id_;
  SharedState& shared_;
  const Options& options_;
  boost::asio::io_context ioc_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
  std::vector<std::shared_ptr<WsClient>> clients_;
  std::vector<WsClient*> publishers_;
  std::vector<uint64_t> publisher_seq_;

  // Ramp (io thread only).
  std::size_t ramp_cursor_ = 0;
  uint32_t ramp_upto_ = 0;
  int ramp_limit_ = 0;
  int ramp_in_flight_ = 0;

  // Publishing (io thread only).
  boost::asio::steady_timer timer_;
  double local_rate_ = 0;
  int64_t pace_start_ns_ = 0;
  uint64_t paced_ = 0;
  std::size_t next_publisher_ = 0;
  bool pumping_ = false;

  WorkerReport report_;  // io thread only

  std::atomic<uint64_t> received_{0};
  std::atomic<uint32_t> connected_{0};
  std::atomic<uint32_t> failed_{0};
  std::atomic<uint32_t> closed_{0};
  std::atomic<uint32_t> probed_{0};
  mutable std::mutex error_mutex_;
  std::string first_error_;  // guarded by error_mutex_
};

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_WORKER_H_
