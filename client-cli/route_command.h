// sigctl route: a signal-route handler in one line. Holds routes with
// SubscribeSignals (HANDLE, or OBSERVE with --observe) and, for each MESSAGE
// event, runs a shell command that answers the sender (see route_handler.h
// for the command's environment, stdin and answer).
//
//   sigctl route /messages --exec ./answer.sh
//   sigctl route /chat/* --route /rooms/* --group bots --concurrency 4 \
//       --exec 'printf "you said %s" "$SIGD_MESSAGE"'
//
// Once SUBSCRIBED arrives it prints "sigctl: handling /messages (group g)"
// on stderr. Up to --concurrency commands run at once; later events wait in
// arrival order, at most --max-pending of them; beyond that an event is
// dropped with a line on stderr. A failing command (exit status not 0,
// killed, past --exec-timeout, cannot start) is one line on stderr and the
// handler goes on.
//
// SIGINT/SIGTERM: stop taking events, drop those still waiting (counted on
// stderr), let running commands finish (each is still bounded by
// --exec-timeout; a second signal kills them at once) and exit 0. A stream
// the server ends (shutdown) exits 1 with one line, as `sigctl tail` does;
// with --reconnect it subscribes again instead (backoff 0.5 s to 10 s), so a
// handler outlives a restart of sigd.
#ifndef SIGD_CLIENT_CLI_ROUTE_COMMAND_H_
#define SIGD_CLIENT_CLI_ROUTE_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "client-cli/command.h"
#include "signal.pb.h"

namespace sigd::cli {

class Connection;
class InterruptWatcher;
class RouteHandler;
class WorkerPool;

class RouteCommand : public Command {
 public:
  RouteCommand(CLI::App& parent, const GlobalOptions& globals);

  void Validate() override;
  absl::Status Run() override;

 private:
  // The positional paths, then every --route.
  std::vector<std::string> Routes() const;
  // One SubscribeSignals stream, until it ends: events go to `pool`.
  grpc::Status Subscribe(Connection& connection,
                         const sigd::v1::SubscribeSignalsRequest& request,
                         InterruptWatcher& watcher, const std::vector<std::string>& routes,
                         WorkerPool& pool, RouteHandler& handler, uint64_t& dropped,
                         bool& subscribed);

  std::vector<std::string> paths_;
  std::vector<std::string> routes_;
  std::string exec_;
  std::string group_;
  size_t concurrency_ = 1;
  double exec_timeout_seconds_ = 30;
  size_t max_pending_ = 1024;
  bool observe_ = false;
  bool reconnect_ = false;
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_ROUTE_COMMAND_H_
