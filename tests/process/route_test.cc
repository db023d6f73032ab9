// `sigctl route` against a real sigd process, with real WebSocket clients
// sending the messages: what the command sees (stdin, environment), who gets
// its answer, how failures, groups, concurrency, a full queue and signals
// behave, and the shell example built on it.
//
// Commands that must wait for the test wait for a file the test creates
// (with their own deadline); the test learns what a command did from lines
// it writes to stderr (sigctl's stderr, which the test collects), never from
// the passing of time. Frames reach a client in order, so "the first frame
// after X is the marker" proves X sent nothing.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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
// Where commands find the test's scratch folder.
constexpr char kDirEnv[] = "ROUTE_TEST_DIR";

constexpr auto kWait = 20s;

// Shell text that waits until $ROUTE_TEST_DIR/NAME exists, giving up with
// exit 9 after about 20 s so a broken test cannot hang.
std::string WaitForFileInShell(const std::string& name) {
  return absl::StrCat("i=0; until [ -e \"$", kDirEnv, "/", name,
                      "\" ]; do i=$((i+1)); [ $i -le 400 ] || exit 9; "
                      "sleep 0.05; done; ");
}

std::string Describe(const ProcessResult& r) {
  return absl::StrCat("exit ", r.exit_code, " signal ", r.term_signal,
                      r.timed_out ? " (timed out)" : "", "\nstdout: ", r.out,
                      "\nstderr: ", r.err);
}

// A usage or connection failure: status `exit_code` and one sigctl line.
AssertionResult FailsWithOneLine(const ProcessResult& r,
                                 std::string_view needle, int exit_code) {
  if (r.timed_out || r.exit_code != exit_code) {
    return AssertionFailure() << "expected exit " << exit_code << ", got "
                              << Describe(r);
  }
  if (std::count(r.err.begin(), r.err.end(), '\n') != 1 ||
      r.err.back() != '\n' || !absl::StartsWith(r.err, "sigctl: ") ||
      r.err.find(needle) == std::string::npos) {
    return AssertionFailure() << "expected one sigctl line holding \""
                              << needle << "\": " << Describe(r);
  }
  return AssertionSuccess();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// The message frame a browser sends; `json` is the message as JSON text.
std::string Message(const std::string& json) {
  return absl::StrCat("{\"message\":", json, "}");
}

// The folder of the shell example in the source tree (not __FILE__, which a
// shared compiler cache makes relative).
std::filesystem::path ShellExampleDir() {
  return std::filesystem::path(SIGD_SOURCE_DIR) / "examples" / "date-route" / "shell";
}

class RouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd =
        StartSigd({"--io-threads", "2"});
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    sigd_ = *std::move(sigd);
  }

  // Starts `sigctl route ARGS` and waits for its "handling" line, which
  // comes once the route is held.
  AssertionResult StartRoute(ChildProcess& route,
                             const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SIGCTL_BINARY, "--server",
                                     sigd_->grpc_target(), "route"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.unset_env = {kSigdServerEnv};
    options.extra_env = {{kDirEnv, dir_.path().string()}};
    if (absl::Status started = route.Start(argv, options); !started.ok()) {
      return AssertionFailure() << started;
    }
    if (!route.WaitForStderr(std::regex("sigctl: (handling|observing) "),
                             kWait)) {
      return AssertionFailure() << "no handling line; stderr: "
                                << route.Stderr();
    }
    return AssertionSuccess();
  }

  // SIGTERM, then expect exit status 0.
  static AssertionResult StopsWithZero(ChildProcess& route,
                                       int sig = SIGTERM) {
    route.Signal(sig);
    std::optional<int> status = route.Wait(kWait);
    if (!status.has_value()) return AssertionFailure() << "still running";
    if (*status != 0) {
      return AssertionFailure() << "exit " << *status << "; stderr: "
                                << route.Stderr();
    }
    return AssertionSuccess();
  }

  std::unique_ptr<WsClient> Connect(const std::string& target) {
    auto ws = std::make_unique<WsClient>();
    absl::Status status = ws->Connect(sigd_->ws_port, target);
    EXPECT_TRUE(status.ok()) << target << ": " << status;
    if (!status.ok()) return nullptr;
    return ws;
  }

  static std::string NextFrame(WsClient& ws) {
    absl::StatusOr<std::string> frame = ws.Read(kWait);
    return frame.ok() ? *frame
                      : absl::StrCat("<", frame.status().ToString(), ">");
  }

  // Sends `text` to one client through sigctl, as another backend would.
  void SendMarker(const WsClient& to, const std::string& text) {
    ProcessResult r = RunProcess({SIGCTL_BINARY, "--server",
                                  sigd_->grpc_target(), "send", "--client",
                                  to.client_id(), "--text", text},
                                 {}, kWait, {}, {kSigdServerEnv});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
  }

  void CreateFile(const std::string& name) { dir_.WriteFile(name, ""); }

  TempDir dir_;
  std::unique_ptr<SigdProcess> sigd_;
};

