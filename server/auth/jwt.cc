#include "server/auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "server/protocol/inbound_message.h"

namespace sigd::auth {
namespace {

using nlohmann::json;

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// A token's header and claims are small, flat objects: refuse deep nesting
// before nlohmann sees it.
constexpr int kMaxJsonDepth = 16;
constexpr size_t kMinSecretBytes = 32;
constexpr int kMinRsaBits = 2048;

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

absl::Status Invalid(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", why));
}

absl::StatusOr<json> DecodeObject(std::string_view part, const char* what) {
  absl::StatusOr<std::string> text = Base64UrlDecode(part);
  if (!text.ok()) return Invalid(absl::StrCat(what, " is not base64url"));
  if (!protocol::WithinJsonDepth(*text, kMaxJsonDepth)) {
    return Invalid(absl::StrCat(what, " is nested too deeply"));
  }
  json value;
  try {
    value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    return Invalid(absl::StrCat(what, " is not JSON"));
  }
  if (value.is_discarded()) return Invalid(absl::StrCat(what, " is not JSON"));
  if (!value.is_object()) return Invalid(absl::StrCat(what, " is not a JSON object"));
  return value;
}

// A NumericDate claim (seconds since the epoch, possibly fractional).
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<absl::Time>();
  if (!it->is_number()) return Invalid(absl::StrCat("\"", name, "\" is not a number"));
  return std::optional<absl::Time>(absl::UnixEpoch() + absl::Seconds(it->get<double>()));
}

// A list-of-patterns claim; null when absent.
absl::StatusOr<std::shared_ptr<const PathList>> PathClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::shared_ptr<const PathList>();
  if (!it->is_array()) return Invalid(absl::StrCat("\"", name, "\" is not a list of paths"));
  auto list = std::make_shared<PathList>();
  for (const json& item : *it) {
    if (!item.is_string()) return Invalid(absl::StrCat("\"", name, "\" is not a list of paths"));
    absl::StatusOr<routes::RoutePattern> p = routes::RoutePattern::Parse(item.get<std::string>());
    if (!p.ok()) return Invalid(absl::StrCat("\"", name, "\": ", p.status().message()));
    list->push_back(*std::move(p));
  }
  return std::shared_ptr<const PathList>(std::move(list));
}

bool VerifyHmac(const std::vector<std::string>& secrets, std::string_view input,
                std::string_view signature) {
  bool ok = false;
  for (const std::string& secret : secrets) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                  reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                  sizeof(mac), &mac_len) == nullptr) {
      ERR_clear_error();
      continue;
    }
    // Every secret is tried, and each comparison takes the same time however
    // many bytes match.
    ok |= mac_len == signature.size() &&
          CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
  }
  return ok;
}

bool VerifyRsa(const std::vector<void*>& keys, std::string_view input,
               std::string_view signature) {
  for (void* key : keys) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) return false;
    const bool ok =
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(key)) ==
            1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (ok) return true;
  }
  return false;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t n = static_cast<unsigned char>(data[i]) << 16 |
                       static_cast<unsigned char>(data[i + 1]) << 8 |
                       static_cast<unsigned char>(data[i + 2]);
    out.push_back(kAlphabet[n >> 18 & 63]);
    out.push_back(kAlphabet[n >> 12 & 63]);
    out.push_back(kAlphabet[n >> 6 & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i + 1 == data.size()) {
    const uint32_t n = static_cast<unsigned char>(data[i]) << 16;
    out.push_back(kAlphabet[n >> 18 & 63]);
    out.push_back(kAlphabet[n >> 12 & 63]);
  } else if (i + 2 == data.size()) {
    const uint32_t n = static_cast<unsigned char>(data[i]) << 16 |
                       static_cast<unsigned char>(data[i + 1]) << 8;
    out.push_back(kAlphabet[n >> 18 & 63]);
    out.push_back(kAlphabet[n >> 12 & 63]);
    out.push_back(kAlphabet[n >> 6 & 63]);
  }
  return out;
}

