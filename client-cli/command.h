// The shape of one sigctl subcommand. Each command owns its flags (registered
// on its CLI11 subcommand in its constructor), checks their combination in
// Validate() and does its work in Run(). main() only wires them together, so
// a new command is one new file pair.
#ifndef SIGD_CLIENT_CLI_COMMAND_H_
#define SIGD_CLIENT_CLI_COMMAND_H_

#include <string>

#include "absl/status/status.h"
#include "client-cli/global_options.h"

namespace CLI {
class App;
}  // namespace CLI

namespace sigd::cli {

class Command {
 public:
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;
  virtual ~Command() = default;

  // The subcommand; main() runs the command whose subcommand was parsed.
  CLI::App& app() const { return *app_; }

  // Rejects flag combinations CLI11 cannot express by throwing
  // CLI::ValidationError: a usage error, reported like a bad flag (exit 2).
  virtual void Validate() {}

  // Does the work and prints the result on stdout. An error status is a
  // runtime failure: main() prints its message as one line and exits 1.
  virtual absl::Status Run() = 0;

 protected:
  Command(CLI::App& parent, const std::string& name,
          const std::string& description, const GlobalOptions& globals);

  CLI::App* app_;
  const GlobalOptions& globals_;
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_COMMAND_H_
