// Fuzzes the config loader (config::LoadConfig) with a fuzzed TOML file, as
// `sigd --config FILE` reads it at start and an operator may get it wrong in
// any way.
//
// Invariants: a bad file is an InvalidArgument whose message is one line
// (sigd prints it and exits; a key or value must not smuggle a newline into
// logs); a good file loads the same way twice and the file's settings beat
// the defaults while the flags still beat the file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "server/config/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::optional<std::string> NoEnv(const std::string&) { return std::nullopt; }

const std::string& FilePath() {
  static const std::string path = "/tmp/sigd-fuzz-config-" + std::to_string(getpid()) + ".toml";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(FilePath(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  const std::vector<std::string> args = {"sigd", "--config", FilePath()};
  absl::StatusOr<sigd::config::Config> c = sigd::config::LoadConfig(args, NoEnv);
  if (!c.ok()) {
    FUZZ_CHECK(c.status().code() == absl::StatusCode::kInvalidArgument, "not InvalidArgument");
    const std::string message(c.status().message());
    FUZZ_CHECK(message.find_first_of("\r\n") == std::string::npos,
               "error message is not one line: %s", message.c_str());
    return 0;
  }
  FUZZ_CHECK(!c->exit_now && c->config_file == FilePath(), "file not recorded");

  absl::StatusOr<sigd::config::Config> again = sigd::config::LoadConfig(args, NoEnv);
  FUZZ_CHECK(again.ok() && again->listen == c->listen && again->grpc_listen == c->grpc_listen &&
                 again->max_message_bytes == c->max_message_bytes &&
                 again->raw_paths == c->raw_paths,
             "the same file loaded differently");

  // A flag overrides whatever the file said.
  std::vector<std::string> with_flag = args;
  with_flag.push_back("--max-message-bytes");
  with_flag.push_back("12345");
  absl::StatusOr<sigd::config::Config> flagged = sigd::config::LoadConfig(with_flag, NoEnv);
  FUZZ_CHECK(flagged.ok() && flagged->max_message_bytes == 12345, "flag did not win over file");
  return 0;
}
