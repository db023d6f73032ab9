#include "server/config/config.h"

#include <cstdlib>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "toml++/toml.h"

namespace sigd::config {
namespace {

using Setter = std::function<absl::Status(Config&, const std::vector<std::string>&)>;

struct Setting {
  std::string name;   // flag name without dashes
  std::string value;  // what --help calls its value: N, FILE, on|off...
  std::string help;
  std::string default_text;
  bool is_list = false;
  Setter set;
};

std::string EnvName(const std::string& name) {
  return absl::StrCat("SIGD_", absl::AsciiStrToUpper(absl::StrReplaceAll(name, {{"-", "_"}})));
}
std::string KeyName(const std::string& name) { return absl::StrReplaceAll(name, {{"-", "_"}}); }

template <typename T>
Setter Unsigned(T Config::*field, uint64_t min, uint64_t max) {
  return [field, min, max](Config& c, const std::vector<std::string>& v) -> absl::Status {
    uint64_t n;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v.back()), &n) || n < min || n > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a whole number from ", min, " to ", max));
    }
    c.*field = static_cast<T>(n);
    return absl::OkStatus();
  };
}

Setter Seconds(std::chrono::seconds Config::*field, uint64_t min, uint64_t max) {
  return [field, min, max](Config& c, const std::vector<std::string>& v) -> absl::Status {
    uint64_t n;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v.back()), &n) || n < min || n > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a number of seconds from ", min, " to ", max));
    }
    c.*field = std::chrono::seconds(n);
    return absl::OkStatus();
  };
}

Setter String(std::string Config::*field) {
  return [field](Config& c, const std::vector<std::string>& v) {
    c.*field = v.back();
    return absl::OkStatus();
  };
}

Setter HostPort(std::string Config::*field) {
  return [field](Config& c, const std::vector<std::string>& v) -> absl::Status {
    std::string host;
    uint16_t port;
    if (absl::Status s = SplitHostPort(v.back(), &host, &port); !s.ok()) return s;
    c.*field = v.back();
    return absl::OkStatus();
  };
}

Setter List(std::vector<std::string> Config::*field) {
  return [field](Config& c, const std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (const std::string& item : v) {
      for (absl::string_view part : absl::StrSplit(item, ',', absl::SkipWhitespace())) {
        out.emplace_back(absl::StripAsciiWhitespace(part));
      }
    }
    c.*field = std::move(out);
    return absl::OkStatus();
  };
}

// NATS subject tokens: no wildcards, spaces or empty tokens.
bool ValidSubjectPrefix(const std::string& prefix) {
  if (prefix.empty() || prefix.size() > 64) return false;
  for (absl::string_view token : absl::StrSplit(prefix, '.')) {
    if (token.empty()) return false;
    for (char ch : token) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') {
        return false;
      }
    }
  }
  return true;
}

// One --nats URL as nats.c takes it: [nats://|tls://][user[:password]@]host[:port].
absl::Status CheckNatsUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (const size_t scheme = rest.find("://"); scheme != absl::string_view::npos) {
    const absl::string_view name = rest.substr(0, scheme);
    if (name != "nats" && name != "tls") {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", url, "\": the scheme must be nats:// or tls://"));
    }
    rest.remove_prefix(scheme + 3);
  }
  if (const size_t at = rest.rfind('@'); at != absl::string_view::npos) rest.remove_prefix(at + 1);
  absl::string_view host = rest;
  absl::string_view port;
  if (absl::StartsWith(rest, "[")) {  // [v6] or [v6]:port
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": unclosed [ in the host"));
    }
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (!after.empty() && !absl::ConsumePrefix(&after, ":")) {
      return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" is not HOST[:PORT]"));
    }
    port = after;
  } else if (const size_t colon = rest.rfind(':'); colon != absl::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || host.find_first_of("/?# ") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" has no valid host"));
  }
  uint32_t number = 0;
  if (!port.empty() && (!absl::SimpleAtoi(port, &number) || number == 0 || number > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\" has no valid port"));
  }
  return absl::OkStatus();
}

