// The shipped binaries with TLS: sigd serving wss and a mutual-TLS control
// plane, sigctl with --tls-ca/--tls-cert/--tls-key, and a certificate renewed
// with SIGHUP while a client stays connected.
#include <poll.h>
#include <pty.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/process/sigd_process.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/tls_client.h"

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;

class TlsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok()) << certs_.error();
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd = StartSigd(
        {"--tls-cert", certs_.server_cert(), "--tls-key", certs_.server_key(),
         "--grpc-tls-cert", certs_.server_cert(), "--grpc-tls-key", certs_.server_key(),
         "--grpc-tls-client-ca", certs_.ca()});
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    sigd_ = *std::move(sigd);
  }

  ProcessResult Sigctl(std::vector<std::string> args, const EnvList& env = {}) {
    std::vector<std::string> argv = {SIGCTL_BINARY, "--server", sigd_->grpc_target()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, {}, 20s, env,
                      {"SIGD_SERVER", "SIGCTL_TLS_CA", "SIGCTL_TLS_CERT", "SIGCTL_TLS_KEY",
                       "SIGD_TLS_CERT", "SIGD_TLS_KEY"});
  }

  TestCerts certs_;
  std::unique_ptr<SigdProcess> sigd_;
};

TEST_F(TlsProcessTest, SigctlNeedsTheCaAndAClientCertificate) {
  // Each failure is one line, with a hint at the likely cause.
  ProcessResult plain = Sigctl({"info"});
  EXPECT_EQ(plain.exit_code, 1) << plain.err;
  EXPECT_EQ(std::count(plain.err.begin(), plain.err.end(), '\n'), 1) << plain.err;
  EXPECT_TRUE(absl::StrContains(plain.err, "--tls-ca")) << plain.err;
  ProcessResult untrusted = Sigctl({"--tls", "info"});  // the system's CAs do not know ours
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.err;
  EXPECT_EQ(std::count(untrusted.err.begin(), untrusted.err.end(), '\n'), 1) << untrusted.err;
  EXPECT_TRUE(absl::StartsWith(untrusted.err, "sigctl: ")) << untrusted.err;
  ProcessResult no_cert = Sigctl({"--tls-ca", certs_.ca(), "info"});
  EXPECT_EQ(no_cert.exit_code, 1) << no_cert.err;
  ProcessResult ok = Sigctl({"--tls-ca", certs_.ca(), "--tls-cert", certs_.client_cert(),
                             "--tls-key", certs_.client_key(), "info"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  ProcessResult from_env = Sigctl({"info"}, {{"SIGCTL_TLS_CA", certs_.ca()},
                                             {"SIGCTL_TLS_CERT", certs_.client_cert()},
                                             {"SIGCTL_TLS_KEY", certs_.client_key()}});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  ProcessResult half = Sigctl({"--tls-cert", certs_.client_cert(), "info"});
  EXPECT_EQ(half.exit_code, 2) << half.err;  // --tls-cert needs --tls-key
}

TEST_F(TlsProcessTest, SighupRenewsTheCertificateWithoutDroppingClients) {
  WssClient before(sigd_->ws_port, certs_.ca(), "/renew");
  ASSERT_TRUE(before.ok()) << before.error().message();
  EXPECT_EQ(before.PeerCommonName(), "sigd-one");

  certs_.RenewServer("sigd-two");
  ASSERT_TRUE(certs_.ok()) << certs_.error();
  sigd_->process.Signal(SIGHUP);
  // The reload is asynchronous to this test: wait for new connections to see
  // the new certificate.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string cn;
  while (cn != "sigd-two" && std::chrono::steady_clock::now() < deadline) {
    TlsConnection probe(sigd_->ws_port, certs_.ca());
    cn = probe.PeerCommonName();
  }
  EXPECT_EQ(cn, "sigd-two");

  ProcessResult sent = Sigctl({"--tls-ca", certs_.ca(), "--tls-cert", certs_.client_cert(),
                               "--tls-key", certs_.client_key(), "send", "--json",
                               R"({"renewed":true})"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(before.Read(), R"({"renewed":true})");
  EXPECT_TRUE(sigd_->process.IsRunning());
}

TEST(TlsStartup, UnreadableCertificateIsAOneLineStartupError) {
  ProcessResult r = RunProcess({SIGD_BINARY, "--listen", "127.0.0.1:0", "--grpc-listen",
                                "127.0.0.1:0", "--tls-cert", "/nonexistent/cert.pem",
                                "--tls-key", "/nonexistent/key.pem"},
                               {}, 20s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "/nonexistent/cert.pem")) << r.err;
}

// Run from a shell, sigd has a controlling terminal; OpenSSL's default
// password callback would prompt on it and the start would hang. An
// encrypted key without --tls-password must fail with the reason instead.
TEST(TlsStartup, EncryptedKeyWithoutPasswordFailsEvenOnATerminal) {
  TestCerts certs;
  ASSERT_TRUE(certs.ok()) << certs.error();
  TempDir dir;
  const std::string key = (dir.path() / "encrypted.key").string();
  ProcessResult made = RunProcess({"openssl", "pkey", "-in", certs.server_key(), "-aes256",
                                   "-passout", "pass:secret", "-out", key});
  ASSERT_EQ(made.exit_code, 0) << made.err;

  int terminal = -1;
  const pid_t child = forkpty(&terminal, nullptr, nullptr, nullptr);
  ASSERT_GE(child, 0) << "forkpty failed";
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(SIGD_BINARY, SIGD_BINARY, "--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0",
          "--tls-cert", certs.server_cert().c_str(), "--tls-key", key.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string output;
  int status = 0;
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!exited && std::chrono::steady_clock::now() < deadline) {
    pollfd p{terminal, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buffer[512];
      const ssize_t n = read(terminal, buffer, sizeof(buffer));
      if (n > 0) output.append(buffer, static_cast<size_t>(n));
    }
    exited = waitpid(child, &status, WNOHANG) == child;
  }
  if (!exited) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  close(terminal);
  ASSERT_TRUE(exited) << "sigd still running after 20 s; its terminal showed:\n" << output;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
  EXPECT_TRUE(absl::StrContains(output, "cannot load the private key")) << output;
  EXPECT_FALSE(absl::StrContains(output, "pass phrase")) << output;
}

}  // namespace
}  // namespace sigd::testing
