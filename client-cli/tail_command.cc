#include "client-cli/tail_command.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client-cli/connection.h"
#include "client-cli/interrupt_watcher.h"
#include "client-cli/json_output.h"

namespace sigd::cli {

absl::StatusOr<std::vector<sigd::v1::EventKind>> ParseEventKinds(
    const std::vector<std::string>& names) {
  std::vector<sigd::v1::EventKind> kinds = {sigd::v1::MESSAGE};
  for (const std::string& name : names) {
    const std::string lower = absl::AsciiStrToLower(name);
    sigd::v1::EventKind kind;
    if (lower == "message") {
      kind = sigd::v1::MESSAGE;
    } else if (lower == "connect") {
      kind = sigd::v1::CONNECT;
    } else if (lower == "disconnect") {
      kind = sigd::v1::DISCONNECT;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown event kind \"", name,
          "\" (expected connect, disconnect or message)"));
    }
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      kinds.push_back(kind);
    }
  }
  return kinds;
}

TailCommand::TailCommand(CLI::App& parent, const GlobalOptions& globals)
    : Command(parent, "tail",
              "Hold signal routes and print their events as JSON lines",
              globals) {
  app_->add_option("-r,--route", routes_,
                   "route to hold: a path (/chat) or a prefix (/chat/*); "
                   "repeat for several")
      ->required();
  app_->add_flag("--observe", observe_,
                 "receive copies only; clients' messages are still handled "
                 "as if no route held the path");
  app_->add_option("-g,--group", group_,
                   "share events with the subscribers of this group");
  app_->add_option("-e,--events", events_,
                   "extra event kinds, comma-separated: connect, disconnect "
                   "(message is always included)")
      ->delimiter(',');
}

void TailCommand::Validate() {
  absl::StatusOr<std::vector<sigd::v1::EventKind>> kinds =
      ParseEventKinds(events_);
  if (!kinds.ok()) {
    throw CLI::ValidationError(std::string(kinds.status().message()));
  }
  for (const std::string& route : routes_) {
    if (route.empty() || route[0] != '/') {
      throw CLI::ValidationError(
          absl::StrCat("--route \"", route, "\" must start with /"));
    }
  }
}

absl::Status TailCommand::Run() {
  // Until the stream exists there is nothing to cancel or flush: an
  // interrupt while connecting simply ends the program, successfully, as a
  // later one does.
  InterruptWatcher watcher;
  watcher.SetAction([] { std::_Exit(0); });

  Connection connection(globals_);
  if (absl::Status connected = connection.WaitUntilConnected();
      !connected.ok()) {
    return connected;
  }

  sigd::v1::SubscribeSignalsRequest request;
  for (const std::string& route : routes_) request.add_routes(route);
  request.set_mode(observe_ ? sigd::v1::SubscribeSignalsRequest::OBSERVE
                            : sigd::v1::SubscribeSignalsRequest::HANDLE);
  request.set_group(group_);
  // Validate() has parsed these already; keep the StatusOr alive while
  // iterating over its value.
  const absl::StatusOr<std::vector<sigd::v1::EventKind>> kinds =
      ParseEventKinds(events_);
  if (!kinds.ok()) return kinds.status();
  for (sigd::v1::EventKind kind : *kinds) request.add_kinds(kind);

  grpc::ClientContext context;
  connection.PrepareStream(context);
  // TryCancel() is thread-safe and may come before the call starts; Read()
  // then returns false and Finish() reports CANCELLED.
  watcher.SetAction([&context] { context.TryCancel(); });
  std::unique_ptr<grpc::ClientReader<sigd::v1::SignalEvent>> reader =
      connection.stub().SubscribeSignals(&context, request);
  sigd::v1::SignalEvent event;
  bool subscribed = false;
  while (reader->Read(&event)) {
    subscribed = true;
    std::cout << ToJson(event) << "\n" << std::flush;
  }
  grpc::Status status = reader->Finish();
  watcher.SetAction(nullptr);  // `context` dies with this scope

  if (watcher.interrupted() || status.ok()) return absl::OkStatus();
  // Refused before SUBSCRIBED (bad route, lost connection): report it like
  // any failed call; afterwards the stream we had has ended.
  if (!subscribed) return connection.CallError(status);
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("stream ended: ", FormatGrpcStatus(status)));
}

}  // namespace sigd::cli
