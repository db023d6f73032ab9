#include "client-cli/list_command.h"

#include <array>
#include <iostream>
#include <unordered_set>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "client-cli/connection.h"
#include "client-cli/json_output.h"
#include "client-cli/text_util.h"

namespace sigd::cli {
namespace {

constexpr size_t kColumns = 8;
using Row = std::array<std::string, kColumns>;
constexpr size_t kNodeColumn = kColumns - 1;

std::string ProtocolName(sigd::v1::Protocol protocol) {
  switch (protocol) {
    case sigd::v1::WS:
      return "ws";
    case sigd::v1::WSS:
      return "wss";
    default:
      return "-";
  }
}

Row ClientRow(const sigd::v1::Client& client) {
  return {EscapeControl(client.id()),
          EscapeControl(client.path()),
          EscapeControl(client.remote_address()),
          ProtocolName(client.protocol()),
          client.has_connected_at() ? FormatUtc(client.connected_at().seconds())
                                    : "-",
          absl::StrCat(client.messages_in()),
          absl::StrCat(client.messages_out()),
          EscapeControl(client.node())};
}

}  // namespace

std::string FormatClientTable(const std::vector<sigd::v1::Client>& clients, bool with_node) {
  std::vector<Row> rows;
  rows.push_back({"ID", "PATH", "REMOTE", "PROTO", "CONNECTED", "IN", "OUT", "NODE"});
  for (const sigd::v1::Client& client : clients) {
    rows.push_back(ClientRow(client));
  }
  const size_t columns = with_node ? kColumns : kNodeColumn;
  std::array<size_t, kColumns> widths{};
  for (const Row& row : rows) {
    for (size_t i = 0; i < columns; ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      line += row[i];
      if (i + 1 < columns) {
        line.append(widths[i] - DisplayWidth(row[i]) + 2, ' ');
      }
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

ListCommand::ListCommand(CLI::App& parent, const GlobalOptions& globals)
    : Command(parent, "list", "List connected clients", globals) {
  app_->add_option("-p,--path", path_, "only clients on this exact path");
  app_->add_flag("--json", json_, "print a JSON array of clients");
}

absl::Status ListCommand::Run() {
  Connection connection(globals_);
  std::vector<sigd::v1::Client> clients;
  sigd::v1::ListClientsRequest request;
  request.set_path(path_);
  // A server that hands back a token it already gave would make this loop
  // forever; remember them and stop with an error instead.
  std::unordered_set<std::string> seen_tokens;
  uint32_t nodes = 1;
  while (true) {
    grpc::ClientContext context;
    connection.PrepareUnaryCall(context);
    sigd::v1::ListClientsResponse response;
    grpc::Status status =
        connection.stub().ListClients(&context, request, &response);
    if (!status.ok()) return connection.CallError(status);
    nodes = std::max(nodes, response.nodes());
    for (sigd::v1::Client& client : *response.mutable_clients()) {
      clients.push_back(std::move(client));
    }
    if (response.next_page_token().empty()) break;
    if (!seen_tokens.insert(response.next_page_token()).second) {
      return absl::InternalError("server repeated a page token");
    }
    request.set_page_token(response.next_page_token());
  }

  if (json_ || globals_.json) {
    std::string out = "[";
    for (size_t i = 0; i < clients.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "" : ",", ToJson(clients[i]));
    }
    std::cout << out << "]\n";
  } else {
    // In a cluster, say where each client is.
    std::cout << FormatClientTable(clients, /*with_node=*/nodes > 1);
  }
  return absl::OkStatus();
}

}  // namespace sigd::cli
