// Runs a real nats-server (Debian's package) for the cluster tests, on a free
// loopback port chosen by the server itself (-p -1), read back from its log.
// Restart() starts it again on the same port, as an operator restarting NATS.
//
//   NatsServer nats;
//   ASSERT_TRUE(nats.Start().ok());
//   ... "--nats", nats.url() ...
//   nats.Stop(); nats.Restart();
#ifndef SIGD_TESTS_CLUSTER_NATS_SERVER_H_
#define SIGD_TESTS_CLUSTER_NATS_SERVER_H_

#include <csignal>
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

#ifndef NATS_SERVER_BINARY
#error "NATS_SERVER_BINARY must name the nats-server executable"
#endif

namespace sigd::testing {

class NatsServer {
 public:
  static bool Available() { return std::string(NATS_SERVER_BINARY) != ""; }

  // Starts on `port` (-1: any free port), with `extra_args` (e.g. --auth,
  // or -c for a config file), and waits for it to listen.
  absl::Status Start(int port = -1, std::vector<std::string> extra_args = {}) {
    extra_args_ = std::move(extra_args);
    std::vector<std::string> argv = {NATS_SERVER_BINARY, "-a", "127.0.0.1", "-p",
                                     std::to_string(port)};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    process_ = std::make_unique<ChildProcess>();
    if (absl::Status s = process_->Start(argv); !s.ok()) return s;
    static const std::regex kListening(R"(Listening for client connections on [^\s:]+:(\d+))");
    std::vector<std::string> groups;
    if (!process_->WaitForOutput(kListening, std::chrono::seconds(20), &groups)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "nats-server did not start listening; its output:\n", process_->Stdout(),
          process_->Stderr()));
    }
    uint32_t p = 0;
    if (!absl::SimpleAtoi(groups[1], &p) || p == 0 || p > 65535) {
      return absl::InternalError(absl::StrCat("bad port in: ", groups[0]));
    }
    port_ = static_cast<uint16_t>(p);
    return absl::OkStatus();
  }

  // Kills the server abruptly (as a crash would).
  void Stop() {
    if (process_ != nullptr) process_->Kill();
  }

  absl::Status Restart() { return Start(port_, extra_args_); }

  std::string url() const { return absl::StrCat("nats://127.0.0.1:", port_); }
  uint16_t port() const { return port_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
  std::vector<std::string> extra_args_;
};

}  // namespace sigd::testing

#endif  // SIGD_TESTS_CLUSTER_NATS_SERVER_H_
