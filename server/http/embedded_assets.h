// Files compiled into the sigd binary (server/assets/), served on the HTTP
// port ahead of the public folder: /sigd.js and /sigd.mjs, the browser client.
#ifndef SIGD_SERVER_HTTP_EMBEDDED_ASSETS_H_
#define SIGD_SERVER_HTTP_EMBEDDED_ASSETS_H_

#include <string>
#include <string_view>
#include <vector>

namespace sigd::http {

struct EmbeddedAsset {
  std::string_view path;          // "/sigd.js"
  std::string_view content_type;
  std::string_view body;
};

// Defined in generated code (cmake/embed_assets.cmake).
const std::vector<EmbeddedAsset>& EmbeddedAssets();

// The asset served at `url_path`, or nullptr.
const EmbeddedAsset* FindEmbeddedAsset(std::string_view url_path);

// A strong ETag for the asset's bytes (stable for one build).
const std::string& EmbeddedAssetEtag(const EmbeddedAsset& asset);

}  // namespace sigd::http

#endif  // SIGD_SERVER_HTTP_EMBEDDED_ASSETS_H_
