// The sigctl binary against a real sigd process, with real WebSocket clients
// on the receiving end: what an operator types, what they see, and what the
// browsers get.
#include <algorithm>
#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/process/sigd_process.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_client.h"

#ifndef SIGCTL_BINARY
#error "SIGCTL_BINARY must name the sigctl executable"
#endif

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

// sigctl reads its server from this variable; no test may inherit it.
constexpr char kSigdServerEnv[] = "SIGD_SERVER";

// Options for a background sigctl that must not inherit $SIGD_SERVER.
ProcessOptions WithoutSigdServer() {
  ProcessOptions options;
  options.unset_env = {kSigdServerEnv};
  return options;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::string Describe(const ProcessResult& r) {
  return absl::StrCat("exit ", r.exit_code, " signal ", r.term_signal,
                      r.timed_out ? " (timed out)" : "", "\nstdout: ", r.out,
                      "\nstderr: ", r.err);
}

// The failure shape sigctl promises: a non-zero exit and exactly one line on
// stderr, starting with "sigctl: " and holding `needle`.
AssertionResult FailsWithOneLine(const ProcessResult& r,
                                 std::string_view needle = {},
                                 int exit_code = -1) {
  if (r.timed_out || r.exit_code <= 0) {
    return AssertionFailure() << "expected a failure, got " << Describe(r);
  }
  if (exit_code != -1 && r.exit_code != exit_code) {
    return AssertionFailure() << "expected exit " << exit_code << ", got "
                              << Describe(r);
  }
  if (std::count(r.err.begin(), r.err.end(), '\n') != 1 ||
      r.err.back() != '\n' || !absl::StartsWith(r.err, "sigctl: ")) {
    return AssertionFailure() << "stderr is not one sigctl line: "
                              << Describe(r);
  }
  if (r.err.find(needle) == std::string::npos) {
    return AssertionFailure() << "stderr lacks \"" << needle
                              << "\": " << Describe(r);
  }
  return AssertionSuccess();
}

AssertionResult Succeeds(const ProcessResult& r) {
  if (r.timed_out || r.exit_code != 0 || !r.err.empty()) {
    return AssertionFailure() << Describe(r);
  }
  return AssertionSuccess();
}

// sigctl with no server at all: usage and connection failures.
ProcessResult SigctlAlone(const std::vector<std::string>& args,
                          const EnvList& env = {}) {
  std::vector<std::string> argv = {SIGCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {}, 20s, env, {kSigdServerEnv});
}

class SigctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd =
        StartSigd({"--node-id", "test-node", "--io-threads", "2"});
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    sigd_ = *std::move(sigd);
  }

  // sigctl aimed at this test's sigd.
  ProcessResult Sigctl(const std::vector<std::string>& args,
                       std::string_view stdin_data = {}) {
    std::vector<std::string> argv = {SIGCTL_BINARY, "--server",
                                     sigd_->grpc_target()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, stdin_data, 20s, {}, {kSigdServerEnv});
  }

  std::vector<std::string> TailArgv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SIGCTL_BINARY, "--server",
                                     sigd_->grpc_target(), "tail"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // A connected WebSocket client, or nullptr (with a test failure).
  std::unique_ptr<WsClient> Connect(const std::string& target) {
    auto ws = std::make_unique<WsClient>();
    absl::Status status = ws->Connect(sigd_->ws_port, target);
    EXPECT_TRUE(status.ok()) << target << ": " << status;
    if (!status.ok()) return nullptr;
    EXPECT_FALSE(ws->client_id().empty());
    return ws;
  }

  // The next frame `ws` receives, or the error as text.
  static std::string NextFrame(WsClient& ws) {
    absl::StatusOr<std::string> frame = ws.Read(10s);
    return frame.ok() ? *frame : absl::StrCat("<", frame.status().ToString(), ">");
  }

  std::unique_ptr<SigdProcess> sigd_;
};

// --- send ---------------------------------------------------------------

TEST_F(SigctlTest, SendTextReachesClientVerbatim) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ProcessResult r = Sigctl({"send", "--text", "hello {not json"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "delivered 1\n");
  EXPECT_EQ(NextFrame(*ws), "hello {not json");
}

TEST_F(SigctlTest, SendJsonStringGoesOutAsRawText) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ProcessResult r = Sigctl({"send", "--json", "\"hi there\""});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "delivered 1\n");
  EXPECT_EQ(NextFrame(*ws), "hi there");
}

