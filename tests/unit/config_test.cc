#include "server/config/config.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace sigd::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// The environment a test sees: only what it lists, never the real one.
EnvLookup Env(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<Config> Load(std::vector<std::string> flags,
                            std::map<std::string, std::string> env = {}) {
  flags.insert(flags.begin(), "sigd");
  return LoadConfig(flags, Env(std::move(env)));
}

Config LoadOk(std::vector<std::string> flags, std::map<std::string, std::string> env = {}) {
  absl::StatusOr<Config> c = Load(std::move(flags), std::move(env));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : Config{};
}

// Asserts failure with InvalidArgument and returns the message.
std::string LoadError(std::vector<std::string> flags,
                      std::map<std::string, std::string> env = {}) {
  absl::StatusOr<Config> c = Load(std::move(flags), std::move(env));
  EXPECT_FALSE(c.ok()) << "accepted";
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  return std::string(c.status().message());
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, needle, haystack)

// A scratch folder for config files, removed afterwards.
class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "config_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << content;
    return p.string();
  }

  fs::path dir_;
};

// ---- defaults ------------------------------------------------------------

TEST(Config, DefaultsWithNoArguments) {
  const Config c = LoadOk({});
  EXPECT_EQ(c.listen, "0.0.0.0:8091");
  EXPECT_EQ(c.grpc_listen, "127.0.0.1:50051");
  EXPECT_EQ(c.public_dir, "./public");
  EXPECT_EQ(c.max_message_bytes, 65536u);
  EXPECT_EQ(c.io_threads, 0u);
  EXPECT_EQ(c.default_broadcast, protocol::DefaultScope::kAll);
  EXPECT_EQ(c.keepalive, seconds(30));
  EXPECT_EQ(c.handshake_timeout, seconds(10));
  EXPECT_EQ(c.queue_max_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(c.queue_max_frames, 4096u);
  EXPECT_EQ(c.subscriber_queue, 1024u);
  EXPECT_EQ(c.max_json_depth, 64);
  EXPECT_TRUE(c.raw_paths.empty());
  EXPECT_TRUE(c.pinned_routes.empty());
  EXPECT_EQ(c.node_id, "");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.drain_timeout, seconds(5));
  EXPECT_EQ(c.config_file, "");
  EXPECT_FALSE(c.exit_now);
  EXPECT_EQ(c.output, "");
}

// ---- each flag -----------------------------------------------------------

TEST(Config, ListenFlags) {
  const Config c = LoadOk({"--listen", "127.0.0.1:9000", "--grpc-listen", "[::1]:6000"});
  EXPECT_EQ(c.listen, "127.0.0.1:9000");
  EXPECT_EQ(c.grpc_listen, "[::1]:6000");
  EXPECT_EQ(LoadOk({"--listen", ":8080"}).listen, ":8080");
}

TEST(Config, PublicFlag) { EXPECT_EQ(LoadOk({"--public", "/srv/www"}).public_dir, "/srv/www"); }

TEST(Config, NumericFlags) {
  const Config c = LoadOk({"--max-message-bytes", "1024", "--io-threads", "3",
                           "--queue-max-bytes", "2048", "--queue-max-frames", "7",
                           "--subscriber-queue", "9", "--max-json-depth", "10"});
  EXPECT_EQ(c.max_message_bytes, 1024u);
  EXPECT_EQ(c.io_threads, 3u);
  EXPECT_EQ(c.queue_max_bytes, 2048u);
  EXPECT_EQ(c.queue_max_frames, 7u);
  EXPECT_EQ(c.subscriber_queue, 9u);
  EXPECT_EQ(c.max_json_depth, 10);
}

TEST(Config, SecondsFlags) {
  const Config c = LoadOk({"--keepalive-seconds", "5", "--handshake-timeout-seconds", "2",
                           "--drain-timeout-seconds", "0"});
  EXPECT_EQ(c.keepalive, seconds(5));
  EXPECT_EQ(c.handshake_timeout, seconds(2));
  EXPECT_EQ(c.drain_timeout, seconds(0));
}