// --- answers --------------------------------------------------------------

TEST_F(RouteTest, AnswerReachesTheSenderOnly) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/r", "--exec", "printf 'you said %s' \"$SIGD_MESSAGE\""}));
  EXPECT_EQ(route.Stderr(), "sigctl: handling /r\n");
  auto a = Connect("/r");
  auto b = Connect("/r");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  ASSERT_TRUE(a->Send(Message(R"("hi")")).ok());
  EXPECT_EQ(NextFrame(*a), "you said \"hi\"");
  // The route holds /r: the message itself was not broadcast, and the answer
  // went to the sender alone.
  SendMarker(*b, "marker");
  EXPECT_EQ(NextFrame(*b), "marker");

  EXPECT_TRUE(StopsWithZero(route));
  EXPECT_EQ(route.Stderr(), "sigctl: handling /r\n");
}

TEST_F(RouteTest, CommandGetsTheEventOnStdinAndInItsEnvironment) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/env/*", "--route", "/other", "--exec",
              "cat > \"$ROUTE_TEST_DIR/event.json\"; "
              "printf '%s|%s|%s|%s|%s' \"$SIGD_CLIENT_ID\" \"$SIGD_PATH\" "
              "\"$SIGD_ROUTE\" \"$SIGD_MESSAGE\" \"$SIGD_SERVER\""}));
  EXPECT_EQ(route.Stderr(), "sigctl: handling /env/*, /other\n");
  auto ws = Connect("/env/room");
  ASSERT_NE(ws, nullptr);

  ASSERT_TRUE(ws->Send(Message(R"({ "a": [1, "x y"] })")).ok());
  EXPECT_EQ(NextFrame(*ws),
            absl::StrCat(ws->client_id(), "|/env/room|/env/*|",
                         R"({"a":[1,"x y"]})", "|", sigd_->grpc_target()));

  // stdin: the event as one JSON line, in the proto3 JSON mapping.
  std::ifstream file(dir_.path() / "event.json", std::ios::binary);
  const std::string stdin_text((std::istreambuf_iterator<char>(file)),
                               std::istreambuf_iterator<char>());
  ASSERT_EQ(std::count(stdin_text.begin(), stdin_text.end(), '\n'), 1)
      << stdin_text;
  ASSERT_EQ(stdin_text.back(), '\n');
  nlohmann::json event = nlohmann::json::parse(stdin_text, nullptr, false);
  ASSERT_TRUE(event.is_object()) << stdin_text;
  EXPECT_EQ(event.value("kind", ""), "MESSAGE");
  EXPECT_EQ(event.value("path", ""), "/env/room");
  EXPECT_EQ(event.value("route", ""), "/env/*");
  EXPECT_FALSE(event.value("id", "").empty()) << stdin_text;
  ASSERT_TRUE(event.contains("data")) << stdin_text;
  EXPECT_EQ(event["data"].value("messageJson", ""), R"({"a":[1,"x y"]})");
  ASSERT_TRUE(event.contains("client")) << stdin_text;
  EXPECT_EQ(event["client"].value("id", ""), ws->client_id());
  EXPECT_EQ(event["client"].value("path", ""), "/env/room");

  // The second route, exactly matched.
  auto other = Connect("/other");
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Send(Message("null")).ok());
  EXPECT_EQ(NextFrame(*other),
            absl::StrCat(other->client_id(), "|/other|/other|null|",
                         sigd_->grpc_target()));
  EXPECT_TRUE(StopsWithZero(route));
}

TEST_F(RouteTest, EmptyOutputSendsNothingAndOneTrailingNewlineIsRemoved) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/q", "--exec",
              "case \"$SIGD_MESSAGE\" in "
              "'\"quiet\"') ;; "
              "'\"blank\"') echo ;; "
              "'\"two\"') printf 'two\\n\\n' ;; "
              "*) printf 'answer %s' \"$SIGD_MESSAGE\" ;; esac"}));
  auto ws = Connect("/q");
  ASSERT_NE(ws, nullptr);

  // One worker handles messages in order, each answered before the next
  // runs: the first frame after "quiet" is the answer to "blank".
  for (const char* message : {R"("quiet")", R"("blank")", R"("two")",
                              R"("quiet")", R"("loud")"}) {
    ASSERT_TRUE(ws->Send(Message(message)).ok());
  }
  EXPECT_EQ(NextFrame(*ws), "");  // "\n" is output: an empty frame
  EXPECT_EQ(NextFrame(*ws), "two\n");
  EXPECT_EQ(NextFrame(*ws), "answer \"loud\"");
  EXPECT_TRUE(StopsWithZero(route));
  EXPECT_EQ(route.Stderr(), "sigctl: handling /q\n");
}

// --- failures -------------------------------------------------------------

TEST_F(RouteTest, FailingCommandIsReportedAndTheNextMessageIsHandled) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/f", "--exec",
              "case \"$SIGD_MESSAGE\" in "
              "'\"fail\"') printf partial; exit 3 ;; "
              "'\"die\"') printf partial; kill -KILL $$ ;; "
              "'\"missing\"') no-such-command-anywhere 2>/dev/null ;; "
              "*) printf 'ok %s' \"$SIGD_MESSAGE\" ;; esac"}));
  auto ws = Connect("/f");
  ASSERT_NE(ws, nullptr);
  const std::string id = ws->client_id();

  for (const char* message : {R"("fail")", R"("die")", R"("missing")",
                              R"("next")"}) {
    ASSERT_TRUE(ws->Send(Message(message)).ok());
  }
  // A failed command's output is not sent, even when it printed some.
  EXPECT_EQ(NextFrame(*ws), "ok \"next\"");
  const std::string expected = absl::StrCat(
      "sigctl: handling /f\n",
      "sigctl: route: command exited 3 for client ", id, "\n",
      "sigctl: route: command killed by signal 9 (SIGKILL) for client ", id,
      "\n",
      "sigctl: route: command exited 127 for client ", id, "\n");
  ASSERT_TRUE(route.WaitForStderr(expected, kWait)) << route.Stderr();
  EXPECT_TRUE(route.IsRunning());
  EXPECT_TRUE(StopsWithZero(route));
  EXPECT_EQ(route.Stderr(), expected);
}

TEST_F(RouteTest, CommandPastItsTimeoutIsKilledAndReported) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/t", "--exec-timeout", "0.5", "--exec",
              "if [ \"$SIGD_MESSAGE\" = '\"hang\"' ]; then printf early; "
              "sleep 60; fi; printf 'ok %s' \"$SIGD_MESSAGE\""}));
  auto ws = Connect("/t");
  ASSERT_NE(ws, nullptr);

  ASSERT_TRUE(ws->Send(Message(R"("hang")")).ok());
  ASSERT_TRUE(ws->Send(Message(R"("next")")).ok());
  EXPECT_EQ(NextFrame(*ws), "ok \"next\"");
  // sigctl reports the timeout before it runs the next command, but the
  // test's reader thread may not have taken that line from the pipe yet.
  EXPECT_TRUE(route.WaitForStderr(
      absl::StrCat("sigctl: route: command timed out after 0.5s for client ",
                   ws->client_id(), " (killed)\n"),
      kWait))
      << route.Stderr();
  // The whole process group went, `sleep` included: otherwise it would hold
  // sigctl's stderr open and Wait() could not see the output end.
  EXPECT_TRUE(StopsWithZero(route));
  EXPECT_TRUE(route.WaitForOutputClosed(5s));
}

TEST_F(RouteTest, OutputTooLargeOrNotUtf8IsReportedNotSent) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/b", "--exec",
              "case \"$SIGD_MESSAGE\" in "
              "'\"big\"') head -c 1100000 /dev/zero | tr '\\0' a ;; "
              "'\"binary\"') printf 'a\\377b' ;; "
              // Leaves its stdin (the whole event) unread.
              "*) printf 'length %s' ${#SIGD_MESSAGE} ;; esac"}));
  auto ws = Connect("/b");
  ASSERT_NE(ws, nullptr);
  const std::string id = ws->client_id();

  ASSERT_TRUE(ws->Send(Message(R"("big")")).ok());
  ASSERT_TRUE(ws->Send(Message(R"("binary")")).ok());
  const std::string large(60000, 'x');
  ASSERT_TRUE(ws->Send(Message(absl::StrCat("\"", large, "\""))).ok());
  EXPECT_EQ(NextFrame(*ws), "length 60002");
  EXPECT_TRUE(absl::StrContains(
      route.Stderr(),
      absl::StrCat("sigctl: route: command output for client ", id,
                   " exceeds 1048576 bytes; not sent\n",
                   "sigctl: route: command output for client ", id,
                   " is not valid UTF-8; not sent\n")))
      << route.Stderr();
  EXPECT_TRUE(StopsWithZero(route));
}

// --- sharing and concurrency ---------------------------------------------

TEST_F(RouteTest, GroupMembersShareMessages) {
  ChildProcess one, two;
  ASSERT_TRUE(StartRoute(one, {"/g", "--group", "bots", "--exec", "printf one"}));
  ASSERT_TRUE(StartRoute(two, {"/g", "--group", "bots", "--exec", "printf two"}));
  EXPECT_EQ(one.Stderr(), "sigctl: handling /g (group bots)\n");
  auto ws = Connect("/g");
  ASSERT_NE(ws, nullptr);

  std::map<std::string, int> answers;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(ws->Send(Message(absl::StrCat(i))).ok());
    ++answers[NextFrame(*ws)];
  }
  // Each message went to one member only (six answers, no more), and both
  // members took some.
  SendMarker(*ws, "marker");
  EXPECT_EQ(NextFrame(*ws), "marker");
  EXPECT_EQ(answers.size(), 2u);
  EXPECT_GE(answers["one"], 1);
  EXPECT_GE(answers["two"], 1);
  EXPECT_TRUE(StopsWithZero(one));
  EXPECT_TRUE(StopsWithZero(two));
}

TEST_F(RouteTest, ConcurrencyRunsCommandsAtOnce) {
  // Each command marks that it started, then waits for the other's mark:
  // one at a time, the first would give up (exit 9) and answer nothing.
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/c", "--concurrency", "2", "--exec",
              absl::StrCat("touch \"$ROUTE_TEST_DIR/started-$SIGD_MESSAGE\"; ",
                           WaitForFileInShell("started-1"),
                           WaitForFileInShell("started-2"),
                           "printf 'both %s' \"$SIGD_MESSAGE\"")}));
  auto a = Connect("/c");
  auto b = Connect("/c");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  ASSERT_TRUE(a->Send(Message("1")).ok());
  ASSERT_TRUE(b->Send(Message("2")).ok());
  EXPECT_EQ(NextFrame(*a), "both 1");
  EXPECT_EQ(NextFrame(*b), "both 2");
  EXPECT_TRUE(StopsWithZero(route));
  EXPECT_EQ(route.Stderr(), "sigctl: handling /c\n");
}

TEST_F(RouteTest, FullQueueDropsMessagesWithAWarning) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/p", "--max-pending", "1", "--exec",
              absl::StrCat("echo \"started $SIGD_MESSAGE\" >&2; "
                           "if [ \"$SIGD_MESSAGE\" = 1 ]; then ",
                           WaitForFileInShell("release"), "fi; ",
                           "printf 'done %s' \"$SIGD_MESSAGE\"")}));
  auto ws = Connect("/p");
  ASSERT_NE(ws, nullptr);

  // The only worker is busy with 1; 2 waits; nothing more fits.
  ASSERT_TRUE(ws->Send(Message("1")).ok());
  ASSERT_TRUE(route.WaitForStderr("started 1\n", kWait)) << route.Stderr();
  ASSERT_TRUE(ws->Send(Message("2")).ok());
  ASSERT_TRUE(ws->Send(Message("3")).ok());
  ASSERT_TRUE(route.WaitForStderr(
      absl::StrCat("sigctl: route: queue full (1 waiting); dropped a message "
                   "from client ", ws->client_id(), " (1 dropped so far)\n"),
      kWait))
      << route.Stderr();

  CreateFile("release");
  EXPECT_EQ(NextFrame(*ws), "done 1");
  EXPECT_EQ(NextFrame(*ws), "done 2");
  SendMarker(*ws, "marker");
  EXPECT_EQ(NextFrame(*ws), "marker");
  EXPECT_FALSE(absl::StrContains(route.Stderr(), "started 3"));
  EXPECT_TRUE(StopsWithZero(route));
}

TEST_F(RouteTest, ObserveAnswersWhileTheMessageIsStillBroadcast) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(route, {"--observe", "/o", "--exec",
                                 "printf 'seen %s' \"$SIGD_MESSAGE\""}));
  EXPECT_EQ(route.Stderr(), "sigctl: observing /o\n");
  auto a = Connect("/o");
  auto b = Connect("/o");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  ASSERT_TRUE(a->Send(Message(R"("x")")).ok());
  std::vector<std::string> frames = {NextFrame(*a), NextFrame(*a)};
  std::sort(frames.begin(), frames.end());
  EXPECT_EQ(frames, (std::vector<std::string>{"seen \"x\"", "x"}));
  EXPECT_EQ(NextFrame(*b), "x");
  SendMarker(*b, "marker");
  EXPECT_EQ(NextFrame(*b), "marker");
  EXPECT_TRUE(StopsWithZero(route));
}

// --- stopping -------------------------------------------------------------

TEST_F(RouteTest, SigtermLetsARunningCommandFinishThenExitsZero) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/s", "--exec",
              absl::StrCat("echo started >&2; ", WaitForFileInShell("release"),
                           "printf finished")}));
  auto ws = Connect("/s");
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(ws->Send(Message("1")).ok());
  ASSERT_TRUE(route.WaitForStderr("started\n", kWait)) << route.Stderr();

  route.Signal(SIGTERM);
  ASSERT_TRUE(route.WaitForStderr(
      "sigctl: route: stopping; waiting for 1 running command (interrupt "
      "again to kill)\n",
      kWait))
      << route.Stderr();
  CreateFile("release");
  // The command finished after SIGTERM, and its answer still went out.
  EXPECT_EQ(NextFrame(*ws), "finished");
  std::optional<int> status = route.Wait(kWait);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << route.Stderr();
}

TEST_F(RouteTest, SecondSignalKillsRunningCommands) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(
      route, {"/s", "--exec",
              absl::StrCat("echo started >&2; ", WaitForFileInShell("release"),
                           "printf finished")}));
  auto ws = Connect("/s");
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(ws->Send(Message("1")).ok());
  ASSERT_TRUE(route.WaitForStderr("started\n", kWait)) << route.Stderr();

  route.Signal(SIGINT);
  ASSERT_TRUE(route.WaitForStderr("waiting for 1 running command", kWait))
      << route.Stderr();
  EXPECT_TRUE(StopsWithZero(route, SIGINT));
  EXPECT_TRUE(absl::StrContains(
      route.Stderr(), absl::StrCat("sigctl: route: command killed for client ",
                                   ws->client_id(), " (sigctl is stopping)\n")))
      << route.Stderr();
  SendMarker(*ws, "marker");
  EXPECT_EQ(NextFrame(*ws), "marker");
}

TEST_F(RouteTest, ServerShutdownEndsTheHandlerWithStatusOne) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(route, {"/d", "--exec", "cat"}));
  sigd_->process.Signal(SIGTERM);
  std::optional<int> status = route.Wait(kWait);
  ASSERT_TRUE(status.has_value()) << "sigctl route still running";
  EXPECT_EQ(*status, 1);
  std::vector<std::string> lines = Lines(route.Stderr());
  ASSERT_EQ(lines.size(), 2u) << route.Stderr();
  EXPECT_EQ(lines[0], "sigctl: handling /d");
  EXPECT_TRUE(absl::StartsWith(lines[1], "sigctl: stream ended: UNAVAILABLE"))
      << lines[1];
}

// With --reconnect the handler outlives a restart of sigd: it subscribes
// again to the new process on the same address and answers as before.
TEST_F(RouteTest, ReconnectingHandlerSurvivesASigdRestart) {
  ChildProcess route;
  ASSERT_TRUE(StartRoute(route, {"/again", "--reconnect", "--exec",
                                 "printf 'got %s' \"$SIGD_MESSAGE\""}));
  const std::string grpc_address = sigd_->grpc_target();
  sigd_->process.Signal(SIGTERM);
  ASSERT_TRUE(sigd_->process.Wait(kWait).has_value());
  ASSERT_TRUE(route.WaitForStderr(std::regex("sigctl: route: stream ended \\(UNAVAILABLE"),
                                  kWait))
      << route.Stderr();
  absl::StatusOr<std::unique_ptr<SigdProcess>> restarted =
      StartSigd({"--grpc-listen", grpc_address});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  sigd_ = *std::move(restarted);
  ASSERT_TRUE(route.WaitForStderr(
      std::regex("handling /again\n(.*\n)*sigctl: handling /again\n"), kWait))
      << route.Stderr();
  auto ws = Connect("/again");
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(ws->Send(Message(R"("back")")).ok());
  EXPECT_EQ(NextFrame(*ws), "got \"back\"");
  EXPECT_TRUE(StopsWithZero(route));
}

// A refusal that a retry cannot change ends the handler even with --reconnect.
TEST_F(RouteTest, ReconnectDoesNotRetryABadRequest) {
  ProcessResult r = RunProcess({SIGCTL_BINARY, "--server", sigd_->grpc_target(), "route",
                                "/bad*", "--reconnect", "--exec", "cat"},
                               {}, kWait, {}, {kSigdServerEnv});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "INVALID_ARGUMENT")) << Describe(r);
}

// --- the shell example ----------------------------------------------------

TEST_F(RouteTest, ShellExampleAnswersDateAndEchoesTheRest) {
  const std::filesystem::path script = ShellExampleDir() / "date_route.sh";
  ASSERT_TRUE(std::filesystem::exists(script)) << script;
  // The sigctl under test comes first in PATH, which the script prefers.
  const char* path = std::getenv("PATH");
  ProcessOptions options;
  options.extra_env = {
      {"PATH", absl::StrCat(std::filesystem::path(SIGCTL_BINARY)
                                .parent_path()
                                .string(),
                            ":", path != nullptr ? path : "/usr/bin:/bin")},
      {kSigdServerEnv, sigd_->grpc_target()}};
  ChildProcess route;
  ASSERT_TRUE(route.Start({script.string()}, options).ok());
  ASSERT_TRUE(route.WaitForStderr("sigctl: handling /messages\n", kWait))
      << route.Stderr();

  auto ws = Connect("/messages");
  ASSERT_NE(ws, nullptr);
  for (const char* asked : {R"("[date]")", R"("[DaTe]")"}) {
    ASSERT_TRUE(ws->Send(Message(asked)).ok());
    const std::string date = NextFrame(*ws);
    EXPECT_FALSE(date.empty());
    EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(date), "[date]"))
        << date;
    EXPECT_TRUE(std::any_of(date.begin(), date.end(),
                            [](char c) { return c >= '0' && c <= '9'; }))
        << date;
  }
  ASSERT_TRUE(ws->Send(Message(R"("hello there")")).ok());
  EXPECT_EQ(NextFrame(*ws), "hello there");
  ASSERT_TRUE(ws->Send(Message(R"("say \"hi\"\nthen go\\")")).ok());
  EXPECT_EQ(NextFrame(*ws), "say \"hi\"\nthen go\\");
  ASSERT_TRUE(ws->Send(Message(R"({"n": [1, true]})")).ok());
  EXPECT_EQ(NextFrame(*ws), R"({"n":[1,true]})");

  // Another client on the path hears none of it.
  auto other = Connect("/messages");
  ASSERT_NE(other, nullptr);
  SendMarker(*other, "marker");
  EXPECT_EQ(NextFrame(*other), "marker");

  EXPECT_TRUE(StopsWithZero(route));
  EXPECT_EQ(route.Stderr(), "sigctl: handling /messages\n");
}

// --- without a server -----------------------------------------------------

ProcessResult RouteAlone(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SIGCTL_BINARY, "route"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {}, kWait, {}, {kSigdServerEnv});
}

TEST(RouteAlone, UsageErrorsExitTwo) {
  EXPECT_TRUE(FailsWithOneLine(RouteAlone({"--exec", "cat"}), "path", 2));
  EXPECT_TRUE(FailsWithOneLine(RouteAlone({"/a"}), "--exec", 2));
  EXPECT_TRUE(
      FailsWithOneLine(RouteAlone({"a", "--exec", "cat"}), "start with /", 2));
  EXPECT_TRUE(FailsWithOneLine(
      RouteAlone({"/a", "--exec", "cat", "--concurrency", "0"}),
      "--concurrency", 2));
  EXPECT_TRUE(FailsWithOneLine(
      RouteAlone({"/a", "--exec", "cat", "--exec-timeout", "0"}),
      "--exec-timeout", 2));
}

TEST(RouteAlone, UnreachableServerFailsFast) {
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = RouteAlone(
      {"--server", "127.0.0.1:1", "--timeout", "5", "/a", "--exec", "cat"});
  EXPECT_TRUE(FailsWithOneLine(r, "sigctl: cannot reach 127.0.0.1:1", 1));
  EXPECT_EQ(r.out, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

}  // namespace
}  // namespace sigd::testing
