#include "server/ws/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <iterator>
#include <string>

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
// process's default one, as DER: CopyToDefaultContext(key, i2d_PrivateKey,
// d2i_AutoPrivateKey).
template <typename T>
T* CopyToDefaultContext(const T* object, int (*encode)(const T*, unsigned char**),
                        T* (*decode)(T**, const unsigned char**, long)) {
  unsigned char* der = nullptr;
  const int size = encode(object, &der);
  if (size <= 0) return nullptr;
  const unsigned char* p = der;
  T* copy = decode(nullptr, &p, size);
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

// Decodes and opens a PKCS#12 file's bytes in the calling thread's default
// library context.
enum class Pkcs12Result { kOk, kNotPkcs12, kCannotOpen };
Pkcs12Result ParsePkcs12(const std::string& der, const std::string& password,
                         Pkcs12Contents& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  if (p12 == nullptr) return Pkcs12Result::kNotPkcs12;
  const bool parsed = PKCS12_parse(p12, password.c_str(), &out.key, &out.cert, &out.chain) == 1;
  PKCS12_free(p12);
  return parsed ? Pkcs12Result::kOk : Pkcs12Result::kCannotOpen;
}

// PKCS#12 files exported by Windows tools use RC2/3DES, which OpenSSL 3 reads
// only with its legacy provider. Such a file is parsed in a library context of
// its own, with the legacy and default providers, made this thread's default
// for the parse; what it holds is then copied to the process's default
// context and the private one freed. (The legacy provider loaded process-wide
// would keep its state until exit, and every later algorithm fetch would see
// it.)
bool ParseLegacyPkcs12(const std::string& der, const std::string& password,
                       Pkcs12Contents& out) {
  OSSL_LIB_CTX* lib = OSSL_LIB_CTX_new();
  if (lib == nullptr) return false;
  OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(lib, "legacy");
  OSSL_PROVIDER* fallback = OSSL_PROVIDER_load(lib, "default");
  bool parsed = false;
  if (legacy != nullptr && fallback != nullptr) {
    Pkcs12Contents in_lib;
    OSSL_LIB_CTX* previous = OSSL_LIB_CTX_set0_default(lib);
    parsed = ParsePkcs12(der, password, in_lib) == Pkcs12Result::kOk;
    OSSL_LIB_CTX_set0_default(previous);
    if (parsed && in_lib.key != nullptr) {
      out.key = CopyToDefaultContext(in_lib.key, i2d_PrivateKey, d2i_AutoPrivateKey);
      parsed = out.key != nullptr;
    }
    if (parsed && in_lib.cert != nullptr) {
      out.cert = CopyToDefaultContext(in_lib.cert, i2d_X509, d2i_X509);
      parsed = out.cert != nullptr;
    }
    for (int i = 0; parsed && in_lib.chain != nullptr && i < sk_X509_num(in_lib.chain); ++i) {
      if (out.chain == nullptr) out.chain = sk_X509_new_null();
      X509* copy = CopyToDefaultContext(sk_X509_value(in_lib.chain, i), i2d_X509, d2i_X509);
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
  // Read once: a legacy file is decoded twice (ParseLegacyPkcs12).
  std::ifstream in(files.pkcs12, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", files.pkcs12));
  const std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Pkcs12Contents first;
  Pkcs12Contents legacy;
  const Pkcs12Result result = ParsePkcs12(der, files.password, first);
  if (result == Pkcs12Result::kNotPkcs12) return Fail("not a PKCS#12 file:", files.pkcs12);
  bool parsed = result == Pkcs12Result::kOk;
  if (!parsed) {
    ERR_clear_error();
    parsed = ParseLegacyPkcs12(der, files.password, legacy);
  }
  const Pkcs12Contents& contents = result == Pkcs12Result::kOk ? first : legacy;
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
  // Always our callback: OpenSSL's default one prompts on the controlling
  // terminal, which would hang a start (or a SIGHUP reload) run from a shell.
  // Without --tls-password an encrypted key then fails to load, with the reason.
  context.set_password_callback(
      [password = files.password](size_t, ssl::context::password_purpose) { return password; });
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
