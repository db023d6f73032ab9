#include "client-cli/global_options.h"

#include <CLI/CLI.hpp>

namespace sigd::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.add_option("-s,--server", options.server,
                 "sigd gRPC address, HOST:PORT (or any gRPC target)")
      ->envname(kServerEnv)
      ->capture_default_str()
      ->check([](const std::string& value) -> std::string {
        return value.empty() ? "must not be empty" : "";
      });
  app.add_option("-t,--timeout", options.timeout_seconds,
                 "deadline of each call, in seconds")
      ->capture_default_str()
      ->check([](const std::string& value) -> std::string {
        double seconds = 0;
        // Beyond about 30 years the deadline arithmetic would overflow.
        if (!CLI::detail::lexical_cast(value, seconds) || !(seconds > 0) ||
            seconds > 1e9) {
          return "must be a positive number of seconds";
        }
        return "";
      });
  app.add_option("--token", options.token,
                 "bearer token, for a sigd started with --control-token-file "
                 "(prefer $SIGD_TOKEN: flags show up in ps)")
      ->envname(kTokenEnv);
  app.add_flag("--tls", options.tls,
               "connect with TLS, trusting the system's certificate authorities");
  app.add_option("--tls-ca", options.tls_ca,
                 "PEM CA bundle that signed sigd's --grpc-tls-cert (implies --tls)")
      ->envname(kTlsCaEnv)
      ->check(CLI::ExistingFile);
  CLI::Option* cert =
      app.add_option("--tls-cert", options.tls_cert,
                     "PEM client certificate, for a sigd with --grpc-tls-client-ca (implies --tls)")
          ->envname(kTlsCertEnv)
          ->check(CLI::ExistingFile);
  CLI::Option* key = app.add_option("--tls-key", options.tls_key, "PEM key of --tls-cert")
                         ->envname(kTlsKeyEnv)
                         ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  app.add_flag("--json", options.json, "print results as JSON");
  // Global flags are accepted after the command name too
  // ("sigctl info --server HOST:PORT"); subcommands inherit this setting.
  app.fallthrough();
}

}  // namespace sigd::cli
