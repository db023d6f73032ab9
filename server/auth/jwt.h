// JSON Web Tokens (RFC 7519, compact JWS) for browser clients: opt-in
// authentication at the WebSocket upgrade. Verifies HS256 (shared secrets)
// and RS256 (RSA public keys) with OpenSSL 3; anything else, "none"
// included, is refused. `exp` is required and enforced, `nbf` when present,
// both with a small leeway; `iss` and `aud` when configured. Two optional
// claims narrow what a client may do:
//
//   "paths": ["/chat/*", "/news"]   paths it may connect to
//   "send":  ["/chat/*"]            paths its messages may address
//
// with the route-pattern syntax (exact, or a "/prefix/*"). An absent claim
// is no restriction; an empty list allows nothing.
//
//   JwtVerifier jwt({.secret_file = "/etc/sigd/jwt-secrets"});
//   if (!jwt.Reload().ok()) ...;                    // at start and on SIGHUP
//   absl::StatusOr<JwtClaims> c = jwt.Verify(token, absl::Now());
//   if (!c.ok()) Reject401(c.status().message());   // never names the token
//   if (!c->MayConnect(path)) Reject403();
#ifndef SIGD_SERVER_AUTH_JWT_H_
#define SIGD_SERVER_AUTH_JWT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/routes/route_pattern.h"

namespace sigd::auth {

// Unpadded base64url (RFC 4648 section 5), as JWS uses. Decoding is strict:
// padding, whitespace or any other character is InvalidArgument.
std::string Base64UrlEncode(std::string_view data);
absl::StatusOr<std::string> Base64UrlDecode(std::string_view text);

using PathList = std::vector<routes::RoutePattern>;

struct JwtClaims {
  std::string subject;                       // "sub", or ""
  absl::Time expires = absl::InfiniteFuture();  // "exp"
  std::shared_ptr<const PathList> paths;     // "paths"; null: any path
  std::shared_ptr<const PathList> send;      // "send"; null: no restriction

  bool MayConnect(std::string_view path) const { return Allows(paths.get(), path); }
  static bool Allows(const PathList* list, std::string_view path);
};

// An immutable set of verification keys. Secrets and public keys may each
// hold several entries so that keys can rotate: a token verifies if any key
// of its algorithm accepts it.
class JwtKeySet {
 public:
  ~JwtKeySet();
  JwtKeySet(const JwtKeySet&) = delete;
  JwtKeySet& operator=(const JwtKeySet&) = delete;

  // `secrets_text`: one HS256 secret per line, surrounding whitespace
  // trimmed, blank lines and lines starting with '#' skipped; each at least
  // 32 bytes (RFC 7518 3.2). `pem_text`: PEM "PUBLIC KEY" blocks, RSA of at
  // least 2048 bits. Either may be empty, not both.
  static absl::StatusOr<std::shared_ptr<const JwtKeySet>> FromText(std::string_view secrets_text,
                                                                   std::string_view pem_text);

  size_t secret_count() const { return secrets_.size(); }
  size_t public_key_count() const { return public_keys_.size(); }

 private:
  friend class JwtVerifier;
  JwtKeySet() = default;

  std::vector<std::string> secrets_;
  std::vector<void*> public_keys_;  // EVP_PKEY*, owned (kept out of this header)
};

class JwtVerifier {
 public:
  struct Options {
    std::string secret_file;       // HS256 secrets; "" for none
    std::string public_key_file;   // RS256 PEM public keys; "" for none
    std::string issuer;            // required "iss" when not empty
    std::string audience;          // required among "aud" when not empty
    absl::Duration leeway = absl::Seconds(30);  // clock skew allowed on exp/nbf
  };

  explicit JwtVerifier(Options options) : options_(std::move(options)) {}

  // Reads the key files again and swaps the key set in one step. On any
  // error (unreadable file, bad key, no key at all) the previous keys stay.
  absl::Status Reload();

  // Installs keys directly (tests; Reload() replaces them).
  void SetKeys(std::shared_ptr<const JwtKeySet> keys);

  // Unauthenticated, with a short reason that never contains the token, for
  // anything but a valid token whose claims hold at `now`.
  absl::StatusOr<JwtClaims> Verify(std::string_view token, absl::Time now) const;

  const Options& options() const { return options_; }
  std::shared_ptr<const JwtKeySet> keys() const;

 private:
  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const JwtKeySet> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigd::auth

#endif  // SIGD_SERVER_AUTH_JWT_H_
