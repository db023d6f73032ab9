// sigctl: the operator's command line for sigd's gRPC control plane.
//
// Exit status: 0 on success, 1 when the command failed at run time (server
// unreachable, server error, no such client), 2 for a usage error. Every
// failure prints exactly one line on stderr, starting with "sigctl: ".
#include <grpc/support/log.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "client-cli/command.h"
#include "client-cli/disconnect_command.h"
#include "client-cli/global_options.h"
#include "client-cli/info_command.h"
#include "client-cli/list_command.h"
#include "client-cli/route_command.h"
#include "client-cli/send_command.h"
#include "client-cli/tail_command.h"
#include "client-cli/text_util.h"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  using namespace sigd::cli;
  // gRPC's own log lines (a failed TLS handshake, say) would break the
  // one-line promise; the failure reaches the user through the call's status.
  // GRPC_VERBOSITY still turns them on for debugging.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});

  CLI::App app("Control a sigd WebSocket signal server over gRPC.", "sigctl");
  app.set_version_flag("--version", SIGCTL_VERSION);
  app.require_subcommand(1);
  GlobalOptions globals;
  AddGlobalOptions(app, globals);

  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(std::make_unique<SendCommand>(app, globals));
  commands.push_back(std::make_unique<ListCommand>(app, globals));
  commands.push_back(std::make_unique<TailCommand>(app, globals));
  commands.push_back(std::make_unique<RouteCommand>(app, globals));
  commands.push_back(std::make_unique<DisconnectCommand>(app, globals));
  commands.push_back(std::make_unique<InfoCommand>(app, globals));

  Command* chosen = nullptr;
  try {
    app.parse(argc, argv);
    for (const auto& command : commands) {
      if (command->app().parsed()) chosen = command.get();
    }
    if (chosen != nullptr) chosen->Validate();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own report spans lines and uses its own exit codes; sigctl
    // promises one line and status 2 for every usage error.
    std::string message = OneLine(e.what());
    // "sigctl frobnicate" reaches here as a missing subcommand with a stray
    // argument; name the word the user typed.
    if (app.get_subcommands().empty() && !app.remaining().empty()) {
      message = "unknown command \"" + OneLine(app.remaining().front()) + "\"";
    }
    std::cerr << "sigctl: " << message << " (see sigctl --help)\n";
    return kExitUsage;
  }
  if (chosen == nullptr) return kExitUsage;  // require_subcommand(1) prevents it

  absl::Status status = chosen->Run();
  std::cout.flush();
  if (!status.ok()) {
    std::cerr << "sigctl: " << OneLine(std::string(status.message())) << "\n";
    return kExitRuntimeError;
  }
  return 0;
}
