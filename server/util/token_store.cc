#include "server/util/token_store.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sigd::util {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

absl::Status TokenStore::Reload() {
  std::ifstream in(path_);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read token file ", path_));
  auto tokens = std::make_shared<std::vector<std::string>>();
  for (std::string line; std::getline(in, line);) {
    std::string token(absl::StripAsciiWhitespace(line));
    if (token.empty() || token.front() == '#') continue;
    tokens->push_back(std::move(token));
  }
  if (tokens->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("token file ", path_, " holds no token"));
  }
  util::MutexLock lock(&mu_);
  tokens_ = std::move(tokens);
  return absl::OkStatus();
}

bool TokenStore::Check(std::string_view token) const {
  if (token.empty()) return false;
  std::shared_ptr<const std::vector<std::string>> tokens;
  {
    util::MutexLock lock(&mu_);
    tokens = tokens_;
  }
  bool found = false;
  for (const std::string& t : *tokens) found |= ConstantTimeEquals(t, token);
  return found;
}

size_t TokenStore::size() const {
  util::MutexLock lock(&mu_);
  return tokens_->size();
}

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return {};
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  return token;
}

}  // namespace sigd::util
