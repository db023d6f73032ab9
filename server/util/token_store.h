// Bearer tokens for the control plane (gRPC and the admin API), read from a
// file with one token per line (surrounding whitespace trimmed; blank lines
// and lines starting with '#' skipped). Reload() swaps the set atomically
// (SIGHUP), so a rotation never leaves a window with no valid token.
//
//   TokenStore tokens("/etc/sigd/tokens");
//   if (!tokens.Reload().ok()) ...;
//   tokens.Check(BearerToken(header));
#ifndef SIGD_SERVER_UTIL_TOKEN_STORE_H_
#define SIGD_SERVER_UTIL_TOKEN_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "server/util/mutex.h"

namespace sigd::util {

class TokenStore {
 public:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}

  // Reads the file again. On error the previous tokens stay in force.
  absl::Status Reload();

  // Whether `token` is one of the configured tokens (constant-time per
  // candidate, so timing does not reveal how much of a token matched).
  bool Check(std::string_view token) const;

  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  mutable util::Mutex mu_;
  std::shared_ptr<const std::vector<std::string>> tokens_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<const std::vector<std::string>>();
};

// The token of an "Authorization: Bearer <token>" value, or "" if it is not
// one.
std::string_view BearerToken(std::string_view authorization);

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_TOKEN_STORE_H_