TEST(Config, DefaultBroadcastFlag) {
  EXPECT_EQ(LoadOk({"--default-broadcast", "own-path"}).default_broadcast,
            protocol::DefaultScope::kOwnPath);
  EXPECT_EQ(LoadOk({"--default-broadcast", "all"}).default_broadcast,
            protocol::DefaultScope::kAll);
}

TEST(Config, IoUringIsOnUnlessTurnedOff) {
  EXPECT_TRUE(LoadOk({}).io_uring);
  EXPECT_FALSE(LoadOk({"--io-uring", "off"}).io_uring);
  EXPECT_TRUE(LoadOk({"--io-uring", "on"}).io_uring);
  EXPECT_FALSE(LoadOk({}, {{"SIGD_IO_URING", "0"}}).io_uring);
  EXPECT_CONTAINS(LoadError({"--io-uring", "sometimes"}), "--io-uring");
}

TEST(Config, NodeIdAndLogLevelFlags) {
  const Config c = LoadOk({"--node-id", "node-7", "--log-level", "debug"});
  EXPECT_EQ(c.node_id, "node-7");
  EXPECT_EQ(c.log_level, "debug");
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    EXPECT_EQ(LoadOk({"--log-level", level}).log_level, level);
  }
}

TEST(Config, FlagValueWithEqualsSign) {
  EXPECT_EQ(LoadOk({"--max-message-bytes=2048"}).max_message_bytes, 2048u);
}

