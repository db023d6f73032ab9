#include "client-cli/disconnect_command.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "client-cli/connection.h"
#include "client-cli/text_util.h"

namespace sigd::cli {
namespace {

// A close frame's payload is at most 125 bytes, two of which hold the code
// (RFC 6455 section 5.5).
constexpr size_t kMaxReasonBytes = 123;

}  // namespace

DisconnectCommand::DisconnectCommand(CLI::App& parent,
                                     const GlobalOptions& globals)
    : Command(parent, "disconnect", "Close one client's connection", globals) {
  app_->add_option("id", client_, "the client's id")->required();
  // The server checks the code against RFC 6455; sigctl does not keep a
  // second copy of that list.
  app_->add_option("--code", code_,
                   "WebSocket close code (default 1000, normal closure)");
  app_->add_option("--reason", reason_, "close reason sent to the client");
}

void DisconnectCommand::Validate() {
  if (reason_.size() > kMaxReasonBytes) {
    throw CLI::ValidationError(absl::StrCat(
        "--reason is ", reason_.size(), " bytes; a close frame holds at most ",
        kMaxReasonBytes));
  }
  if (!IsValidUtf8(reason_)) {
    throw CLI::ValidationError("--reason is not valid UTF-8");
  }
}

absl::Status DisconnectCommand::Run() {
  Connection connection(globals_);
  grpc::ClientContext context;
  connection.PrepareUnaryCall(context);
  sigd::v1::DisconnectClientRequest request;
  request.set_client_id(client_);
  request.set_code(code_);
  request.set_reason(reason_);
  sigd::v1::DisconnectClientResponse response;
  grpc::Status status =
      connection.stub().DisconnectClient(&context, request, &response);
  if (!status.ok()) return connection.CallError(status);
  if (!response.disconnected()) {
    return absl::NotFoundError(
        absl::StrCat("no such client: ", EscapeControl(client_)));
  }
  std::cout << (globals_.json ? "{\"disconnected\":true}" : "disconnected")
            << "\n";
  return absl::OkStatus();
}

}  // namespace sigd::cli
