#include "client-cli/route_handler.h"

#include <string.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client-cli/json_output.h"
#include "client-cli/shell_runner.h"
#include "client-cli/stderr_log.h"
#include "client-cli/text_util.h"

namespace sigd::cli {
namespace {

double Seconds(std::chrono::milliseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

std::string SignalName(int sig) {
  // sigabbrev_np is thread-safe, unlike strsignal.
  const char* name = ::sigabbrev_np(sig);
  return name != nullptr ? absl::StrCat(sig, " (SIG", name, ")")
                         : absl::StrCat(sig);
}

}  // namespace

std::string AnswerText(std::string output) {
  if (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

RouteHandler::RouteHandler(Connection& connection,
                           RouteHandlerOptions options)
    : connection_(connection), options_(std::move(options)) {}

size_t RouteHandler::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  return running_;
}

bool RouteHandler::BeginCommand() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  ++running_;
  return true;
}

void RouteHandler::EndCommand() {
  std::lock_guard<std::mutex> lock(mu_);
  --running_;
}

void RouteHandler::Handle(const sigd::v1::SignalEvent& event) {
  const std::string& client = event.client().id();
  const std::string who = absl::StrCat("client ", EscapeControl(client));
  if (!BeginCommand()) {
    LogLine(absl::StrCat("route: stopping; dropped a message from ", who));
    return;
  }

  ShellRequest request;
  request.command = options_.command;
  request.stdin_data = ToJson(event) + "\n";
  request.extra_env = {
      {"SIGD_CLIENT_ID", client},
      {"SIGD_PATH", event.path()},
      {"SIGD_ROUTE", event.route()},
      {"SIGD_MESSAGE", event.data().message_json()},
      {"SIGD_SERVER", options_.server},
  };
  request.timeout = options_.exec_timeout;
  request.max_output = kMaxAnswerBytes;
  request.abort_fd = options_.abort_fd;
  ShellResult result = RunShell(request);
  // Done before answering: once the sender has its answer, the command no
  // longer counts as running.
  EndCommand();

  switch (result.outcome) {
    case ShellResult::Outcome::kNotStarted:
      LogLine(absl::StrCat("route: cannot start /bin/sh for ", who, ": ",
                           result.error));
      return;
    case ShellResult::Outcome::kTimedOut:
      LogLine(absl::StrFormat(
          "route: command timed out after %gs for %s (killed)",
          Seconds(options_.exec_timeout), who));
      return;
    case ShellResult::Outcome::kAborted:
      LogLine(absl::StrCat("route: command killed for ", who,
                           " (sigctl is stopping)"));
      return;
    case ShellResult::Outcome::kSignaled:
      LogLine(absl::StrCat("route: command killed by signal ",
                           SignalName(result.term_signal), " for ", who));
      return;
    case ShellResult::Outcome::kExited:
      if (result.exit_code != 0) {
        LogLine(absl::StrCat("route: command exited ", result.exit_code,
                             " for ", who));
        return;
      }
      break;
  }

  if (result.output.empty()) return;  // nothing to say
  if (result.output_truncated) {
    LogLine(absl::StrCat("route: command output for ", who, " exceeds ",
                         kMaxAnswerBytes, " bytes; not sent"));
    return;
  }
  std::string text = AnswerText(std::move(result.output));
  // protobuf strings must be UTF-8; the server would reject the call.
  if (!IsValidUtf8(text)) {
    LogLine(absl::StrCat("route: command output for ", who,
                         " is not valid UTF-8; not sent"));
    return;
  }
  Answer(client, std::move(text));
}

void RouteHandler::Answer(const std::string& client, std::string text) {
  sigd::v1::SendSignalRequest request;
  request.set_client_id(client);
  request.set_text(std::move(text));
  grpc::ClientContext context;
  connection_.PrepareUnaryCall(context);
  sigd::v1::SendSignalResponse response;
  grpc::Status status =
      connection_.stub().SendSignal(&context, request, &response);
  if (!status.ok()) {
    LogLine(absl::StrCat("route: cannot answer client ", EscapeControl(client),
                         ": ", connection_.CallError(status).message()));
  } else if (response.delivered() == 0) {
    LogLine(absl::StrCat("route: client ", EscapeControl(client),
                         " is gone; answer not delivered"));
  }
}

}  // namespace sigd::cli
