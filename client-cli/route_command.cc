#include "client-cli/route_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <utility>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client-cli/connection.h"
#include "client-cli/interrupt_watcher.h"
#include "client-cli/kill_switch.h"
#include "client-cli/route_handler.h"
#include "client-cli/stderr_log.h"
#include "client-cli/text_util.h"
#include "client-cli/worker_pool.h"

namespace sigd::cli {
namespace {

constexpr size_t kMaxConcurrency = 256;
constexpr size_t kMaxPendingLimit = 1 << 20;

// A started with stdin, stdout or stderr closed would hand those numbers to
// the first pipes it makes, and a command's stdin or stdout would then be
// the wrong file. /dev/null fills the gaps.
void EnsureStandardFds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      ::open("/dev/null", O_RDWR);  // takes the lowest free number: fd
    }
  }
}

// A stream the server ended or lost: worth another try with --reconnect.
// Refusals that a retry cannot change (a bad route, a wrong token) are not.
constexpr std::chrono::milliseconds kFirstRetry{500};
constexpr std::chrono::milliseconds kLastRetry{10000};

bool Retryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
      return true;
    default:
      return false;
  }
}

std::string Plural(size_t n, const char* word) {
  return absl::StrCat(n, " ", word, n == 1 ? "" : "s");
}

}  // namespace

RouteCommand::RouteCommand(CLI::App& parent, const GlobalOptions& globals)
    : Command(parent, "route",
              "Handle a signal route: run a shell command for each message "
              "and send its output back to the sender",
              globals) {
  app_->add_option("path", paths_,
                   "route to handle: a path (/messages) or a prefix "
                   "(/chat/*)");
  app_->add_option("-r,--route", routes_, "another route; repeat for several");
  app_->add_option("--exec", exec_,
                   "command run by /bin/sh -c for each message: the event "
                   "as a JSON line on stdin; SIGD_CLIENT_ID, SIGD_PATH, "
                   "SIGD_ROUTE, SIGD_MESSAGE (compact JSON) and SIGD_SERVER "
                   "in its environment; its stdout, if any and if it exits "
                   "0, goes back to the sender (one trailing newline "
                   "removed)")
      ->required();
  app_->add_option("-g,--group", group_,
                   "share events with the handlers of this group (one each)");
  app_->add_option("-n,--concurrency", concurrency_,
                   "commands run at once; later messages wait in order")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, kMaxConcurrency));
  app_->add_option("--exec-timeout", exec_timeout_seconds_,
                   "seconds a command may run before it is killed")
      ->capture_default_str()
      ->check([](const std::string& value) -> std::string {
        double seconds = 0;
        if (!CLI::detail::lexical_cast(value, seconds) || !(seconds > 0) ||
            seconds > 1e9) {
          return "must be a positive number of seconds";
        }
        return "";
      });
  app_->add_option("--max-pending", max_pending_,
                   "messages that may wait for a free worker; beyond that "
                   "they are dropped, with a line on stderr")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, kMaxPendingLimit));
  app_->add_flag("--reconnect", reconnect_,
                 "when the stream ends (sigd restarted, network lost), subscribe "
                 "again, waiting 0.5 s, then up to 10 s between tries; running "
                 "commands carry on");
  app_->add_flag("--observe", observe_,
                 "receive copies only: messages are still handled as if no "
                 "route held the path, and the command answers as well");
}

std::vector<std::string> RouteCommand::Routes() const {
  std::vector<std::string> all = paths_;
  all.insert(all.end(), routes_.begin(), routes_.end());
  return all;
}

void RouteCommand::Validate() {
  const std::vector<std::string> routes = Routes();
  if (routes.empty()) {
    throw CLI::ValidationError("route needs a path to handle (sigctl route "
                               "/path --exec CMD)");
  }
  for (const std::string& route : routes) {
    if (route.empty() || route[0] != '/') {
      throw CLI::ValidationError(
          absl::StrCat("route \"", route, "\" must start with /"));
    }
  }
  if (exec_.empty()) throw CLI::ValidationError("--exec must not be empty");
  if (!IsValidUtf8(group_)) {
    throw CLI::ValidationError("--group is not valid UTF-8");
  }
}

