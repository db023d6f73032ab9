// Limits on one HTTP request read on the --listen port (a static-file request
// or a WebSocket upgrade), shared by HttpSession and the HTTP fuzz target so
// that the fuzzer parses requests exactly as the server does.
//
//   http::request_parser<http::string_body> parser;
//   ApplyRequestLimits(parser);
#ifndef SIGD_SERVER_WS_REQUEST_LIMITS_H_
#define SIGD_SERVER_WS_REQUEST_LIMITS_H_

#include <cstddef>

namespace sigd::ws {

// Request line plus headers: far above any browser's upgrade request, far
// below what would let a client make sigd buffer much per connection.
inline constexpr size_t kRequestHeaderLimit = 16 * 1024;
// Static-file GETs and upgrades carry no body; this only bounds what a stray
// POST can make sigd read before it answers 405.
inline constexpr size_t kRequestBodyLimit = 64 * 1024;

template <typename Parser>
void ApplyRequestLimits(Parser& parser) {
  parser.header_limit(kRequestHeaderLimit);
  parser.body_limit(kRequestBodyLimit);
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_REQUEST_LIMITS_H_
