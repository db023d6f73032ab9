#include "client-cli/info_command.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "client-cli/connection.h"
#include "client-cli/json_output.h"
#include "client-cli/text_util.h"

namespace sigd::cli {

InfoCommand::InfoCommand(CLI::App& parent, const GlobalOptions& globals)
    : Command(parent, "info", "Show the server's version, uptime and counts",
              globals) {
  app_->add_flag("--json", json_, "print the ServerInfo message as JSON");
}

absl::Status InfoCommand::Run() {
  Connection connection(globals_);
  grpc::ClientContext context;
  connection.PrepareUnaryCall(context);
  sigd::v1::GetServerInfoRequest request;
  sigd::v1::ServerInfo info;
  grpc::Status status =
      connection.stub().GetServerInfo(&context, request, &info);
  if (!status.ok()) return connection.CallError(status);

  if (json_ || globals_.json) {
    std::cout << ToJson(info) << "\n";
  } else {
    std::cout << "version: " << OneLine(info.version()) << "\n"
              << "node: " << OneLine(info.node_id()) << "\n"
              << "uptime: " << FormatDuration(info.uptime_seconds()) << "\n"
              << "clients: " << info.clients() << "\n"
              << "subscribers: " << info.subscribers() << "\n";
    // A cluster: the nodes that answered (the counts above are their sum).
    if (info.nodes_size() > 1) {
      std::cout << "nodes:";
      for (int i = 0; i < info.nodes_size(); ++i) {
        std::cout << (i == 0 ? " " : ", ") << OneLine(info.nodes(i));
      }
      std::cout << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace sigd::cli
