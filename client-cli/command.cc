#include "client-cli/command.h"

#include <CLI/CLI.hpp>

namespace sigd::cli {

Command::Command(CLI::App& parent, const std::string& name,
                 const std::string& description, const GlobalOptions& globals)
    : app_(parent.add_subcommand(name, description)), globals_(globals) {}

}  // namespace sigd::cli
