// sigd: wires the command line, the process limits and the signals to a
// Server. Everything else lives in the core library.
#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/config/config.h"
#include "server/logging.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

namespace {

// Open files are the ceiling on connections: take everything the hard limit
// allows.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    spdlog::debug("open-file limit raised from {} to {}", before, limit.rlim_cur);
  } else {
    spdlog::warn("could not raise the open-file limit from {}", before);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Signals are taken synchronously by this thread. Block them first, so
  // every thread (ours, gRPC's) inherits the mask and none can take them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Debian's Abseil is built with Mutex deadlock detection on, which keeps a
  // global lock-order graph updated on every lock gRPC and sigd take (seen in
  // profiles of route-rtt). The tests keep it; the shipped server does not
  // pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Large messages (up to --max-message-bytes, and the frames made of them)
  // come and go once per message. With glibc's defaults their memory went
  // back to the kernel again and again (blocks over 128 KiB are mapped and
  // unmapped, and a heap's free top is trimmed past 256 KiB once the
  // threshold has adapted), so each message paid its pages' faults: a
  // 256 KiB message relayed to one client took 0.99-1.35 ms of its I/O
  // thread, 0.63-0.76 ms with these settings. Blocks up to 2 MiB now come
  // from the heap, and a heap's free top is trimmed only past 8 MiB. Free
  // memory is so kept for reuse: up to 8 MiB at the top of each heap
  // (glibc keeps one per thread that allocates), plus freed blocks below
  // it, as for any smaller block.
  mallopt(M_MMAP_THRESHOLD, 2 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  std::vector<std::string> args(argv, argv + argc);
  absl::StatusOr<sigd::config::Config> config = sigd::config::LoadConfig(args);
  if (!config.ok()) {
    std::fprintf(stderr, "sigd: %s\n", std::string(config.status().message()).c_str());
    std::fprintf(stderr, "Run 'sigd --help' for the settings.\n");
    return 2;
  }
  if (config->exit_now) {
    std::fputs(config->output.c_str(), stdout);
    return 0;
  }
  // Logs go to stderr; stdout stays free for anything printed as data.
  sigd::ConfigureLogging(*config);
  RaiseOpenFileLimit();

  const std::string listen = config->listen;
  const std::string grpc_listen = config->grpc_listen;
  const std::string admin_listen = config->admin_listen;
  sigd::Server server(*std::move(config));
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "sigd: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto with_port = [](const std::string& hostport, uint16_t port) {
    std::string host = hostport.substr(0, hostport.rfind(':'));
    return (host.empty() ? "0.0.0.0" : host) + ":" + std::to_string(port);
  };
  spdlog::info("sigd ready: http/ws on {}, grpc on {}", with_port(listen, server.http_port()),
               with_port(grpc_listen, server.grpc_port()));
  if (server.admin_port() != 0) {
    spdlog::info("admin http on {}", with_port(admin_listen, server.admin_port()));
  }

  int received = 0;
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    if (absl::Status s = server.ReloadTokens(); !s.ok()) {
      spdlog::error("SIGHUP: {}; keeping the previous tokens", std::string(s.message()));
    }
    if (absl::Status s = server.ReloadTls(); !s.ok()) {
      spdlog::error("SIGHUP: {}; keeping the previous certificate", std::string(s.message()));
    }
    if (absl::Status s = server.ReloadJwtKeys(); !s.ok()) {
      spdlog::error("SIGHUP: JWT keys: {}; keeping the previous keys", std::string(s.message()));
    }
  }
  spdlog::info("received {}, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
  server.Stop();
  spdlog::info("stopped");
  return 0;
}
