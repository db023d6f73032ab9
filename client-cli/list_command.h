// sigctl list: every connected client (ListClients, all pages), as a table
// for people or, with --json, a JSON array of Client messages for scripts.
#ifndef SIGD_CLIENT_CLI_LIST_COMMAND_H_
#define SIGD_CLIENT_CLI_LIST_COMMAND_H_

#include <string>
#include <vector>

#include "client-cli/command.h"
#include "signal.pb.h"

namespace sigd::cli {

class ListCommand : public Command {
 public:
  ListCommand(CLI::App& parent, const GlobalOptions& globals);

  absl::Status Run() override;

 private:
  std::string path_;
  bool json_ = false;
};

// The table `sigctl list` prints: a header (ID, PATH, REMOTE, PROTO,
// CONNECTED, IN, OUT, and NODE `with_node`, for a cluster) and one aligned
// row per client.
std::string FormatClientTable(const std::vector<sigd::v1::Client>& clients,
                              bool with_node = false);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_LIST_COMMAND_H_