absl::StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return absl::InvalidArgumentError("truncated base64url");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const int v = Base64UrlValue(c);
    if (v < 0) return absl::InvalidArgumentError("not base64url");
    bits = bits << 6 | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>(bits >> count & 0xff));
    }
  }
  // Leftover bits must be zero, so each token has exactly one spelling.
  if ((bits & ((1u << count) - 1)) != 0) {
    return absl::InvalidArgumentError("non-canonical base64url");
  }
  return out;
}

bool JwtClaims::Allows(const PathList* list, std::string_view path) {
  if (list == nullptr) return true;
  for (const routes::RoutePattern& p : *list) {
    if (p.Matches(path)) return true;
  }
  return false;
}

JwtKeySet::~JwtKeySet() {
  for (void* key : public_keys_) EVP_PKEY_free(static_cast<EVP_PKEY*>(key));
}

absl::StatusOr<std::shared_ptr<const JwtKeySet>> JwtKeySet::FromText(
    std::string_view secrets_text, std::string_view pem_text) {
  std::shared_ptr<JwtKeySet> set(new JwtKeySet());
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(secrets_text.data(),
                                                                 secrets_text.size()),
                                               '\n')) {
    ++line_number;
    std::string secret(absl::StripAsciiWhitespace(line));
    if (secret.empty() || secret.front() == '#') continue;
    if (secret.size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat("secret on line ", line_number,
                                                     " is shorter than ", kMinSecretBytes,
                                                     " bytes"));
    }
    set->secrets_.push_back(std::move(secret));
  }
  // Each "-----BEGIN" ... "-----END ...-----" block is read on its own, so
  // a damaged block is reported by number instead of ending the list early.
  size_t pos = 0;
  while ((pos = pem_text.find("-----BEGIN ", pos)) != std::string_view::npos) {
    const size_t end_marker = pem_text.find("-----END ", pos);
    const size_t end = end_marker == std::string_view::npos
                           ? std::string_view::npos
                           : pem_text.find("-----", end_marker + 9);
    const size_t number = set->public_keys_.size() + 1;
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("public key ", number, " has no END line"));
    }
    const std::string_view block = pem_text.substr(pos, end + 5 - pos);
    pos = end + 5;
    BIO* bio = BIO_new_mem_buf(block.data(), static_cast<int>(block.size()));
    if (bio == nullptr) return absl::ResourceExhaustedError("out of memory");
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ERR_clear_error();
    if (key == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("public key ", number, " is not a PEM public key"));
    }
    set->public_keys_.push_back(key);  // owned by the set from here on
    if (!EVP_PKEY_is_a(key, "RSA")) {
      return absl::InvalidArgumentError(absl::StrCat("public key ", number, " is not RSA"));
    }
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat("public key ", number, " has fewer than ", kMinRsaBits, " bits"));
    }
  }
  if (!pem_text.empty() && set->public_keys_.empty()) {
    return absl::InvalidArgumentError("no PEM public key found");
  }
  if (set->secrets_.empty() && set->public_keys_.empty()) {
    return absl::InvalidArgumentError("no JWT key configured");
  }
  return std::shared_ptr<const JwtKeySet>(std::move(set));
}

absl::Status JwtVerifier::Reload() {
  std::string secrets;
  std::string pem;
  if (!options_.secret_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(options_.secret_file);
    if (!text.ok()) return text.status();
    secrets = *std::move(text);
    if (absl::StripAsciiWhitespace(secrets).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(options_.secret_file, " holds no secret"));
    }
  }
  if (!options_.public_key_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(options_.public_key_file);
    if (!text.ok()) return text.status();
    pem = *std::move(text);
    if (absl::StripAsciiWhitespace(pem).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(options_.public_key_file, " holds no key"));
    }
  }
  absl::StatusOr<std::shared_ptr<const JwtKeySet>> keys = JwtKeySet::FromText(secrets, pem);
  if (!keys.ok()) return keys.status();
  SetKeys(*std::move(keys));
  return absl::OkStatus();
}

