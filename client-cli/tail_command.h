// sigctl tail: holds routes with SubscribeSignals and prints every event
// (SUBSCRIBED first) as one JSON line, flushed at once so a pipe sees it.
// Runs until SIGINT/SIGTERM (cancels the stream, exit 0) or until the server
// ends the stream (exit 1 with the status if it is not OK).
//
//   sigctl tail --route /chat --route '/rooms/*' --events connect,disconnect
//   sigctl tail --observe --route /chat | jq .data.messageJson
#ifndef SIGD_CLIENT_CLI_TAIL_COMMAND_H_
#define SIGD_CLIENT_CLI_TAIL_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client-cli/command.h"
#include "signal.pb.h"

namespace sigd::cli {

class TailCommand : public Command {
 public:
  TailCommand(CLI::App& parent, const GlobalOptions& globals);

  void Validate() override;
  absl::Status Run() override;

 private:
  std::vector<std::string> routes_;
  bool observe_ = false;
  std::string group_;
  std::vector<std::string> events_;
};

// The kinds a subscriber asks for: MESSAGE always, plus each name in
// `names` ("connect", "disconnect", "message"; any case), without repeats.
absl::StatusOr<std::vector<sigd::v1::EventKind>> ParseEventKinds(
    const std::vector<std::string>& names);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_TAIL_COMMAND_H_
