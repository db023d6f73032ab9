// sigctl info: the server's version, node id, uptime and counts
// (GetServerInfo), one "key: value" per line or, with --json, one object.
#ifndef SIGD_CLIENT_CLI_INFO_COMMAND_H_
#define SIGD_CLIENT_CLI_INFO_COMMAND_H_

#include "client-cli/command.h"

namespace sigd::cli {

class InfoCommand : public Command {
 public:
  InfoCommand(CLI::App& parent, const GlobalOptions& globals);

  absl::Status Run() override;

 private:
  bool json_ = false;
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_INFO_COMMAND_H_