TEST_F(SigctlTest, SendJsonObjectGoesOutCompact) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(Succeeds(Sigctl({"send", "--json", "{ \"a\" : [1, 2],\n \"b\": null }"})));
  EXPECT_EQ(NextFrame(*ws), R"({"a":[1,2],"b":null})");
}

TEST_F(SigctlTest, SendFileHoldsJson) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  TempDir dir;
  auto file = dir.WriteFile("payload.json", "{\n  \"b\": true\n}\n");
  ASSERT_TRUE(Succeeds(Sigctl({"send", "--file", file.string()})));
  EXPECT_EQ(NextFrame(*ws), R"({"b":true})");
}

TEST_F(SigctlTest, SendFileDashReadsStdin) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ProcessResult r = Sigctl({"send", "--file", "-"}, "[1, 2, 3]\n");
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "delivered 1\n");
  EXPECT_EQ(NextFrame(*ws), "[1,2,3]");
}

TEST_F(SigctlTest, SendTextWithFileSendsTheFileAsText) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  TempDir dir;
  auto file = dir.WriteFile("note.txt", "line one\nline {two}\n");
  ASSERT_TRUE(Succeeds(Sigctl({"send", "--text", "--file", file.string()})));
  EXPECT_EQ(NextFrame(*ws), "line one\nline {two}\n");
  // The same from stdin, with --text after --file.
  ASSERT_TRUE(Succeeds(Sigctl({"send", "--file", "-", "--text"}, "{raw")));
  EXPECT_EQ(NextFrame(*ws), "{raw");
}

TEST_F(SigctlTest, SendBinaryFileSendsItsBytesAsOneBinaryFrame) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  TempDir dir;
  const std::string bytes("\x00\xff\xfe{not utf-8}\x00\n", 16);
  auto file = dir.WriteFile("frame.bin", bytes);
  ProcessResult r = Sigctl({"send", "--binary-file", file.string(), "--path", "/room"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "delivered 1\n");
  EXPECT_EQ(NextFrame(*ws), bytes);
  EXPECT_TRUE(ws->last_was_binary());
  // From stdin too, and it is exclusive with the other values.
  ASSERT_TRUE(Succeeds(Sigctl({"send", "-b", "-"}, std::string_view("\x01\x00\x02", 3))));
  EXPECT_EQ(NextFrame(*ws), std::string("\x01\x00\x02", 3));
  EXPECT_TRUE(ws->last_was_binary());
  EXPECT_TRUE(FailsWithOneLine(Sigctl({"send", "--binary-file", "-", "--text", "x"}),
                               "exactly one", 2));
}

