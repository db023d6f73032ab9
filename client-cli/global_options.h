// Flags shared by every sigctl command: where the server is, how long a call
// may take, and how results are printed.
#ifndef SIGD_CLIENT_CLI_GLOBAL_OPTIONS_H_
#define SIGD_CLIENT_CLI_GLOBAL_OPTIONS_H_

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace sigd::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:50051";
inline constexpr char kServerEnv[] = "SIGD_SERVER";
inline constexpr char kTokenEnv[] = "SIGD_TOKEN";
// Not SIGD_TLS_*: those are sigd's own wss certificate and key, and a shell
// or container that sets them for sigd would turn sigctl's TLS on with the
// wrong certificate.
inline constexpr char kTlsCaEnv[] = "SIGCTL_TLS_CA";
inline constexpr char kTlsCertEnv[] = "SIGCTL_TLS_CERT";
inline constexpr char kTlsKeyEnv[] = "SIGCTL_TLS_KEY";

struct GlobalOptions {
  std::string server = kDefaultServer;
  double timeout_seconds = 5;  // deadline of every unary call
  bool json = false;           // machine-readable output for every command
  std::string token;           // bearer token for a sigd with --control-token-file
  // TLS to a sigd with --grpc-tls-cert: `tls` alone trusts the system's CAs;
  // a CA file implies TLS; a client certificate answers --grpc-tls-client-ca.
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;

  bool UsesTls() const { return tls || !tls_ca.empty() || !tls_cert.empty(); }
};

// Registers --server (or $SIGD_SERVER), --token (or $SIGD_TOKEN), --timeout,
// the TLS options (--tls, --tls-ca, --tls-cert, --tls-key, or SIGCTL_TLS_*) and
// --json on the top-level app; a command's own --json flag (list, info) means
// the same.
void AddGlobalOptions(CLI::App& app, GlobalOptions& options);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_GLOBAL_OPTIONS_H_