TEST(Config, RepeatedListFlags) {
  const Config c = LoadOk({"--raw-path", "/a", "--raw-path", "/b", "--pin-route", "/orders/*"});
  EXPECT_EQ(c.raw_paths, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(c.pinned_routes, (std::vector<std::string>{"/orders/*"}));
}

TEST(Config, CommaSeparatedListFlag) {
  EXPECT_EQ(LoadOk({"--raw-path", "/a, /b,/c"}).raw_paths,
            (std::vector<std::string>{"/a", "/b", "/c"}));
}

// ---- bad values ----------------------------------------------------------

TEST(Config, NonNumericNumberIsAnError) {
  EXPECT_CONTAINS(LoadError({"--max-message-bytes", "abc"}), "--max-message-bytes");
  LoadError({"--max-message-bytes", "-5"});
  LoadError({"--max-message-bytes", "12kb"});
  LoadError({"--keepalive-seconds", "1.5"});
  LoadError({"--queue-max-frames", ""});
}

TEST(Config, OutOfRangeNumberIsAnError) {
  LoadError({"--max-message-bytes", "0"});
  LoadError({"--keepalive-seconds", "0"});
  LoadError({"--max-json-depth", "100000"});
  LoadError({"--io-threads", "99999999999999999999999"});
}

TEST(Config, BadHostPortIsAnError) {
  EXPECT_CONTAINS(LoadError({"--listen", "nohostport"}), "nohostport");
  LoadError({"--listen", "host:"});
  LoadError({"--listen", "host:70000"});
  LoadError({"--grpc-listen", "127.0.0.1:http"});
}

TEST(Config, BadEnumIsAnError) {
  EXPECT_CONTAINS(LoadError({"--default-broadcast", "x"}), "--default-broadcast");
  LoadError({"--log-level", "verbose"});
}

TEST(Config, UnknownFlagIsAnError) {
  EXPECT_CONTAINS(LoadError({"--no-such-flag", "1"}), "--no-such-flag");
  LoadError({"--listen"});  // missing value
  LoadError({"stray-positional"});
}

// ---- --help --------------------------------------------------------------

TEST(Config, HelpExitsWithTextMentioningEveryFlag) {
  for (const char* help : {"--help", "-h"}) {
    const Config c = LoadOk({help});
    EXPECT_TRUE(c.exit_now);
    for (const char* flag :
         {"--listen", "--grpc-listen", "--public", "--max-message-bytes", "--io-threads",
          "--io-uring", "--default-broadcast", "--keepalive-seconds", "--handshake-timeout-seconds",
          "--queue-max-bytes", "--queue-max-frames", "--subscriber-queue", "--max-json-depth",
          "--raw-path", "--pin-route", "--node-id", "--log-level", "--drain-timeout-seconds",
          "--config", "--help", "--version"}) {
      EXPECT_CONTAINS(c.output, flag);
    }
  }
}

TEST(Config, HelpShowsDefaultsEnvironmentNamesAndKeys) {
  const std::string help = LoadOk({"--help"}).output;
  EXPECT_CONTAINS(help, "0.0.0.0:8091");
  EXPECT_CONTAINS(help, "127.0.0.1:50051");
  EXPECT_CONTAINS(help, "65536");
  EXPECT_CONTAINS(help, "SIGD_MAX_MESSAGE_BYTES");
  EXPECT_CONTAINS(help, "max_message_bytes");
  EXPECT_CONTAINS(help, "SIGD_CONFIG");
}

TEST(Config, VersionExitsWithTheVersion) {
  const Config c = LoadOk({"--version"});
  EXPECT_TRUE(c.exit_now);
  EXPECT_CONTAINS(c.output, "sigd ");
  EXPECT_CONTAINS(c.output, SIGD_VERSION);
}

// ---- environment ---------------------------------------------------------

TEST(Config, EnvironmentSetsEverySetting) {
  const Config c = LoadOk({}, {{"SIGD_LISTEN", "1.2.3.4:5"},
                               {"SIGD_GRPC_LISTEN", "127.0.0.1:6"},
                               {"SIGD_PUBLIC", "/env"},
                               {"SIGD_MAX_MESSAGE_BYTES", "777"},
                               {"SIGD_DEFAULT_BROADCAST", "own-path"},
                               {"SIGD_KEEPALIVE_SECONDS", "12"},
                               {"SIGD_DRAIN_TIMEOUT_SECONDS", "3"},
                               {"SIGD_LOG_LEVEL", "warn"}});
  EXPECT_EQ(c.listen, "1.2.3.4:5");
  EXPECT_EQ(c.grpc_listen, "127.0.0.1:6");
  EXPECT_EQ(c.public_dir, "/env");
  EXPECT_EQ(c.max_message_bytes, 777u);
  EXPECT_EQ(c.default_broadcast, protocol::DefaultScope::kOwnPath);
  EXPECT_EQ(c.keepalive, seconds(12));
  EXPECT_EQ(c.drain_timeout, seconds(3));
  EXPECT_EQ(c.log_level, "warn");
}

TEST(Config, EnvironmentListIsCommaSeparated) {
  EXPECT_EQ(LoadOk({}, {{"SIGD_RAW_PATH", "/a,/b"}}).raw_paths,
            (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(LoadOk({}, {{"SIGD_PIN_ROUTE", " /x/* , /y "}}).pinned_routes,
            (std::vector<std::string>{"/x/*", "/y"}));
}

TEST(Config, BadEnvironmentValueNamesTheVariable) {
  EXPECT_CONTAINS(LoadError({}, {{"SIGD_MAX_MESSAGE_BYTES", "abc"}}), "SIGD_MAX_MESSAGE_BYTES");
  EXPECT_CONTAINS(LoadError({}, {{"SIGD_LISTEN", "nohostport"}}), "SIGD_LISTEN");
}

TEST(Config, FlagOverridesEnvironment) {
  const Config c = LoadOk({"--listen", "3.3.3.3:3", "--raw-path", "/flag"},
                          {{"SIGD_LISTEN", "2.2.2.2:2"}, {"SIGD_RAW_PATH", "/env1,/env2"}});
  EXPECT_EQ(c.listen, "3.3.3.3:3");
  EXPECT_EQ(c.raw_paths, (std::vector<std::string>{"/flag"}));
}

TEST(Config, JwtSettingsFromFlagsAndEnvironment) {
  const Config none = LoadOk({});
  EXPECT_EQ(none.jwt_secret_file, "");
  EXPECT_EQ(none.jwt_public_key_file, "");
  EXPECT_EQ(none.jwt_leeway, seconds(30));
  const Config c = LoadOk({"--jwt-secret-file", "/etc/sigd/jwt", "--jwt-issuer", "https://id",
                           "--jwt-leeway-seconds", "5"},
                          {{"SIGD_JWT_PUBLIC_KEY_FILE", "/etc/sigd/jwt.pem"},
                           {"SIGD_JWT_AUDIENCE", "sigd"}});
  EXPECT_EQ(c.jwt_secret_file, "/etc/sigd/jwt");
  EXPECT_EQ(c.jwt_public_key_file, "/etc/sigd/jwt.pem");
  EXPECT_EQ(c.jwt_issuer, "https://id");
  EXPECT_EQ(c.jwt_audience, "sigd");
  EXPECT_EQ(c.jwt_leeway, seconds(5));
  EXPECT_CONTAINS(LoadError({"--jwt-leeway-seconds", "9999"}), "--jwt-leeway-seconds");
  const std::string help = LoadOk({"--help"}).output;
  for (const char* flag : {"--jwt-secret-file", "--jwt-public-key-file", "--jwt-issuer",
                           "--jwt-audience", "--jwt-leeway-seconds", "SIGD_JWT_SECRET_FILE"}) {
    EXPECT_CONTAINS(help, flag);
  }
}

// ---- the config file -----------------------------------------------------

TEST_F(ConfigFileTest, FileSetsSettings) {
  const std::string file = Write("sigd.toml", R"(
listen = "10.0.0.1:81"
public = "/file"
max_message_bytes = 4096
default_broadcast = "own-path"
keepalive_seconds = 7
raw_path = ["/a", "/b"]
pin_route = "/orders/*"
)");
  const Config c = LoadOk({"--config", file});
  EXPECT_EQ(c.config_file, file);
  EXPECT_EQ(c.listen, "10.0.0.1:81");
  EXPECT_EQ(c.public_dir, "/file");
  EXPECT_EQ(c.max_message_bytes, 4096u);
  EXPECT_EQ(c.default_broadcast, protocol::DefaultScope::kOwnPath);
  EXPECT_EQ(c.keepalive, seconds(7));
  EXPECT_EQ(c.raw_paths, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(c.pinned_routes, (std::vector<std::string>{"/orders/*"}));
  // Untouched settings keep their defaults.
  EXPECT_EQ(c.grpc_listen, "127.0.0.1:50051");
}

TEST_F(ConfigFileTest, PrecedenceIsFlagThenEnvironmentThenFile) {
  const std::string file = Write("sigd.toml", R"(
listen = "1.1.1.1:1"
public = "/file"
max_message_bytes = 1000
log_level = "debug"
)");
  const Config c = LoadOk({"--config", file, "--listen", "3.3.3.3:3"},
                          {{"SIGD_LISTEN", "2.2.2.2:2"}, {"SIGD_PUBLIC", "/env"}});
  EXPECT_EQ(c.listen, "3.3.3.3:3");     // flag beats env and file
  EXPECT_EQ(c.public_dir, "/env");      // env beats file
  EXPECT_EQ(c.max_message_bytes, 1000u);  // file beats default
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.grpc_listen, "127.0.0.1:50051");  // default
}

TEST_F(ConfigFileTest, SigdConfigVariableNamesTheFile) {
  const std::string file = Write("env.toml", "node_id = \"from-env-file\"\n");
  const Config c = LoadOk({}, {{"SIGD_CONFIG", file}});
  EXPECT_EQ(c.config_file, file);
  EXPECT_EQ(c.node_id, "from-env-file");
}

TEST_F(ConfigFileTest, ConfigFlagBeatsSigdConfigVariable) {
  const std::string flag_file = Write("flag.toml", "node_id = \"flag\"\n");
  const std::string env_file = Write("env.toml", "node_id = \"env\"\n");
  const Config c = LoadOk({"--config", flag_file}, {{"SIGD_CONFIG", env_file}});
  EXPECT_EQ(c.config_file, flag_file);
  EXPECT_EQ(c.node_id, "flag");
}

TEST_F(ConfigFileTest, UnknownKeyIsAnErrorNamingIt) {
  const std::string file = Write("sigd.toml", "listen = \"0.0.0.0:1\"\ncolour = \"red\"\n");
  EXPECT_CONTAINS(LoadError({"--config", file}), "colour");
}

// Found by the config fuzz target: a quoted TOML key (or a value) holding a
// newline made the startup error span lines, which sigd promises never do.
TEST_F(ConfigFileTest, ErrorsStayOneLineWhateverTheFileHolds) {
  const std::string key_file = Write("key.toml", "\"a\\nb\\u0007\" = 1\n");
  const std::string key_error = LoadError({"--config", key_file});
  EXPECT_EQ(key_error.find('\n'), std::string::npos) << key_error;
  EXPECT_CONTAINS(key_error, "a\\nb\\x07");
  const std::string value_file = Write("value.toml", "listen = \"host\\r\\nport\"\n");
  const std::string value_error = LoadError({"--config", value_file});
  EXPECT_EQ(value_error.find_first_of("\r\n"), std::string::npos) << value_error;
}

TEST_F(ConfigFileTest, FlagSpellingIsNotAKey) {
  const std::string file = Write("sigd.toml", "max-message-bytes = 100\n");
  EXPECT_CONTAINS(LoadError({"--config", file}), "max-message-bytes");
}

TEST_F(ConfigFileTest, BadValueInFileNamesTheKey) {
  const std::string file = Write("sigd.toml", "max_message_bytes = \"abc\"\n");
  EXPECT_CONTAINS(LoadError({"--config", file}), "max_message_bytes");
  EXPECT_CONTAINS(LoadError({"--config", Write("b.toml", "keepalive_seconds = 1.5\n")}),
                  "keepalive_seconds");
  EXPECT_CONTAINS(LoadError({"--config", Write("c.toml", "raw_path = []\n")}), "raw_path");
  EXPECT_CONTAINS(LoadError({"--config", Write("d.toml", "[listen]\nx = 1\n")}), "listen");
}

TEST_F(ConfigFileTest, MalformedTomlIsAnErrorNamingTheFile) {
  const std::string file = Write("bad.toml", "listen = \n");
  EXPECT_CONTAINS(LoadError({"--config", file}), file);
}

TEST_F(ConfigFileTest, MissingFileIsAnError) {
  const std::string file = (dir_ / "absent.toml").string();
  EXPECT_CONTAINS(LoadError({"--config", file}), file);
  LoadError({}, {{"SIGD_CONFIG", file}});
}

// ---- SplitHostPort -------------------------------------------------------

struct HostPortCase {
  const char* in;
  const char* host;
  uint16_t port;
};

void PrintTo(const HostPortCase& c, std::ostream* os) { *os << '"' << c.in << '"'; }

class SplitHostPortOk : public ::testing::TestWithParam<HostPortCase> {};

TEST_P(SplitHostPortOk, Splits) {
  std::string host = "unset";
  uint16_t port = 1;
  ASSERT_TRUE(SplitHostPort(GetParam().in, &host, &port).ok()) << GetParam().in;
  EXPECT_EQ(host, GetParam().host);
  EXPECT_EQ(port, GetParam().port);
}

INSTANTIATE_TEST_SUITE_P(Config, SplitHostPortOk,
                         ::testing::Values(HostPortCase{"127.0.0.1:8091", "127.0.0.1", 8091},
                                           HostPortCase{"localhost:80", "localhost", 80},
                                           HostPortCase{"[::1]:80", "::1", 80},
                                           HostPortCase{"[::]:65535", "::", 65535},
                                           HostPortCase{":8091", "0.0.0.0", 8091},
                                           HostPortCase{"example.com:0", "example.com", 0}));

TEST(SplitHostPort, RejectsWhatIsNotHostPort) {
  for (const char* bad : {"", "nohostport", "host:", "host:65536", "host:-1", "host:80x",
                          "host:http", "[::1]", "1.2.3.4"}) {
    std::string host;
    uint16_t port;
    const absl::Status s = SplitHostPort(bad, &host, &port);
    EXPECT_FALSE(s.ok()) << "accepted \"" << bad << "\" as " << host << " port " << port;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace sigd::config

namespace sigd::config {
namespace {

TEST(Config, ClusterSettingsAreOffByDefault) {
  const Config c = LoadOk({});
  EXPECT_TRUE(c.nats_url.empty());
  EXPECT_EQ(c.nats_prefix, "sigd");
  EXPECT_EQ(c.cluster_timeout, std::chrono::milliseconds(500));
}

TEST(Config, ClusterTimeoutTakesMillisecondsOrSeconds) {
  EXPECT_EQ(LoadOk({"--cluster-timeout", "250ms"}).cluster_timeout,
            std::chrono::milliseconds(250));
  EXPECT_EQ(LoadOk({"--cluster-timeout", "2s"}).cluster_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(LoadOk({}, {{"SIGD_CLUSTER_TIMEOUT", "750"}}).cluster_timeout,
            std::chrono::milliseconds(750));
  EXPECT_NE(LoadError({"--cluster-timeout", "5"}).find("10ms to 60s"), std::string::npos);
  LoadError({"--cluster-timeout", "soon"});
}

TEST(Config, ARepeatedFlagTakesItsLastValue) {
  EXPECT_EQ(LoadOk({"--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2"}).listen, "127.0.0.1:2");
  EXPECT_EQ(LoadOk({"--raw-path", "/a", "--raw-path", "/b"}).raw_paths,
            (std::vector<std::string>{"/a", "/b"}));
}

TEST(Config, NatsUrlsMustBeUrlsNatsCanUse) {
  for (const char* good : {"nats://127.0.0.1:4222", "tls://nats.example:4443", "localhost",
                           "nats://u:p@h:4222,nats://h2", "nats://[::1]:4222", " nats://h "}) {
    EXPECT_FALSE(LoadOk({"--nats", good}).nats_url.empty()) << good;
  }
  EXPECT_TRUE(LoadOk({"--nats", ""}).nats_url.empty());
  for (const char* bad : {",", "nats://h:4222,", "nats://127.0.0.1:99999", "http://h:4222",
                          "nats://", "nats://h:0", "nats://h:port", "nats://[::1", "h/x"}) {
    LoadError({"--nats", bad});
  }
  EXPECT_NE(LoadError({"--nats", "http://h:4222"}).find("nats:// or tls://"), std::string::npos);
}

TEST(Config, NatsPrefixMustBeLiteralSubjectTokens) {
  EXPECT_EQ(LoadOk({"--nats-prefix", "prod.signals-1"}).nats_prefix, "prod.signals-1");
  for (const char* bad : {"a.*", "a.>", "a..b", "a b", ".a", ""}) {
    LoadError({"--nats-prefix", bad});
  }
}

TEST(Config, NatsTlsCertNeedsItsKey) {
  EXPECT_NE(LoadError({"--nats-tls-cert", "c.pem"}).find("go together"), std::string::npos);
  const Config c = LoadOk({"--nats", "nats://h:4222", "--nats-tls-cert", "c.pem",
                           "--nats-tls-key", "k.pem", "--nats-tls-ca", "ca.pem"});
  EXPECT_EQ(c.nats_url, "nats://h:4222");
  EXPECT_EQ(c.nats_tls_key, "k.pem");
}

}  // namespace
}  // namespace sigd::config