TEST_F(SigctlTest, SendPrintsJsonWithGlobalJsonFlag) {
  auto a = Connect("/room");
  auto b = Connect("/room");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ProcessResult r = Sigctl({"--json", "send", "--text", "x"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "{\"delivered\":2,\"nodes\":1}\n");
}

TEST_F(SigctlTest, SendWithPathReachesOnlyThatPath) {
  auto a = Connect("/a");
  auto b = Connect("/b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ProcessResult r = Sigctl({"send", "--path", "/a", "--text", "for-a"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "delivered 1\n");
  EXPECT_EQ(NextFrame(*a), "for-a");
  // Frames reach a client in order, so b's first frame being the second
  // signal proves the first one never came to b.
  ASSERT_TRUE(Succeeds(Sigctl({"send", "--path", "/b", "--text", "for-b"})));
  EXPECT_EQ(NextFrame(*b), "for-b");
  // A path nobody is on reaches nobody, which is not an error.
  r = Sigctl({"send", "--path", "/nobody", "--text", "x"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "delivered 0\n");
}

TEST_F(SigctlTest, SendWithClientReachesOnlyThatClient) {
  auto a = Connect("/same");
  auto b = Connect("/same");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ProcessResult r = Sigctl({"send", "--client", a->client_id(), "--text", "just-a"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "delivered 1\n");
  EXPECT_EQ(NextFrame(*a), "just-a");
  ASSERT_TRUE(Succeeds(Sigctl({"send", "--text", "everyone"})));
  EXPECT_EQ(NextFrame(*b), "everyone");
  EXPECT_EQ(NextFrame(*a), "everyone");
}

TEST_F(SigctlTest, SendToUnknownClientFails) {
  auto a = Connect("/same");
  ASSERT_NE(a, nullptr);
  ProcessResult r = Sigctl({"send", "--client", "no-such-id", "--text", "x"});
  EXPECT_TRUE(FailsWithOneLine(r, "no-such-id", 1));
  EXPECT_EQ(r.out, "");
  // A client on another path than the one named counts as not there.
  r = Sigctl({"send", "--client", a->client_id(), "--path", "/other", "--text", "x"});
  EXPECT_TRUE(FailsWithOneLine(r, a->client_id(), 1));
}

TEST_F(SigctlTest, SendInvalidJsonFailsAndReachesNobody) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ProcessResult r = Sigctl({"send", "--json", "{\"a\": "});
  EXPECT_TRUE(FailsWithOneLine(r, "INVALID_ARGUMENT", 1));
  EXPECT_EQ(r.out, "");
  r = Sigctl({"send", "--file", "-"}, "not json\n");
  EXPECT_TRUE(FailsWithOneLine(r, "INVALID_ARGUMENT", 1));
  ASSERT_TRUE(Succeeds(Sigctl({"send", "--text", "after"})));
  EXPECT_EQ(NextFrame(*ws), "after");
}

TEST_F(SigctlTest, SendNeedsExactlyOneValue) {
  EXPECT_TRUE(FailsWithOneLine(Sigctl({"send"}), "exactly one", 2));
  EXPECT_TRUE(FailsWithOneLine(Sigctl({"send", "--json", "1", "--text", "x"}),
                               "exactly one", 2));
  EXPECT_TRUE(FailsWithOneLine(Sigctl({"send", "--json", "1", "--file", "-"}),
                               "exactly one", 2));
  EXPECT_TRUE(FailsWithOneLine(Sigctl({"send", "--text"}), "", 2));
}

TEST_F(SigctlTest, SendMissingFileFails) {
  ProcessResult r = Sigctl({"send", "--file", "/nonexistent/payload.json"});
  EXPECT_TRUE(FailsWithOneLine(r, "cannot read /nonexistent/payload.json", 1));
}

// --- list ---------------------------------------------------------------

TEST_F(SigctlTest, ListPrintsATable) {
  auto a = Connect("/a");
  auto b = Connect("/b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ProcessResult r = Sigctl({"list"});
  ASSERT_TRUE(Succeeds(r));
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  std::vector<std::string> header =
      absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  EXPECT_EQ(header, (std::vector<std::string>{"ID", "PATH", "REMOTE", "PROTO",
                                              "CONNECTED", "IN", "OUT"}));
  std::set<std::string> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cells =
        absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    ASSERT_EQ(cells.size(), 7u) << lines[i];
    EXPECT_TRUE(absl::StartsWith(cells[2], "127.0.0.1:")) << lines[i];
    EXPECT_EQ(cells[3], "ws");
    EXPECT_EQ(cells[5], "0");
    rows.insert(cells[0] + " " + cells[1]);
  }
  EXPECT_EQ(rows, (std::set<std::string>{a->client_id() + " /a",
                                         b->client_id() + " /b"}));
  // Columns line up: every row's PATH starts where the header's does.
  const size_t path_column = lines[0].find("PATH");
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].find(" /") + 1, path_column) << lines[i];
  }

  r = Sigctl({"list", "--path", "/b"});
  ASSERT_TRUE(Succeeds(r));
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(absl::StartsWith(lines[1], b->client_id() + " ")) << r.out;
}

TEST_F(SigctlTest, ListJsonIsAnArrayOfClients) {
  auto a = Connect("/a?x=1");
  auto b = Connect("/b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ProcessResult r = Sigctl({"list", "--json"});
  ASSERT_TRUE(Succeeds(r));
  nlohmann::json clients = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(clients.is_array()) << r.out;
  ASSERT_EQ(clients.size(), 2u);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& client : clients) by_id[client.at("id").get<std::string>()] = client;
  ASSERT_EQ(by_id.count(a->client_id()), 1u) << r.out;
  const nlohmann::json& ja = by_id[a->client_id()];
  // proto3 JSON mapping: lowerCamelCase names, enum names, uint64 as strings.
  EXPECT_EQ(ja.at("path"), "/a");
  EXPECT_EQ(ja.at("protocol"), "WS");
  EXPECT_EQ(ja.at("query"), (nlohmann::json{{"x", "1"}}));
  EXPECT_EQ(ja.at("messagesIn"), "0");
  EXPECT_TRUE(ja.contains("remoteAddress"));
  EXPECT_TRUE(ja.contains("connectedAt"));
  EXPECT_EQ(by_id.count(b->client_id()), 1u);

  r = Sigctl({"list", "--path", "/b", "--json"});
  ASSERT_TRUE(Succeeds(r));
  clients = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(clients.is_array()) << r.out;
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].at("id"), b->client_id());

  r = Sigctl({"list", "--path", "/nobody", "--json"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "[]\n");
}

