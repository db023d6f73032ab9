// TLS for the --listen port (https and wss): the server certificate and key,
// from PEM files (--tls-cert, --tls-key) or one PKCS#12 file (--tls-pkcs12,
// --tls-password, as Pode's -Certificate/-CertificatePassword).
//
// TlsStore holds the current OpenSSL context. SIGHUP calls Reload(), which
// builds a whole new context from the files and swaps it in only if that
// worked: new connections get the new certificate, connections made before
// keep the context they started with (each holds a reference), and a bad file
// leaves the old certificate in force.
#ifndef SIGD_SERVER_WS_TLS_H_
#define SIGD_SERVER_WS_TLS_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"

namespace sigd::ws {

struct TlsFiles {
  std::string cert;      // PEM chain, leaf first
  std::string key;       // PEM private key
  std::string pkcs12;    // instead of cert + key
  std::string password;  // for an encrypted key or the PKCS#12 file

  bool enabled() const { return !cert.empty() || !key.empty() || !pkcs12.empty(); }
};

// A server context from `files`; InvalidArgument with a one-line reason
// (which file, what OpenSSL said) otherwise.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> LoadServerTls(const TlsFiles& files);

// "CN=example.org, expires 2027-01-01 00:00:00 UTC" for the context's
// certificate, for logs.
std::string DescribeCertificate(boost::asio::ssl::context& context);

class TlsStore {
 public:
  explicit TlsStore(TlsFiles files) : files_(std::move(files)) {}

  // Loads the files; the current context is kept when this fails.
  absl::Status Reload();
  std::shared_ptr<boost::asio::ssl::context> Current() const;
  uint64_t reloads() const;

 private:
  const TlsFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;
  uint64_t reloads_ = 0;
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_TLS_H_
