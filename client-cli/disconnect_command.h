// sigctl disconnect: closes one client's connection (DisconnectClient) with
// an optional WebSocket close code and reason. Naming a client that is not
// connected is an error (exit 1), so scripts notice a stale id.
#ifndef SIGD_CLIENT_CLI_DISCONNECT_COMMAND_H_
#define SIGD_CLIENT_CLI_DISCONNECT_COMMAND_H_

#include <cstdint>
#include <string>

#include "client-cli/command.h"

namespace sigd::cli {

class DisconnectCommand : public Command {
 public:
  DisconnectCommand(CLI::App& parent, const GlobalOptions& globals);

  void Validate() override;
  absl::Status Run() override;

 private:
  std::string client_;
  uint32_t code_ = 0;  // 0 lets the server choose 1000 (normal closure)
  std::string reason_;
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_DISCONNECT_COMMAND_H_