TEST_F(SigctlTest, ListFollowsEveryPage) {
  // The server's default page holds 100 clients; 150 need two pages.
  constexpr size_t kClients = 150;
  std::vector<std::unique_ptr<WsClient>> clients;
  std::set<std::string> ids;
  for (size_t i = 0; i < kClients; ++i) {
    clients.push_back(Connect("/many"));
    ASSERT_NE(clients.back(), nullptr);
    ids.insert(clients.back()->client_id());
  }
  ProcessResult r = Sigctl({"list", "--path", "/many", "--json"});
  ASSERT_TRUE(Succeeds(r));
  nlohmann::json listed = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(listed.is_array());
  std::set<std::string> listed_ids;
  for (const auto& client : listed) listed_ids.insert(client.at("id").get<std::string>());
  EXPECT_EQ(listed.size(), kClients);
  EXPECT_EQ(listed_ids, ids);
}

// --- tail ---------------------------------------------------------------

TEST_F(SigctlTest, TailPrintsSubscribedThenMessages) {
  ChildProcess tail;
  ASSERT_TRUE(tail.Start(TailArgv({"--route", "/chat"}),
                         WithoutSigdServer())
                  .ok());
  ASSERT_TRUE(tail.WaitForStdoutLines(1, 20s)) << tail.Stderr();
  nlohmann::json subscribed = nlohmann::json::parse(Lines(tail.Stdout())[0], nullptr, false);
  EXPECT_EQ(subscribed.value("kind", ""), "SUBSCRIBED") << tail.Stdout();

  auto ws = Connect("/chat");
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(ws->Send(R"({"message":"hi"})").ok());
  ASSERT_TRUE(tail.WaitForStdoutLines(2, 20s)) << tail.Stdout() << tail.Stderr();
  std::vector<std::string> lines = Lines(tail.Stdout());
  nlohmann::json event = nlohmann::json::parse(lines[1], nullptr, false);
  ASSERT_TRUE(event.is_object()) << lines[1];
  EXPECT_EQ(event.value("kind", ""), "MESSAGE");
  EXPECT_EQ(event.value("path", ""), "/chat");
  EXPECT_EQ(event.value("route", ""), "/chat");
  ASSERT_TRUE(event.contains("data")) << lines[1];
  EXPECT_EQ(event["data"].value("messageJson", ""), "\"hi\"");
  ASSERT_TRUE(event.contains("client")) << lines[1];
  EXPECT_EQ(event["client"].value("id", ""), ws->client_id());

  // A second message: one more line, each event on its own line.
  ASSERT_TRUE(ws->Send(R"({"message":{"n":2}})").ok());
  ASSERT_TRUE(tail.WaitForStdoutLines(3, 20s)) << tail.Stdout();
  event = nlohmann::json::parse(Lines(tail.Stdout())[2], nullptr, false);
  EXPECT_EQ(event["data"].value("messageJson", ""), R"({"n":2})");

  tail.Signal(SIGINT);
  EXPECT_EQ(tail.Wait(10s), 0) << tail.Stderr();
  EXPECT_EQ(tail.Stderr(), "");
}

TEST_F(SigctlTest, TailExitsZeroOnSigtermAndReleasesItsRoute) {
  ChildProcess tail;
  ASSERT_TRUE(tail.Start(TailArgv({"--route", "/chat"}),
                         WithoutSigdServer())
                  .ok());
  ASSERT_TRUE(tail.WaitForStdout("\"SUBSCRIBED\"", 20s)) << tail.Stderr();
  ProcessResult info = Sigctl({"info"});
  EXPECT_TRUE(absl::StrContains(info.out, "subscribers: 1\n")) << info.out;

  tail.Signal(SIGTERM);
  EXPECT_EQ(tail.Wait(10s), 0) << tail.Stderr();
  EXPECT_EQ(tail.Stderr(), "");
}