std::vector<Setting> Settings() {
  const Config d;
  return {
      {"listen", "HOST:PORT", "HTTP and WebSocket listener, HOST:PORT", d.listen, false,
       HostPort(&Config::listen)},
      {"grpc-listen", "HOST:PORT", "gRPC control plane listener, HOST:PORT (keep it on loopback)",
       d.grpc_listen, false, HostPort(&Config::grpc_listen)},
      {"public", "DIR", "folder of static files served over HTTP (GET / -> index.html)",
       d.public_dir, false, String(&Config::public_dir)},
      {"max-message-bytes", "BYTES", "largest inbound WebSocket message; larger closes with 1009",
       std::to_string(d.max_message_bytes), false,
       Unsigned(&Config::max_message_bytes, 16, uint64_t{1} << 30)},
      {"io-threads", "N", "I/O threads, each owning a shard of the clients (0: one per core)",
       std::to_string(d.io_threads), false, Unsigned(&Config::io_threads, 0, 256)},
      {"io-uring", "on|off",
       "send a burst's frames to all its clients in one io_uring submission (off: a system "
       "call per client; also off where the kernel refuses io_uring)",
       "on", false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         const std::string value = absl::AsciiStrToLower(absl::StripAsciiWhitespace(v.back()));
         if (value == "on" || value == "true" || value == "1") {
           c.io_uring = true;
         } else if (value == "off" || value == "false" || value == "0") {
           c.io_uring = false;
         } else {
           return absl::InvalidArgumentError("expected on or off");
         }
         return absl::OkStatus();
       }},
      {"default-broadcast", "all|own-path",
       "where a message with no path, clientId or direct goes: all (Pode) or own-path", "all",
       false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         if (v.back() == "all") {
           c.default_broadcast = protocol::DefaultScope::kAll;
         } else if (v.back() == "own-path") {
           c.default_broadcast = protocol::DefaultScope::kOwnPath;
         } else {
           return absl::InvalidArgumentError("expected all or own-path");
         }
         return absl::OkStatus();
       }},
      {"keepalive-seconds", "SECONDS",
       "ping a client after this long idle; close it if nothing arrives for as long again",
       std::to_string(d.keepalive.count()), false, Seconds(&Config::keepalive, 1, 3600)},
      {"handshake-timeout-seconds", "SECONDS",
       "deadline for the whole HTTP request and WebSocket upgrade (not reset by trickling)",
       std::to_string(d.handshake_timeout.count()), false,
       Seconds(&Config::handshake_timeout, 1, 600)},
      {"queue-max-bytes", "BYTES",
       "per-client outbound queue limit in bytes; a full queue closes with 1013",
       std::to_string(d.queue_max_bytes), false,
       Unsigned(&Config::queue_max_bytes, 1024, uint64_t{1} << 34)},
      {"queue-max-frames", "N", "per-client outbound queue limit in frames",
       std::to_string(d.queue_max_frames), false,
       Unsigned(&Config::queue_max_frames, 1, uint64_t{1} << 24)},
      {"subscriber-queue", "N", "per-subscriber event queue limit (events)",
       std::to_string(d.subscriber_queue), false,
       Unsigned(&Config::subscriber_queue, 1, uint64_t{1} << 24)},
      {"max-json-depth", "N", "deepest nesting accepted in an inbound JSON message",
       std::to_string(d.max_json_depth), false, Unsigned(&Config::max_json_depth, 2, 1000)},
      {"raw-path", "PATTERN",
       "path pattern whose frames are relayed verbatim (repeatable or comma-separated)",
       "", true, List(&Config::raw_paths)},
      {"pin-route", "PATTERN",
       "route pattern that answers no_handler while no subscriber holds it "
       "(repeatable or comma-separated)",
       "", true, List(&Config::pinned_routes)},
      {"node-id", "NAME",
       "this node's name in ListClients and GetServerInfo (default: host name)", "",
       false, String(&Config::node_id)},
      {"log-level", "LEVEL", "trace, debug, info, warn, error or off", d.log_level, false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (const char* l : kLevels) {
           if (v.back() == l) {
             c.log_level = v.back();
             return absl::OkStatus();
           }
         }
         return absl::InvalidArgumentError("expected trace, debug, info, warn, error or off");
       }},
      {"log-format", "text|json", "text (human) or json (one object per line)", d.log_format, false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         if (v.back() != "text" && v.back() != "json") {
           return absl::InvalidArgumentError("expected text or json");
         }
         c.log_format = v.back();
         return absl::OkStatus();
       }},
      {"admin-listen", "HOST:PORT",
       "admin HTTP listener (JSON API, /metrics, /healthz, /readyz), HOST:PORT; loopback only",
       "", false, HostPort(&Config::admin_listen)},
      {"control-token-file", "FILE",
       "file of bearer tokens (one per line) required by gRPC calls and the admin /v1 API; "
       "reloaded on SIGHUP",
       "", false, String(&Config::control_token_file)},
      {"allowed-origins", "ORIGIN",
       "Origin values allowed to open a WebSocket (comma-separated or repeated; "
       "default: any); others get 403",
       "", true, List(&Config::allowed_origins)},
      {"trusted-proxies", "ADDRESS|CIDR",
       "load balancers (addresses or CIDRs, comma-separated) whose X-Forwarded-For gives the "
       "client's address",
       "", true, List(&Config::trusted_proxies)},
      {"max-subscribers", "N", "most SubscribeSignals streams at once; more get RESOURCE_EXHAUSTED",
       std::to_string(d.max_subscribers), false,
       Unsigned(&Config::max_subscribers, 1, 1u << 20)},
      {"max-connections", "N", "most WebSocket clients at once (0: no cap); more get 503",
       std::to_string(d.max_connections), false,
       Unsigned(&Config::max_connections, 0, uint64_t{1} << 32)},
      {"max-connections-per-address", "N",
       "most WebSocket clients from one remote address (0: no cap); more get 503",
       std::to_string(d.max_connections_per_address), false,
       Unsigned(&Config::max_connections_per_address, 0, uint64_t{1} << 32)},
      {"rate-limit", "N",
       "messages a second each client may send (0: off); over it: error frame rate_limited, "
       "sustained: close 1008",
       std::to_string(d.rate_limit), false, Unsigned(&Config::rate_limit, 0, 1000000)},
      {"rate-limit-burst", "N", "messages a client may send at once above the rate (0: the rate)",
       std::to_string(d.rate_limit_burst), false,
       Unsigned(&Config::rate_limit_burst, 0, 1000000)},
      {"client-targeting", "any|own-path|none",
       "what a browser may address with path/clientId: any (Pode), own-path, or none", "any",
       false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         if (v.back() == "any") {
           c.client_targeting = Config::Targeting::kAny;
         } else if (v.back() == "own-path") {
           c.client_targeting = Config::Targeting::kOwnPath;
         } else if (v.back() == "none") {
           c.client_targeting = Config::Targeting::kNone;
         } else {
           return absl::InvalidArgumentError("expected any, own-path or none");
         }
         return absl::OkStatus();
       }},
      {"drain-timeout-seconds", "SECONDS", "on SIGTERM, how long to wait for clients to close",
       std::to_string(d.drain_timeout.count()), false,
       Seconds(&Config::drain_timeout, 0, 600)},
      {"tls-cert", "FILE",
       "PEM certificate chain (leaf first): --listen serves https and wss only; "
       "reloaded on SIGHUP",
       "", false, String(&Config::tls_cert)},
      {"tls-key", "FILE", "PEM private key for --tls-cert", "", false, String(&Config::tls_key)},
      {"tls-pkcs12", "FILE",
       "PKCS#12 (.pfx/.p12) certificate and key, instead of --tls-cert/--tls-key",
       "", false, String(&Config::tls_pkcs12)},
      {"tls-password", "PASSWORD",
       "password of --tls-pkcs12 or of an encrypted --tls-key (prefer SIGD_TLS_PASSWORD)", "",
       false, String(&Config::tls_password)},
      {"grpc-tls-cert", "FILE",
       "PEM certificate chain for the gRPC control plane (TLS); re-read when the file changes",
       "", false, String(&Config::grpc_tls_cert)},
      {"grpc-tls-key", "FILE", "PEM private key for --grpc-tls-cert", "", false,
       String(&Config::grpc_tls_key)},
      {"grpc-tls-client-ca", "FILE",
       "PEM CA bundle: gRPC clients must present a certificate it signed (mutual TLS)", "",
       false, String(&Config::grpc_tls_client_ca)},
      {"nats", "URL",
       "NATS server URL(s), comma-separated: joins a cluster of sigd nodes "
       "(none: a single node, no NATS needed)",
       "", false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         const std::string value(absl::StripAsciiWhitespace(v.back()));
         if (!value.empty()) {
           for (absl::string_view url : absl::StrSplit(value, ',')) {
             if (absl::Status s = CheckNatsUrl(absl::StripAsciiWhitespace(url)); !s.ok()) return s;
           }
         }
         c.nats_url = value;
         return absl::OkStatus();
       }},
      {"nats-prefix", "PREFIX",
       "NATS subject prefix of this cluster (dot-separated tokens of letters, digits, - and _)",
       d.nats_prefix, false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         if (!ValidSubjectPrefix(v.back())) {
           return absl::InvalidArgumentError(
               "expected dot-separated tokens of letters, digits, - and _");
         }
         c.nats_prefix = v.back();
         return absl::OkStatus();
       }},
      {"cluster-timeout", "DURATION",
       "how long cluster-wide calls wait for other nodes: 500ms, 2s, or milliseconds",
       "500ms", false,
       [](Config& c, const std::vector<std::string>& v) -> absl::Status {
         absl::string_view text = absl::StripAsciiWhitespace(v.back());
         uint64_t scale = 1;
         if (absl::ConsumeSuffix(&text, "ms")) {
         } else if (absl::ConsumeSuffix(&text, "s")) {
           scale = 1000;
         }
         uint64_t n;
         if (!absl::SimpleAtoi(text, &n) || n * scale < 10 || n * scale > 60000) {
           return absl::InvalidArgumentError("expected a duration from 10ms to 60s");
         }
         c.cluster_timeout = std::chrono::milliseconds(n * scale);
         return absl::OkStatus();
       }},
      {"nats-creds", "FILE", "NATS credentials file (.creds: JWT and NKey seed)", "", false,
       String(&Config::nats_creds)},
      {"nats-user", "NAME", "NATS user name (with --nats-password)", "", false,
       String(&Config::nats_user)},
      {"nats-password", "PASSWORD",
       "NATS password (prefer SIGD_NATS_PASSWORD or the config file)", "",
       false, String(&Config::nats_password)},
      {"nats-token", "TOKEN",
       "NATS authentication token (prefer SIGD_NATS_TOKEN or the config file)",
       "", false, String(&Config::nats_token)},
      {"nats-tls-ca", "FILE",
       "CA certificates (PEM) that sign the NATS server's certificate; turns TLS on",
       "", false, String(&Config::nats_tls_ca)},
      {"nats-tls-cert", "FILE",
       "client certificate (PEM) for NATS mutual TLS, with --nats-tls-key", "",
       false, String(&Config::nats_tls_cert)},
      {"nats-tls-key", "FILE", "private key (PEM) of --nats-tls-cert", "", false,
       String(&Config::nats_tls_key)},
      {"jwt-secret-file", "FILE",
       "file of HS256 secrets (one per line, 32+ bytes) for browser JWTs; with this or "
       "--jwt-public-key-file set, every WebSocket upgrade needs a valid token; reloaded on SIGHUP",
       "", false, String(&Config::jwt_secret_file)},
      {"jwt-public-key-file", "FILE",
       "file of PEM RSA public keys (2048+ bits) for RS256 browser JWTs; reloaded on SIGHUP", "",
       false, String(&Config::jwt_public_key_file)},
      {"jwt-issuer", "ISSUER", "when set, a browser JWT's \"iss\" must equal it", "", false,
       String(&Config::jwt_issuer)},
      {"jwt-audience", "AUDIENCE", "when set, a browser JWT's \"aud\" must hold it", "", false,
       String(&Config::jwt_audience)},
      {"jwt-leeway-seconds", "SECONDS", "clock skew allowed when checking a JWT's exp and nbf",
       std::to_string(d.jwt_leeway.count()), false, Seconds(&Config::jwt_leeway, 0, 600)},
  };
}

