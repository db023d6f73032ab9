#include "server/http/embedded_assets.h"

#include <cstdint>
#include <map>

#include "absl/strings/str_format.h"

namespace sigd::http {

const EmbeddedAsset* FindEmbeddedAsset(std::string_view url_path) {
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    if (asset.path == url_path) return &asset;
  }
  return nullptr;
}

const std::string& EmbeddedAssetEtag(const EmbeddedAsset& asset) {
  // Computed once per asset at first use; the assets never change at run time.
  static const std::map<std::string_view, std::string> kEtags = [] {
    std::map<std::string_view, std::string> etags;
    for (const EmbeddedAsset& a : EmbeddedAssets()) {
      uint64_t hash = 1469598103934665603ull;  // FNV-1a
      for (unsigned char c : a.body) hash = (hash ^ c) * 1099511628211ull;
      etags[a.path] = absl::StrFormat("\"%016x-%x\"", hash, a.body.size());
    }
    return etags;
  }();
  return kEtags.at(asset.path);
}

}  // namespace sigd::http
