// Throwaway certificates for TLS tests, made with the openssl command line in
// a temporary folder: a CA, server certificates for 127.0.0.1/localhost
// signed by it (PEM, PKCS#12 and legacy RC2/3DES PKCS#12), and a client
// certificate for mutual TLS.
//
//   TestCerts certs;
//   ASSERT_TRUE(certs.ok()) << certs.error();
//   config.tls_cert = certs.server_cert(); config.tls_key = certs.server_key();
#ifndef SIGD_TESTS_SUPPORT_TEST_CERTS_H_
#define SIGD_TESTS_SUPPORT_TEST_CERTS_H_

#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigd::testing {

class TestCerts {
 public:
  TestCerts() {
    const std::string ca_key = Path("ca.key");
    Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", Path("ca.pem"), "-days", "2", "-subj",
         "/CN=sigd test CA"});
    dir_.WriteFile("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    dir_.WriteFile("client.ext", "extendedKeyUsage=clientAuth\n");
    MakeServer("server", "sigd-one");
    Issue("client", "backend", "client.ext", 2);
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::string ca() const { return Path("ca.pem"); }
  std::string server_cert() const { return Path("server.pem"); }
  std::string server_key() const { return Path("server.key"); }
  std::string server_p12() const { return Path("server.p12"); }
  std::string server_legacy_p12() const { return Path("server-legacy.p12"); }
  std::string client_cert() const { return Path("client.pem"); }
  std::string client_key() const { return Path("client.key"); }
  static constexpr char kPassword[] = "s3cret";

  // Overwrites the server's PEM and PKCS#12 files with a new certificate
  // whose common name is `cn` (what a renewal does before SIGHUP).
  void RenewServer(const std::string& cn) { MakeServer("server", cn); }

  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }

 private:
  void Run(const std::vector<std::string>& argv) {
    if (!error_.empty()) return;
    ProcessResult r = RunProcess(argv);
    if (r.exit_code != 0) error_ = argv[0] + " " + argv[1] + " failed: " + r.err;
  }

  void Issue(const std::string& name, const std::string& cn, const std::string& ext,
             int serial) {
    Run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", Path(name + ".key"), "-out", Path(name + ".csr"), "-subj", "/CN=" + cn});
    Run({"openssl", "x509", "-req", "-in", Path(name + ".csr"), "-CA", Path("ca.pem"),
         "-CAkey", Path("ca.key"), "-set_serial", std::to_string(serial), "-days", "2",
         "-extfile", Path(ext), "-out", Path(name + ".pem")});
  }

  void MakeServer(const std::string& name, const std::string& cn) {
    Issue(name, cn, "server.ext", ++serial_);
    Run({"openssl", "pkcs12", "-export", "-in", Path(name + ".pem"), "-inkey",
         Path(name + ".key"), "-certfile", Path("ca.pem"), "-out", Path(name + ".p12"),
         "-passout", std::string("pass:") + kPassword});
    Run({"openssl", "pkcs12", "-export", "-legacy", "-in", Path(name + ".pem"), "-inkey",
         Path(name + ".key"), "-out", Path(name + "-legacy.p12"), "-passout",
         std::string("pass:") + kPassword});
  }

  TempDir dir_;
  std::string error_;
  int serial_ = 100;
};

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_TEST_CERTS_H_