absl::StatusOr<std::vector<std::string>> TomlValues(const toml::node& node) {
  auto scalar = [](const toml::node& n) -> std::optional<std::string> {
    if (auto s = n.value<std::string>()) return *s;
    if (n.is_integer()) return std::to_string(*n.value<int64_t>());
    if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
    return std::nullopt;
  };
  std::vector<std::string> out;
  if (const toml::array* arr = node.as_array()) {
    for (const toml::node& item : *arr) {
      auto s = scalar(item);
      if (!s) return absl::InvalidArgumentError("expected a list of strings or numbers");
      out.push_back(*s);
    }
    return out;
  }
  auto s = scalar(node);
  if (!s) return absl::InvalidArgumentError("expected a string, number or boolean");
  out.push_back(*s);
  return out;
}

// Startup errors are printed as one line (and logged): a key or value from
// the file or environment must not carry a newline or other control
// character into them, so those are written as escapes.
std::string OneLine(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (const char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<Config> LoadLayers(const std::vector<std::string>& args, const EnvLookup& env);

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

absl::Status SplitHostPort(const std::string& in, std::string* host, uint16_t* port) {
  const size_t colon = in.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", in, "\" is not HOST:PORT"));
  }
  std::string h = in.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  uint32_t p;
  if (!absl::SimpleAtoi(in.substr(colon + 1), &p) || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", in, "\" has no valid port"));
  }
  *host = h.empty() ? "0.0.0.0" : h;
  *port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& args, const EnvLookup& env) {
  absl::StatusOr<Config> config = LoadLayers(args, env);
  if (!config.ok()) {
    return absl::Status(config.status().code(), OneLine(config.status().message()));
  }
  return config;
}