void JwtVerifier::SetKeys(std::shared_ptr<const JwtKeySet> keys) {
  absl::MutexLock lock(&mu_);
  keys_ = std::move(keys);
}

std::shared_ptr<const JwtKeySet> JwtVerifier::keys() const {
  absl::MutexLock lock(&mu_);
  return keys_;
}

absl::StatusOr<JwtClaims> JwtVerifier::Verify(std::string_view token, absl::Time now) const {
  const std::shared_ptr<const JwtKeySet> keys = this->keys();
  if (keys == nullptr) return absl::UnauthenticatedError("no JWT key is loaded");
  if (token.empty()) return absl::UnauthenticatedError("a token is required");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Invalid("not a compact JWS (three dot-separated parts)");
  }
  const std::string_view header_part = token.substr(0, dot1);
  const std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signing_input = token.substr(0, dot2);

  absl::StatusOr<json> header = DecodeObject(header_part, "header");
  if (!header.ok()) return header.status();
  auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string()) return Invalid("header has no \"alg\"");
  const std::string alg = alg_it->get<std::string>();
  if (header->contains("crit")) return Invalid("\"crit\" header parameters are not supported");
  const bool hs256 = alg == "HS256" && keys->secret_count() > 0;
  const bool rs256 = alg == "RS256" && keys->public_key_count() > 0;
  if (!hs256 && !rs256) {
    // The value is not echoed: it is the client's text and ends up in logs.
    return Invalid(alg == "none" ? "unsigned tokens (alg \"none\") are not accepted"
                                 : "this signing algorithm is not accepted");
  }

  absl::StatusOr<std::string> signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature.ok()) return Invalid("signature is not base64url");
  const bool verified = hs256 ? VerifyHmac(keys->secrets_, signing_input, *signature)
                              : VerifyRsa(keys->public_keys_, signing_input, *signature);
  if (!verified) return Invalid("bad signature");

  // Only a signed payload is worth parsing.
  absl::StatusOr<json> claims = DecodeObject(payload_part, "payload");
  if (!claims.ok()) return claims.status();
  JwtClaims out;
  absl::StatusOr<std::optional<absl::Time>> exp = TimeClaim(*claims, "exp");
  if (!exp.ok()) return exp.status();
  if (!exp->has_value()) return Invalid("no \"exp\" claim");
  if (now > **exp + options_.leeway) return absl::UnauthenticatedError("token expired");
  out.expires = **exp;
  absl::StatusOr<std::optional<absl::Time>> nbf = TimeClaim(*claims, "nbf");
  if (!nbf.ok()) return nbf.status();
  if (nbf->has_value() && now + options_.leeway < **nbf) {
    return absl::UnauthenticatedError("token not valid yet");
  }
  if (!options_.issuer.empty()) {
    auto it = claims->find("iss");
    if (it == claims->end() || !it->is_string() || it->get<std::string>() != options_.issuer) {
      return Invalid("wrong issuer");
    }
  }
  if (!options_.audience.empty()) {
    bool found = false;
    if (auto it = claims->find("aud"); it != claims->end()) {
      if (it->is_string()) {
        found = it->get<std::string>() == options_.audience;
      } else if (it->is_array()) {
        for (const json& a : *it) found |= a.is_string() && a.get<std::string>() == options_.audience;
      }
    }
    if (!found) return Invalid("wrong audience");
  }
  if (auto it = claims->find("sub"); it != claims->end()) {
    if (!it->is_string()) return Invalid("\"sub\" is not a string");
    out.subject = it->get<std::string>();
  }
  absl::StatusOr<std::shared_ptr<const PathList>> paths = PathClaim(*claims, "paths");
  if (!paths.ok()) return paths.status();
  out.paths = *std::move(paths);
  absl::StatusOr<std::shared_ptr<const PathList>> send = PathClaim(*claims, "send");
  if (!send.ok()) return send.status();
  out.send = *std::move(send);
  return out;
}

}  // namespace sigd::auth
