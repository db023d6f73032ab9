#include "server/ws/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <utility>

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

// Carries a key or certificate decoded in another library context over to the
// process's default one, as DER.
EVP_PKEY* CopyKeyToDefaultContext(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int size = i2d_PrivateKey(key, &der);
  if (size <= 0) return nullptr;
  const unsigned char* p = der;
  EVP_PKEY* copy = d2i_AutoPrivateKey(nullptr, &p, size);
  OPENSSL_free(der);
  return copy;
}

X509* CopyCertToDefaultContext(X509* cert) {
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  if (size <= 0) return nullptr;
  const unsigned char* p = der;
  X509* copy = d2i_X509(nullptr, &p, size);
  OPENSSL_free(der);
  return copy;
}

struct Pkcs12Contents {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;

  Pkcs12Contents() = default;
  Pkcs12Contents(const Pkcs12Contents&) = delete;
  Pkcs12Contents& operator=(const Pkcs12Contents&) = delete;
  ~Pkcs12Contents() {
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
  }
};

// Parses a PKCS#12 file in the calling thread's default library context.
bool ParsePkcs12(const TlsFiles& files, Pkcs12Contents& out) {
  BIO* bio = BIO_new_file(files.pkcs12.c_str(), "rb");
  if (bio == nullptr) return false;
  PKCS12* p12 = d2i_PKCS12_bio(bio, nullptr);
  BIO_free(bio);
  if (p12 == nullptr) return false;
  const bool parsed =
      PKCS12_parse(p12, files.password.c_str(), &out.key, &out.cert, &out.chain) == 1;
  PKCS12_free(p12);
  return parsed;
}

// PKCS#12 files exported by Windows tools use RC2/3DES, which OpenSSL 3 reads
// only with its legacy provider. Such a file is parsed in a library context of
// its own, with the legacy and default providers, made this thread's default
// for the parse; what it holds is then copied to the process's default
// context and the private one freed. (The legacy provider loaded process-wide
// would keep its state until exit, and every later algorithm fetch would see
// it.)
bool ParseLegacyPkcs12(const TlsFiles& files, Pkcs12Contents& out) {
  OSSL_LIB_CTX* lib = OSSL_LIB_CTX_new();
  if (lib == nullptr) return false;
  OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(lib, "legacy");
  OSSL_PROVIDER* fallback = OSSL_PROVIDER_load(lib, "default");
  bool parsed = false;
  if (legacy != nullptr && fallback != nullptr) {
    Pkcs12Contents in_lib;
    OSSL_LIB_CTX* previous = OSSL_LIB_CTX_set0_default(lib);
    parsed = ParsePkcs12(files, in_lib);
    OSSL_LIB_CTX_set0_default(previous);
    if (parsed && in_lib.key != nullptr) {
      out.key = CopyKeyToDefaultContext(in_lib.key);
      parsed = out.key != nullptr;
    }
    if (parsed && in_lib.cert != nullptr) {
      out.cert = CopyCertToDefaultContext(in_lib.cert);
      parsed = out.cert != nullptr;
    }
    for (int i = 0; parsed && in_lib.chain != nullptr && i < sk_X509_num(in_lib.chain); ++i) {
      if (out.chain == nullptr) out.chain = sk_X509_new_null();
      X509* copy = CopyCertToDefaultContext(sk_X509_value(in_lib.chain, i));
      parsed = copy != nullptr && out.chain != nullptr && sk_X509_push(out.chain, copy) > 0;
      if (!parsed) X509_free(copy);
    }
  }
  if (legacy != nullptr) OSSL_PROVIDER_unload(legacy);
  if (fallback != nullptr) OSSL_PROVIDER_unload(fallback);
  OSSL_LIB_CTX_free(lib);
  return parsed;
}

absl::Status UsePkcs12(SSL_CTX* ctx, const TlsFiles& files) {
  {
    BIO* bio = BIO_new_file(files.pkcs12.c_str(), "rb");
    if (bio == nullptr) return Fail("cannot read", files.pkcs12);
    PKCS12* p12 = d2i_PKCS12_bio(bio, nullptr);
    BIO_free(bio);
    if (p12 == nullptr) return Fail("not a PKCS#12 file:", files.pkcs12);
    PKCS12_free(p12);
  }
  Pkcs12Contents contents;
  bool parsed = ParsePkcs12(files, contents);
  if (!parsed) {
    ERR_clear_error();
    Pkcs12Contents legacy;
    parsed = ParseLegacyPkcs12(files, legacy);
    std::swap(contents.key, legacy.key);
    std::swap(contents.cert, legacy.cert);
    std::swap(contents.chain, legacy.chain);
  }
  if (!parsed) return Fail("cannot open (wrong --tls-password?)", files.pkcs12);
  if (contents.cert == nullptr || contents.key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(files.pkcs12, " holds no certificate with its private key"));
  }
  if (SSL_CTX_use_certificate(ctx, contents.cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, contents.key) != 1) {
    return Fail("cannot use the certificate in", files.pkcs12);
  }
  for (int i = 0; contents.chain != nullptr && i < sk_X509_num(contents.chain); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(contents.chain, i)) != 1) {
      return Fail("cannot use the chain in", files.pkcs12);
    }
  }
  return absl::OkStatus();
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