grpc::Status RouteCommand::Subscribe(Connection& connection,
                                     const sigd::v1::SubscribeSignalsRequest& request,
                                     InterruptWatcher& watcher,
                                     const std::vector<std::string>& routes, WorkerPool& pool,
                                     RouteHandler& handler, uint64_t& dropped,
                                     bool& subscribed) {
  grpc::ClientContext context;
  connection.PrepareStream(context);
  watcher.SetAction([&context] { context.TryCancel(); });
  // A signal that came before the action was in place.
  if (watcher.interrupted()) context.TryCancel();
  std::unique_ptr<grpc::ClientReader<sigd::v1::SignalEvent>> reader =
      connection.stub().SubscribeSignals(&context, request);
  auto event = std::make_unique<sigd::v1::SignalEvent>();
  while (reader->Read(event.get())) {
    if (event->kind() == sigd::v1::SUBSCRIBED) {
      subscribed = true;
      std::string line = absl::StrCat(observe_ ? "observing " : "handling ",
                                      absl::StrJoin(routes, ", "));
      if (!group_.empty()) absl::StrAppend(&line, " (group ", group_, ")");
      LogLine(EscapeControl(line));
      continue;
    }
    if (event->kind() != sigd::v1::MESSAGE) continue;
    const std::string client = EscapeControl(event->client().id());
    std::shared_ptr<const sigd::v1::SignalEvent> shared = std::move(event);
    event = std::make_unique<sigd::v1::SignalEvent>();
    if (!pool.TrySubmit([&handler, shared] { handler.Handle(*shared); })) {
      ++dropped;
      LogLine(absl::StrCat("route: queue full (", max_pending_,
                           " waiting); dropped a message from client ",
                           client, " (", dropped, " dropped so far)"));
    }
  }
  grpc::Status status = reader->Finish();
  watcher.SetAction(nullptr);  // `context` dies with this scope
  return status;
}

absl::Status RouteCommand::Run() {
  // As for tail: until the stream exists an interrupt simply ends the
  // program, successfully. The watcher comes first so that every thread
  // (gRPC's, the workers) inherits the blocked SIGINT/SIGTERM.
  InterruptWatcher watcher;
  watcher.SetAction([] { std::_Exit(0); });
  // A command that exits without reading all of its stdin must not kill
  // sigctl with SIGPIPE; the write fails with EPIPE instead. Commands start
  // with the default disposition again (shell_runner.h).
  std::signal(SIGPIPE, SIG_IGN);
  EnsureStandardFds();

  Connection connection(globals_);
  // With --reconnect a sigd that is not up yet is waited for, as one that
  // restarts later is.
  if (absl::Status connected = connection.WaitUntilConnected();
      !connected.ok() && !reconnect_) {
    return connected;
  }

  const std::vector<std::string> routes = Routes();
  sigd::v1::SubscribeSignalsRequest request;
  for (const std::string& route : routes) request.add_routes(route);
  request.set_mode(observe_ ? sigd::v1::SubscribeSignalsRequest::OBSERVE
                            : sigd::v1::SubscribeSignalsRequest::HANDLE);
  request.set_group(group_);
  request.add_kinds(sigd::v1::MESSAGE);

  KillSwitch stop;
  RouteHandlerOptions options;
  options.command = exec_;
  options.exec_timeout = std::chrono::ceil<std::chrono::milliseconds>(
      std::chrono::duration<double>(exec_timeout_seconds_));
  options.server = globals_.server;
  options.abort_fd = stop.fd();
  RouteHandler handler(connection, std::move(options));
  // Declared after what its tasks use, so it is joined before they go.
  WorkerPool pool(concurrency_, max_pending_);

  bool subscribed = false;
  uint64_t dropped = 0;
  grpc::Status status;
  std::chrono::milliseconds backoff = kFirstRetry;
  while (true) {
    bool subscribed_now = false;
    status = Subscribe(connection, request, watcher, routes, pool, handler, dropped,
                       subscribed_now);
    subscribed = subscribed || subscribed_now;
    if (subscribed_now) backoff = kFirstRetry;
    if (watcher.interrupted() || status.ok() || !reconnect_ || !Retryable(status.error_code())) {
      break;
    }
    LogLine(absl::StrCat("route: stream ended (", OneLine(FormatGrpcStatus(status)),
                         "); reconnecting in ", backoff.count(), " ms"));
    // The wait ends early on SIGINT/SIGTERM.
    std::mutex mu;
    std::condition_variable wake;
    bool woken = false;
    watcher.SetAction([&] {
      std::lock_guard lock(mu);
      woken = true;
      wake.notify_all();
    });
    {
      std::unique_lock lock(mu);
      // interrupted(): a signal between the check above and SetAction.
      wake.wait_for(lock, backoff, [&] { return woken || watcher.interrupted(); });
    }
    watcher.SetAction(nullptr);
    if (watcher.interrupted()) break;
    backoff = std::min(backoff * 2, kLastRetry);
  }
  const bool interrupted = watcher.interrupted();

  // Stopping. A (further) signal now kills the commands still running.
  watcher.SetAction([&stop] { stop.Trigger(); });
  if (size_t discarded = pool.DiscardPending(); discarded > 0) {
    LogLine(absl::StrCat("route: stopping; dropped ",
                         Plural(discarded, "waiting message")));
  }
  if (size_t running = handler.Stop(); running > 0) {
    LogLine(absl::StrCat("route: stopping; waiting for ",
                         Plural(running, "running command"),
                         " (interrupt again to kill)"));
  }
  pool.Join();
  watcher.SetAction(nullptr);  // `stop` dies with this scope

  if (interrupted || status.ok()) return absl::OkStatus();
  if (!subscribed) return connection.CallError(status);
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("stream ended: ", FormatGrpcStatus(status)));
}

}  // namespace sigd::cli
