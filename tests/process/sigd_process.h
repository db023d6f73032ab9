// Runs the real sigd binary for process tests: loopback listeners on port 0,
// a fresh public folder, and the ports read back from sigd's ready line.
// Header-only because SIGD_BINARY is defined only for the process tests.
//
//   absl::StatusOr<std::unique_ptr<SigdProcess>> sigd = StartSigd();
//   ASSERT_TRUE(sigd.ok()) << sigd.status();
//   ws.Connect((*sigd)->ws_port, "/chat");
#ifndef SIGD_TESTS_PROCESS_SIGD_PROCESS_H_
#define SIGD_TESTS_PROCESS_SIGD_PROCESS_H_

#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

#ifndef SIGD_BINARY
#error "SIGD_BINARY must name the sigd executable (set by tests/CMakeLists.txt)"
#endif

extern char** environ;

namespace sigd::testing {

struct SigdProcess {
  TempDir public_dir;
  ChildProcess process;
  uint16_t ws_port = 0;
  uint16_t grpc_port = 0;

  // What `sigctl --server` takes.
  std::string grpc_target() const {
    return absl::StrCat("127.0.0.1:", grpc_port);
  }
};

// Names of the SIGD_* variables in the test's environment. sigd reads its
// settings from them, so a child gets none: a test sees only the flags it
// passes, whatever the shell running the tests has set.
inline std::vector<std::string> SigdEnvironmentNames() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (text.substr(0, 5) == "SIGD_") {
      names.emplace_back(text.substr(0, text.find('=')));
    }
  }
  return names;
}

// Starts sigd with both listeners on 127.0.0.1:0 plus `extra_args` (later
// flags win) and waits up to 20 s for its ready line (a log line)
// ("sigd ready: http/ws on 127.0.0.1:34567, grpc on 127.0.0.1:45678").
inline absl::StatusOr<std::unique_ptr<SigdProcess>> StartSigd(
    const std::vector<std::string>& extra_args = {}) {
  auto sigd = std::make_unique<SigdProcess>();
  if (sigd->public_dir.path().empty()) {
    return absl::InternalError("cannot create a temporary public folder");
  }
  sigd->public_dir.WriteFile("index.html", "<!doctype html><title>sigd</title>\n");

  std::vector<std::string> argv = {
      SIGD_BINARY,           "--listen",    "127.0.0.1:0",
      "--grpc-listen",       "127.0.0.1:0", "--public",
      sigd->public_dir.path().string(),     "--log-level",
      "info"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  ProcessOptions options;
  options.unset_env = SigdEnvironmentNames();
  if (absl::Status started = sigd->process.Start(argv, options);
      !started.ok()) {
    return started;
  }

  static const std::regex kReady(
      R"(sigd ready: http/ws on (\S+):(\d+), grpc on (\S+):(\d+))");
  std::vector<std::string> groups;
  // The ready line is a log line; it is looked for on both streams so the
  // tests do not depend on where the logger writes.
  if (!sigd->process.WaitForOutput(kReady, std::chrono::seconds(20),
                                   &groups)) {
    std::string err =
        absl::StrCat(sigd->process.Stdout(), sigd->process.Stderr());
    return absl::DeadlineExceededError(absl::StrCat(
        "sigd printed no ready line", sigd->process.IsRunning() ? "" : " and exited",
        "; its output:\n", err));
  }
  uint32_t ws_port = 0, grpc_port = 0;
  if (!absl::SimpleAtoi(groups[2], &ws_port) ||
      !absl::SimpleAtoi(groups[4], &grpc_port) || ws_port == 0 ||
      ws_port > 65535 || grpc_port == 0 || grpc_port > 65535) {
    return absl::InternalError(
        absl::StrCat("bad ports in sigd's ready line: ", groups[0]));
  }
  sigd->ws_port = static_cast<uint16_t>(ws_port);
  sigd->grpc_port = static_cast<uint16_t>(grpc_port);
  return sigd;
}

}  // namespace sigd::testing

#endif  // SIGD_TESTS_PROCESS_SIGD_PROCESS_H_
