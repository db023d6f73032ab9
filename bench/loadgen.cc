// sigd_loadgen: the benchmark load generator of bench/. Opens N WebSocket
// clients against sigd or a peer server, publishes at a fixed rate (or as
// fast as a window allows), and prints one JSON line with deliveries/s,
// losses, latency and the server's CPU time per delivered frame. See
// bench/README.md.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/mutex.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/runner.h"

namespace {

// Thousands of clients need thousands of descriptors: take all we may.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  sigd::bench::Options options;
  if (std::optional<int> exit_code = sigd::bench::ParseOptions(argc, argv, options)) {
    return *exit_code;
  }
  RaiseOpenFileLimit();
  // As in sigd's main: no Mutex deadlock bookkeeping in gRPC's locks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const sigd::bench::Report report = sigd::bench::RunBenchmark(options);
  const std::string line = report.dump();
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
  const bool ok = report.value("ok", false);
  if (!ok) std::fprintf(stderr, "sigd_loadgen: %s\n", report.value("error", "failed").c_str());
  // Skip orderly teardown: closing thousands of sockets is the kernel's job,
  // and waiting for each close handshake would only slow the harness down.
  std::_Exit(ok ? 0 : 1);
}
