#include "server/ws/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace sigd::ws {

namespace ssl = boost::asio::ssl;

namespace {

// The newest OpenSSL error as one line, and the queue cleared.
std::string OpenSslError() {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof(buf));
  return buf;
}

absl::Status Fail(const std::string& what, const std::string& file) {
  return absl::InvalidArgumentError(absl::StrCat(what, " ", file, ": ", OpenSslError()));
}

// PKCS#12 files exported by Windows tools use RC2/3DES, which OpenSSL 3 reads
// only with its legacy provider. Loaded once, on the first file that needs
// it; "default" is loaded too, since loading any provider explicitly stops
// OpenSSL from loading it implicitly.
bool LoadLegacyProvider() {
  static const bool loaded = [] {
    OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    OSSL_PROVIDER* fallback = OSSL_PROVIDER_load(nullptr, "default");
    return legacy != nullptr && fallback != nullptr;
  }();
  return loaded;
}

absl::Status UsePkcs12(SSL_CTX* ctx, const TlsFiles& files) {
  BIO* bio = BIO_new_file(files.pkcs12.c_str(), "rb");
  if (bio == nullptr) return Fail("cannot read", files.pkcs12);
  PKCS12* p12 = d2i_PKCS12_bio(bio, nullptr);
  BIO_free(bio);
  if (p12 == nullptr) return Fail("not a PKCS#12 file:", files.pkcs12);
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  bool parsed = PKCS12_parse(p12, files.password.c_str(), &key, &cert, &chain) == 1;
  if (!parsed && LoadLegacyProvider()) {
    ERR_clear_error();
    parsed = PKCS12_parse(p12, files.password.c_str(), &key, &cert, &chain) == 1;
  }
  PKCS12_free(p12);
  absl::Status status;
  if (!parsed) {
    status = Fail("cannot open (wrong --tls-password?)", files.pkcs12);
  } else if (cert == nullptr || key == nullptr) {
    status = absl::InvalidArgumentError(
        absl::StrCat(files.pkcs12, " holds no certificate with its private key"));
  } else if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    status = Fail("cannot use the certificate in", files.pkcs12);
  } else {
    for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
      if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)) != 1) {
        status = Fail("cannot use the chain in", files.pkcs12);
        break;
      }
    }
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  sk_X509_pop_free(chain, X509_free);
  return status;
}

absl::Status UsePem(ssl::context& context, const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  SSL_CTX* ctx = context.native_handle();
  if (!files.password.empty()) {
    context.set_password_callback(
        [password = files.password](size_t, ssl::context::password_purpose) { return password; });
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1) {
    return Fail("cannot load the certificate", files.cert);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Fail("cannot load the private key", files.key);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> LoadServerTls(const TlsFiles& files) {
  if (!files.pkcs12.empty() && (!files.cert.empty() || !files.key.empty())) {
    return absl::InvalidArgumentError("give either --tls-pkcs12 or --tls-cert/--tls-key, not both");
  }
  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       ssl::context::single_dh_use);
  absl::Status s = files.pkcs12.empty() ? UsePem(*context, files) : UsePkcs12(ctx, files);
  if (!s.ok()) return s;
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the private key does not match the certificate: ", OpenSslError()));
  }
  return context;
}

std::string DescribeCertificate(ssl::context& context) {
  X509* cert = SSL_CTX_get0_certificate(context.native_handle());
  if (cert == nullptr) return "no certificate";
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject) - 1);
  std::string out = subject;
  tm expiry{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &expiry) == 1) {
    const absl::Time t = absl::FromTM(expiry, absl::UTCTimeZone());
    absl::StrAppend(&out, ", expires ", absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t,
                                                         absl::UTCTimeZone()));
    if (t < absl::Now()) absl::StrAppend(&out, " (EXPIRED)");
  }
  return out;
}

absl::Status TlsStore::Reload() {
  absl::StatusOr<std::shared_ptr<ssl::context>> next = LoadServerTls(files_);
  if (!next.ok()) return next.status();
  std::lock_guard<std::mutex> lock(mu_);
  current_ = *std::move(next);
  ++reloads_;
  return absl::OkStatus();
}

std::shared_ptr<ssl::context> TlsStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

uint64_t TlsStore::reloads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

}  // namespace sigd::ws
