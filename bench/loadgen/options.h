// Command-line settings of sigd_loadgen (`sigd_loadgen --help` lists them).
#ifndef SIGD_BENCH_LOADGEN_OPTIONS_H_
#define SIGD_BENCH_LOADGEN_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sigd::bench {

enum class Mode {
  kFanout,    // K of N WebSocket clients publish; every client receives every message
  kIdle,      // N idle connections; server memory per connection
  kGrpc,      // SendSignal over gRPC publishes to N WebSocket clients
  kRouteRtt,  // clients message a HANDLE route; the generator answers via SendSignal
};

struct Options {
  Mode mode = Mode::kFanout;
  std::string host = "127.0.0.1";
  // WebSocket ports; client i connects to ports[i % ports.size()] (several:
  // the nodes of a cluster).
  std::vector<uint16_t> ports;
  std::string path = "/bench";
  std::string grpc;  // HOST:PORT of the control plane (grpc, route-rtt)

  int clients = 100;
  int publishers = 1;
  double rate = 100;  // messages per second in total; 0: as fast as the window allows
  int window = 16;    // messages in flight when rate is 0
  double duration_s = 5;
  uint64_t messages = 0;  // stop after this many measured messages (0: by duration)
  double warmup_s = 1;
  double drain_s = 2;
  std::size_t size = 64;
  // Upgrade requests carry what a browser's do (User-Agent, Origin, cookies,
  // an extension offer), not Beast's few headers: what a server keeps of
  // them per connection shows in the idle figure.
  bool browser_headers = false;

  int threads = 2;
  int connect_concurrency = 256;
  double connect_timeout_s = 30;
  int source_addresses = 8;  // clients bind to 127.0.0.2 .. 127.0.0.(1+this)
  bool wait_ready = false;
  double ready_timeout_s = 10;
  double settle_s = 1;  // idle: pause before each memory reading

  // Server processes whose CPU time (and VmRSS) the report sums: one server,
  // or every node of a cluster.
  std::vector<int> server_pids;
  // Measured over the same window but reported apart, not in the server
  // figures (e.g. the NATS server between the cluster's nodes).
  std::vector<int> extra_pids;
  std::string label;
  std::string scenario;
  int run = 0;
};

// Parses argv; on --help or a bad flag prints to the right stream and returns
// the exit code to use.
std::optional<int> ParseOptions(int argc, char** argv, Options& options);

const char* ModeName(Mode mode);

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_OPTIONS_H_
