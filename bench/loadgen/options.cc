#include "bench/loadgen/options.h"

#include <map>

#include "CLI/CLI.hpp"

namespace sigd::bench {

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kFanout: return "fanout";
    case Mode::kIdle: return "idle";
    case Mode::kGrpc: return "grpc";
    case Mode::kRouteRtt: return "route-rtt";
  }
  return "?";
}

std::optional<int> ParseOptions(int argc, char** argv, Options& o) {
  CLI::App app{
      "sigd_loadgen: WebSocket load generator for sigd and its peers. Prints one JSON line."};
  const std::map<std::string, Mode> modes = {{"fanout", Mode::kFanout},
                                             {"idle", Mode::kIdle},
                                             {"grpc", Mode::kGrpc},
                                             {"route-rtt", Mode::kRouteRtt}};
  std::string mode = "fanout";
  app.add_option("--mode", mode, "fanout, idle, grpc or route-rtt")
      ->check(CLI::IsMember({"fanout", "idle", "grpc", "route-rtt"}))
      ->capture_default_str();
  app.add_option("--host", o.host, "server address (loopback)")->capture_default_str();
  app.add_option("--port", o.ports,
                 "server WebSocket port, or a comma-separated list (client i connects to the "
                 "(i mod n)-th: the nodes of a cluster)")
      ->required()
      ->delimiter(',');
  app.add_option("--path", o.path, "WebSocket path the clients connect on")
      ->capture_default_str();
  app.add_option("--grpc", o.grpc, "gRPC control plane HOST:PORT (grpc, route-rtt)");
  app.add_option("--clients", o.clients, "WebSocket connections (N)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--publishers", o.publishers,
                 "publishing clients among them (K; the first K); grpc mode: ignored")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--rate", o.rate, "messages per second in total; 0 = as fast as --window allows")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--window", o.window, "messages in flight when --rate is 0")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds of measured publishing (with --messages: the upper bound)")
      ->capture_default_str();
  app.add_option("--messages", o.messages, "stop after this many measured messages (0: by --duration)")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds of publishing before measuring")
      ->capture_default_str();
  app.add_option("--drain", o.drain_s, "after publishing, stop waiting for outstanding deliveries once none came for this long")
      ->capture_default_str();
  app.add_option("--size", o.size, "payload bytes per frame")->capture_default_str();
  app.add_flag("--browser-headers", o.browser_headers,
               "upgrade requests carry a browser's headers (User-Agent, Origin, Cookie, an "
               "extension offer) rather than Beast's few");
  app.add_option("--threads", o.threads, "I/O threads, one io_context each")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  app.add_option("--connect-concurrency", o.connect_concurrency, "connections being set up at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--connect-timeout", o.connect_timeout_s, "deadline for the whole ramp, seconds")
      ->capture_default_str();
  app.add_option("--source-addresses", o.source_addresses,
                 "clients bind to 127.0.0.2 .. 127.0.0.(1+A), beating one address's ephemeral ports")
      ->check(CLI::Range(1, 250))
      ->capture_default_str();
  app.add_flag("--wait-ready", o.wait_ready,
               "before publishing, probe until every client has received a frame");
  app.add_option("--ready-timeout", o.ready_timeout_s, "deadline for --wait-ready, seconds")
      ->capture_default_str();
  app.add_option("--settle", o.settle_s, "idle: seconds to wait before each memory reading")
      ->capture_default_str();
  app.add_option("--server-pid", o.server_pids,
                 "server process, or a comma-separated list whose figures are summed: CPU from "
                 "schedstat, memory from status")
      ->delimiter(',');
  app.add_option("--extra-pid", o.extra_pids,
                 "processes measured over the same window but reported apart "
                 "(extra_cpu_us_per_delivery), comma-separated")
      ->delimiter(',');
  app.add_option("--label", o.label, "copied into the report (e.g. the server's name)");
  app.add_option("--scenario", o.scenario, "copied into the report");
  app.add_option("--run", o.run, "copied into the report (which repetition this is)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  o.mode = modes.at(mode);
  if ((o.mode == Mode::kGrpc || o.mode == Mode::kRouteRtt) && o.grpc.empty()) {
    std::fprintf(stderr, "--mode %s needs --grpc HOST:PORT\n", ModeName(o.mode));
    return 2;
  }
  if (o.mode == Mode::kFanout && o.publishers > o.clients) {
    std::fprintf(stderr, "--publishers must not exceed --clients\n");
    return 2;
  }
  if (o.mode == Mode::kGrpc) o.publishers = 0;
  if (o.mode == Mode::kRouteRtt) o.publishers = o.clients;
  return std::nullopt;
}

}  // namespace sigd::bench
