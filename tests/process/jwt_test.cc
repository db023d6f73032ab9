// The real sigd binary with browser JWTs: tokens minted by the documented
// example scripts (examples/jwt/, Python HS256 and openssl RS256) open a
// WebSocket, and SIGHUP rotates the keys (a bad file keeps the old ones and
// logs one line).
#include <csignal>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/process/sigd_process.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_client.h"

#ifndef SIGD_SOURCE_DIR
#error "SIGD_SOURCE_DIR must name the source tree (set by tests/CMakeLists.txt)"
#endif

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kOldSecret[] = "process-test-old-secret-0123456789abcdef";
constexpr char kNewSecret[] = "process-test-new-secret-0123456789abcdef";

std::string Example(const char* name) {
  return absl::StrCat(SIGD_SOURCE_DIR, "/examples/jwt/", name);
}

// Runs examples/jwt/mint_hs256.py against a secret file.
std::string MintWithPython(const std::string& secret_file, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"python3", Example("mint_hs256.py"), "--secret-file",
                                   secret_file};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ProcessResult r = RunProcess(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::string(absl::StripAsciiWhitespace(r.out));
}

bool Connects(uint16_t port, const std::string& target) {
  WsClient c;
  return c.Connect(port, target).ok();
}

TEST(JwtProcess, PythonMintedTokenConnectsAndSighupRotatesTheSecret) {
  TempDir dir;
  const std::string secrets = dir.WriteFile("jwt-secrets", absl::StrCat(kOldSecret, "\n")).string();
  absl::StatusOr<std::unique_ptr<SigdProcess>> started =
      StartSigd({"--jwt-secret-file", secrets});
  ASSERT_TRUE(started.ok()) << started.status();
  SigdProcess& sigd = **started;

  const std::string old_token = MintWithPython(secrets, {"--sub", "ana", "--paths", "/chat/*"});
  EXPECT_TRUE(Connects(sigd.ws_port, "/chat/a?token=" + old_token));
  WsClient anonymous, elsewhere;
  EXPECT_TRUE(absl::StrContains(anonymous.Connect(sigd.ws_port, "/chat/a").message(), "HTTP 401"));
  EXPECT_TRUE(absl::StrContains(
      elsewhere.Connect(sigd.ws_port, "/news?token=" + old_token).message(), "HTTP 403"));

  dir.WriteFile("jwt-secrets", absl::StrCat(kNewSecret, "\n"));
  const std::string new_token = MintWithPython(secrets);
  sigd.process.Signal(SIGHUP);
  // The reload is asynchronous to this test: wait for the new key to work.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool rotated = false;
  while (!rotated && std::chrono::steady_clock::now() < deadline) {
    rotated = Connects(sigd.ws_port, "/x?token=" + new_token);
  }
  ASSERT_TRUE(rotated);
  EXPECT_FALSE(Connects(sigd.ws_port, "/x?token=" + old_token));

  dir.WriteFile("jwt-secrets", "short\n");
  sigd.process.Signal(SIGHUP);
  ASSERT_TRUE(sigd.process.WaitFor(
      ChildProcess::Stream::kEither,
      [](const std::string& out) { return absl::StrContains(out, "keeping the previous keys"); },
      10s));
  EXPECT_TRUE(Connects(sigd.ws_port, "/x?token=" + new_token));
  EXPECT_TRUE(sigd.process.IsRunning());
  // The token never shows up in sigd's own output.
  EXPECT_FALSE(absl::StrContains(sigd.process.Stderr() + sigd.process.Stdout(), old_token));
}

TEST(JwtProcess, OpensslMintedRs256TokenConnects) {
  TempDir dir;
  const std::string key = (dir.path() / "jwt-key.pem").string();
  const std::string pub = (dir.path() / "jwt-public.pem").string();
  ProcessResult gen = RunProcess({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                                  "rsa_keygen_bits:2048", "-out", key});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ProcessResult out = RunProcess({"openssl", "pkey", "-in", key, "-pubout", "-out", pub});
  ASSERT_EQ(out.exit_code, 0) << out.err;

  absl::StatusOr<std::unique_ptr<SigdProcess>> started =
      StartSigd({"--jwt-public-key-file", pub, "--jwt-audience", "sigd"});
  ASSERT_TRUE(started.ok()) << started.status();
  ProcessResult mint = RunProcess(
      {"bash", Example("mint_rs256.sh"), key, R"({"sub":"ana","aud":"sigd"})", "60"});
  ASSERT_EQ(mint.exit_code, 0) << mint.err;
  const std::string token(absl::StripAsciiWhitespace(mint.out));
  ASSERT_EQ(std::count(token.begin(), token.end(), '.'), 2) << token;
  EXPECT_TRUE(Connects((*started)->ws_port, "/chat?token=" + token));
  EXPECT_FALSE(Connects((*started)->ws_port, "/chat"));
}

TEST(JwtProcess, BadKeyFileIsAOneLineStartupError) {
  TempDir dir;
  const std::string secrets = dir.WriteFile("jwt-secrets", "short\n").string();
  ProcessResult r = RunProcess({SIGD_BINARY, "--listen", "127.0.0.1:0", "--grpc-listen",
                                "127.0.0.1:0", "--jwt-secret-file", secrets},
                               {}, 20s, {}, SigdEnvironmentNames());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "JWT keys: secret on line 1 is shorter than 32 bytes"))
      << r.err;
}

}  // namespace
}  // namespace sigd::testing