namespace {

absl::StatusOr<Config> LoadLayers(const std::vector<std::string>& args, const EnvLookup& env) {
  const std::vector<Setting> settings = Settings();
  CLI::App app("sigd: a WebSocket signal server controlled over gRPC.\n"
               "Every setting is also a config-file key (--config) and a SIGD_* environment "
               "variable;\nflags override the environment, which overrides the file.",
               "sigd");
  app.set_version_flag("--version", std::string(SIGD_VERSION));
  app.get_formatter()->column_width(36);

  std::vector<std::vector<std::string>> flag_values(settings.size());
  std::vector<CLI::Option*> options;
  for (size_t i = 0; i < settings.size(); ++i) {
    const Setting& s = settings[i];
    std::string help = absl::StrCat(s.help, "\n[default: ",
                                    s.default_text.empty() ? "none" : s.default_text,
                                    "; env ", EnvName(s.name), "; key ", KeyName(s.name), "]");
    CLI::Option* opt = app.add_option("--" + s.name, flag_values[i], help);
    opt->type_name(s.value);
    // A repeated flag: the last one wins, so a wrapper can append overrides.
    if (!s.is_list) opt->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    options.push_back(opt);
  }
  std::string config_file;
  app.add_option("--config", config_file,
                 "TOML file of settings (keys as listed above)\n[default: none; env SIGD_CONFIG]");

  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    Config c;
    c.exit_now = true;
    c.output = app.help();
    return c;
  } catch (const CLI::CallForVersion&) {
    Config c;
    c.exit_now = true;
    c.output = absl::StrCat("sigd ", SIGD_VERSION, "\n");
    return c;
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }

  Config config;
  if (config_file.empty()) {
    if (auto f = env("SIGD_CONFIG")) config_file = *f;
  }
  config.config_file = config_file;

  // Layer 1: the file.
  if (!config_file.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(config_file);
    } catch (const toml::parse_error& err) {
      return absl::InvalidArgumentError(absl::StrCat(
          config_file, ":", err.source().begin.line, ": ", std::string(err.description())));
    }
    for (const auto& [key, node] : table) {
      const Setting* setting = nullptr;
      for (const Setting& s : settings) {
        if (KeyName(s.name) == std::string(key.str())) setting = &s;
      }
      if (setting == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(config_file, ": unknown setting \"", std::string(key.str()), "\""));
      }
      absl::StatusOr<std::vector<std::string>> values = TomlValues(node);
      if (!values.ok() || values->empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            config_file, ": ", std::string(key.str()), ": ",
            values.ok() ? "empty list" : std::string(values.status().message())));
      }
      if (absl::Status st = setting->set(config, *values); !st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(config_file, ": ", std::string(key.str()), ": ", st.message()));
      }
    }
  }
  // Layer 2: the environment. Layer 3: flags.
  for (size_t i = 0; i < settings.size(); ++i) {
    const Setting& s = settings[i];
    if (auto v = env(EnvName(s.name))) {
      if (absl::Status st = s.set(config, {*v}); !st.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(EnvName(s.name), ": ", st.message()));
      }
    }
  }
  for (size_t i = 0; i < settings.size(); ++i) {
    if (options[i]->count() == 0) continue;
    if (absl::Status st = settings[i].set(config, flag_values[i]); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", settings[i].name, ": ", st.message()));
    }
  }
  if (config.nats_tls_cert.empty() != config.nats_tls_key.empty()) {
    return absl::InvalidArgumentError("--nats-tls-cert and --nats-tls-key go together");
  }
  return config;
}

}  // namespace

}  // namespace sigd::config
