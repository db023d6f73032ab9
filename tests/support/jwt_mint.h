// Mints JSON Web Tokens for tests the way an identity service would: HS256
// with a shared secret, RS256 with an RSA key generated on the spot (OpenSSL
// EVP keygen). Signing lives here, not in sigd, which only verifies.
//
//   std::string t = MintHs256(kSecret, {{"sub", "ana"}, {"exp", NowPlus(60)}});
//   RsaKey key = RsaKey::Generate();
//   std::string r = MintRs256(key, claims);   // key.public_pem() for sigd
#ifndef SIGD_TESTS_SUPPORT_JWT_MINT_H_
#define SIGD_TESTS_SUPPORT_JWT_MINT_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "server/auth/jwt.h"

namespace sigd::testing {

inline int64_t NowPlus(int64_t seconds) { return absl::ToUnixSeconds(absl::Now()) + seconds; }

inline std::string SigningInput(const nlohmann::json& header, const nlohmann::json& claims) {
  return auth::Base64UrlEncode(header.dump()) + "." + auth::Base64UrlEncode(claims.dump());
}

inline std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, sizeof(mac),
            &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

inline std::string MintHs256(std::string_view secret, const nlohmann::json& claims,
                             const nlohmann::json& header = {{"alg", "HS256"}, {"typ", "JWT"}}) {
  const std::string input = SigningInput(header, claims);
  return input + "." + auth::Base64UrlEncode(HmacSha256(secret, input));
}

class RsaKey {
 public:
  static RsaKey Generate(unsigned bits = 2048) {
    return RsaKey(EVP_RSA_gen(bits));
  }
  bool ok() const { return key_ != nullptr; }

  std::string public_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
  }

  std::string Sign(std::string_view data) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1) {
      sig.resize(len);
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    return sig;
  }

 private:
  explicit RsaKey(EVP_PKEY* key) : key_(key, &EVP_PKEY_free) {}
  std::shared_ptr<EVP_PKEY> key_;
};

inline std::string MintRs256(const RsaKey& key, const nlohmann::json& claims,
                             const nlohmann::json& header = {{"alg", "RS256"}, {"typ", "JWT"}}) {
  const std::string input = SigningInput(header, claims);
  return input + "." + auth::Base64UrlEncode(key.Sign(input));
}

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_JWT_MINT_H_
