// sigd's settings: defaults, overridden by a TOML file (--config), overridden
// by SIGD_* environment variables, overridden by flags. Every setting has the
// same name in all three places: flag --max-message-bytes, config key
// max_message_bytes, variable SIGD_MAX_MESSAGE_BYTES.
//
//   absl::StatusOr<Config> c = LoadConfig(args, [](auto n) { return getenv(n); });
//   if (c.ok() && c->exit_now) { print(c->output); return 0; }   // --help
#ifndef SIGD_SERVER_CONFIG_CONFIG_H_
#define SIGD_SERVER_CONFIG_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/protocol/default_target.h"

namespace sigd::config {

struct Config {
  std::string listen = "0.0.0.0:8091";
  std::string grpc_listen = "127.0.0.1:50051";
  std::string public_dir = "./public";
  uint64_t max_message_bytes = 64 * 1024;
  uint32_t io_threads = 0;  // 0: one per core
  bool io_uring = true;      // a burst's socket writes in one submission
  protocol::DefaultScope default_broadcast = protocol::DefaultScope::kAll;
  std::chrono::seconds keepalive{30};
  std::chrono::seconds handshake_timeout{10};
  uint64_t queue_max_bytes = 4 * 1024 * 1024;
  uint64_t queue_max_frames = 4096;
  uint32_t subscriber_queue = 1024;
  int max_json_depth = 64;
  std::vector<std::string> raw_paths;
  std::vector<std::string> pinned_routes;
  std::string node_id;  // empty: the host name
  std::string log_level = "info";
  std::string log_format = "text";  // text or json
  std::string admin_listen;          // empty: no admin HTTP listener
  std::string control_token_file;    // bearer tokens for gRPC and /v1/*; empty: none
  std::vector<std::string> allowed_origins;  // empty: any origin
  std::vector<std::string> trusted_proxies;  // addresses/CIDRs whose X-Forwarded-For counts
  uint32_t max_subscribers = 1024;           // concurrent SubscribeSignals streams
  uint64_t max_connections = 0;              // 0: no cap
  uint64_t max_connections_per_address = 0;  // 0: no cap
  uint32_t rate_limit = 0;                   // messages per second per client; 0: off
  uint32_t rate_limit_burst = 0;             // 0: same as rate_limit
  enum class Targeting { kAny, kOwnPath, kNone };
  Targeting client_targeting = Targeting::kAny;
  std::chrono::seconds drain_timeout{5};
  // https/wss on --listen: PEM certificate chain + key, or one PKCS#12 file.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_pkcs12;
  std::string tls_password;  // encrypted key or PKCS#12
  // TLS on the gRPC control plane; with a client CA, mutual TLS.
  std::string grpc_tls_cert;
  std::string grpc_tls_key;
  std::string grpc_tls_client_ca;
  // Cluster mode: active only when nats_url is set.
  std::string nats_url;                    // e.g. nats://10.0.0.5:4222 (comma-separated list)
  std::string nats_prefix = "sigd";        // subject prefix, so clusters can share a server
  std::chrono::milliseconds cluster_timeout{500};  // wait for other nodes' answers
  std::string nats_creds;                  // .creds file (JWT + NKey)
  std::string nats_user;
  std::string nats_password;
  std::string nats_token;
  std::string nats_tls_ca;                 // CA bundle; setting any TLS option means tls://
  std::string nats_tls_cert;               // client certificate (PEM), with nats_tls_key
  std::string nats_tls_key;
  // Browser JWTs: with either key file set, every upgrade needs a valid token.
  std::string jwt_secret_file;      // HS256 secrets, one per line
  std::string jwt_public_key_file;  // RS256 PEM public keys
  std::string jwt_issuer;           // required "iss" when set
  std::string jwt_audience;         // required among "aud" when set
  std::chrono::seconds jwt_leeway{30};
  std::string config_file;

  // Set when the command line asked for --help or --version: print `output`
  // and exit 0 without starting.
  bool exit_now = false;
  std::string output;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment.
std::optional<std::string> ProcessEnv(const std::string& name);

// args[0] is the program name. InvalidArgument with a one-line message for a
// bad flag, value, file or key.
absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& args,
                                  const EnvLookup& env = ProcessEnv);

// "host:port", "[v6]:port" or ":port" split into host and port.
absl::Status SplitHostPort(const std::string& in, std::string* host, uint16_t* port);

}  // namespace sigd::config

#endif  // SIGD_SERVER_CONFIG_CONFIG_H_