TEST_F(SigctlTest, TailObserveWithConnectAndDisconnectEvents) {
  ChildProcess tail;
  ASSERT_TRUE(tail.Start(TailArgv({"--observe", "--route", "/obs/*",
                                   "--events", "Connect,DISCONNECT"}),
                         WithoutSigdServer())
                  .ok());
  ASSERT_TRUE(tail.WaitForStdout("\"SUBSCRIBED\"", 20s)) << tail.Stderr();

  auto ws = Connect("/obs/room");
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(tail.WaitForStdout("\"CONNECT\"", 20s)) << tail.Stdout();
  ASSERT_TRUE(ws->Send(R"({"message":"seen"})").ok());
  ASSERT_TRUE(tail.WaitForStdout("\"MESSAGE\"", 20s)) << tail.Stdout();
  // An observer only watches: the message is still broadcast as usual,
  // and reaches its sender.
  EXPECT_EQ(NextFrame(*ws), "seen");
  ASSERT_TRUE(ws->Close().ok());
  ASSERT_TRUE(tail.WaitForStdout("\"DISCONNECT\"", 20s)) << tail.Stdout();

  std::vector<std::string> kinds;
  for (const std::string& line : Lines(tail.Stdout())) {
    nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(event.is_object()) << line;
    kinds.push_back(event.value("kind", ""));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"SUBSCRIBED", "CONNECT", "MESSAGE",
                                             "DISCONNECT"}));
  tail.Signal(SIGINT);
  EXPECT_EQ(tail.Wait(10s), 0);
}

TEST_F(SigctlTest, TailRejectsUnknownEventKind) {
  ProcessResult r = Sigctl({"tail", "--route", "/a", "--events", "connect,bogus"});
  EXPECT_TRUE(FailsWithOneLine(r, "bogus", 2));
  EXPECT_TRUE(FailsWithOneLine(Sigctl({"tail"}), "--route", 2));
}

TEST(SigctlAlone, TailToUnreachableServerFailsFast) {
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = SigctlAlone({"--server", "127.0.0.1:1", "--timeout", "5",
                                 "tail", "--route", "/a"});
  EXPECT_TRUE(FailsWithOneLine(r, "sigctl: cannot reach 127.0.0.1:1", 1));
  EXPECT_EQ(r.out, "");
  // A refused connection is reported at once, not at the deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

// --- disconnect ---------------------------------------------------------

TEST_F(SigctlTest, DisconnectClosesTheClientWithCodeAndReason) {
  auto ws = Connect("/room");
  auto other = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ASSERT_NE(other, nullptr);
  ProcessResult r = Sigctl({"disconnect", ws->client_id(), "--code", "4000",
                            "--reason", "bye"});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_EQ(r.out, "disconnected\n");
  absl::StatusOr<uint16_t> code = ws->WaitForClose(10s);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 4000);

  // Only that client went.
  r = Sigctl({"list", "--json"});
  ASSERT_TRUE(Succeeds(r));
  nlohmann::json clients = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(clients.size(), 1u) << r.out;
  EXPECT_EQ(clients[0].at("id"), other->client_id());
}

TEST_F(SigctlTest, DisconnectDefaultsToNormalClosure) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(Succeeds(Sigctl({"disconnect", ws->client_id()})));
  absl::StatusOr<uint16_t> code = ws->WaitForClose(10s);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1000);
}

TEST_F(SigctlTest, DisconnectUnknownClientFails) {
  ProcessResult r = Sigctl({"disconnect", "no-such-id"});
  EXPECT_TRUE(FailsWithOneLine(r, "no such client: no-such-id", 1));
  EXPECT_EQ(r.out, "");
}

TEST_F(SigctlTest, DisconnectRejectsBadCloseCode) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ProcessResult r = Sigctl({"disconnect", ws->client_id(), "--code", "1005"});
  EXPECT_TRUE(FailsWithOneLine(r, "INVALID_ARGUMENT", 1));
  EXPECT_TRUE(FailsWithOneLine(Sigctl({"disconnect"}), "id", 2));
}

// --- info ---------------------------------------------------------------

TEST_F(SigctlTest, InfoPrintsOneKeyValuePerLine) {
  auto ws = Connect("/room");
  ASSERT_NE(ws, nullptr);
  ProcessResult r = Sigctl({"info"});
  ASSERT_TRUE(Succeeds(r));
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], std::string("version: ") + SIGD_VERSION);
  EXPECT_EQ(lines[1], "node: test-node");
  EXPECT_TRUE(absl::StartsWith(lines[2], "uptime: ")) << lines[2];
  EXPECT_EQ(lines[3], "clients: 1");
  EXPECT_EQ(lines[4], "subscribers: 0");
}

// A container or shell that configures sigd's wss certificate (SIGD_TLS_CERT,
// SIGD_TLS_KEY) must not switch sigctl to TLS against a plaintext control
// plane: sigctl's own variables are SIGCTL_TLS_*.
TEST_F(SigctlTest, IgnoresSigdsOwnTlsVariables) {
  const std::string some_file = (sigd_->public_dir.path() / "index.html").string();
  std::vector<std::string> argv = {SIGCTL_BINARY, "--server", sigd_->grpc_target(), "info"};
  ProcessResult r = RunProcess(argv, {}, 20s,
                               {{"SIGD_TLS_CERT", some_file}, {"SIGD_TLS_KEY", some_file}},
                               {kSigdServerEnv});
  EXPECT_TRUE(Succeeds(r));
}

TEST_F(SigctlTest, InfoJson) {
  ProcessResult r = Sigctl({"info", "--json"});
  ASSERT_TRUE(Succeeds(r));
  nlohmann::json info = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << r.out;
  EXPECT_EQ(info.value("version", ""), SIGD_VERSION);
  EXPECT_EQ(info.value("nodeId", ""), "test-node");
  EXPECT_EQ(info.value("clients", ""), "0");  // uint64 is a string in JSON
  EXPECT_TRUE(info.contains("uptimeSeconds"));
  // The global flag means the same.
  ProcessResult global = Sigctl({"--json", "info"});
  ASSERT_TRUE(Succeeds(global));
  EXPECT_TRUE(nlohmann::json::parse(global.out, nullptr, false).is_object());
}

// --- connection and command line -----------------------------------------

TEST(SigctlAlone, UnreachableServerIsOneLineAndExitOne) {
  for (const std::string command : {"info", "list", "send"}) {
    std::vector<std::string> args = {"--server", "127.0.0.1:1", command};
    if (command == "send") args.insert(args.end(), {"--text", "x"});
    ProcessResult r = SigctlAlone(args);
    EXPECT_TRUE(FailsWithOneLine(r, "sigctl: cannot reach 127.0.0.1:1: ", 1))
        << command;
    EXPECT_EQ(r.out, "") << command;
  }
}

TEST(SigctlAlone, BadFlagsAreUsageErrors) {
  EXPECT_TRUE(FailsWithOneLine(SigctlAlone({"send", "--bogus"}), "--bogus", 2));
  EXPECT_TRUE(FailsWithOneLine(SigctlAlone({"--bogus", "info"}), "--bogus", 2));
  EXPECT_TRUE(FailsWithOneLine(SigctlAlone({}), "subcommand", 2));
  EXPECT_TRUE(FailsWithOneLine(SigctlAlone({"frobnicate"}), "frobnicate", 2));
  EXPECT_TRUE(FailsWithOneLine(SigctlAlone({"--timeout", "0", "info"}), "--timeout", 2));
  EXPECT_TRUE(FailsWithOneLine(SigctlAlone({"--timeout", "soon", "info"}), "--timeout", 2));
  EXPECT_TRUE(FailsWithOneLine(SigctlAlone({"disconnect", "x", "--code", "-1"}), "--code", 2));
}

TEST(SigctlAlone, HelpGoesToStdoutAndSucceeds) {
  ProcessResult r = SigctlAlone({"--help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "SIGD_SERVER")) << r.out;
  r = SigctlAlone({"send", "--help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "--file")) << r.out;
}

TEST_F(SigctlTest, ServerComesFromSigdServerEnvironment) {
  const std::vector<std::string> argv = {SIGCTL_BINARY, "info"};
  ProcessResult r = RunProcess(argv, {}, 20s, {{"SIGD_SERVER", sigd_->grpc_target()}});
  ASSERT_TRUE(Succeeds(r));
  EXPECT_TRUE(absl::StrContains(r.out, "node: test-node")) << r.out;

  // The flag wins over the environment.
  r = RunProcess({SIGCTL_BINARY, "--server", sigd_->grpc_target(), "info"}, {}, 20s,
                 {{"SIGD_SERVER", "127.0.0.1:1"}});
  EXPECT_TRUE(Succeeds(r));
  // And the environment is really what sigctl used.
  r = RunProcess(argv, {}, 20s, {{"SIGD_SERVER", "127.0.0.1:1"}});
  EXPECT_TRUE(FailsWithOneLine(r, "cannot reach 127.0.0.1:1", 1));
}

TEST_F(SigctlTest, GlobalFlagsWorkAfterTheCommand) {
  ProcessResult r = RunProcess(
      {SIGCTL_BINARY, "info", "--server", sigd_->grpc_target(), "--timeout", "3"}, {},
      20s, {}, {kSigdServerEnv});
  EXPECT_TRUE(Succeeds(r));
}

}  // namespace
}  // namespace sigd::testing
