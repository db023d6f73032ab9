// What every HTTP and WebSocket session shares: settings and the server's
// long-lived parts. Owned by Server, which outlives every session.
#ifndef SIGD_SERVER_WS_CONTEXT_H_
#define SIGD_SERVER_WS_CONTEXT_H_

#include <memory>
#include <vector>

#include "server/auth/jwt.h"
#include "server/config/config.h"
#include "server/http/static_files.h"
#include "server/hub/hub.h"
#include "server/hub/inbound_handler.h"
#include "server/metrics.h"
#include "server/routes/route_pattern.h"
#include "server/util/interner.h"
#include "server/util/trusted_proxies.h"
#include "server/ws/admission.h"
#include "server/ws/tls.h"

namespace sigd::ws {

// What many clients send alike, stored once per I/O thread (hub::ClientInfo).
struct SharedDetails {
  util::Interner<std::string> strings;  // local addresses, User-Agents, Origins
  util::Interner<hub::Query> queries;
};

struct Context {
  const config::Config& config;
  hub::Hub& hub;
  hub::InboundHandler& inbound;
  const http::StaticFiles& static_files;
  const std::vector<routes::RoutePattern>& raw_paths;
  Metrics& metrics;
  Admission& admission;
  const util::TrustedProxies& trusted_proxies;
  // One per I/O thread (shard), used only on that thread: never contended.
  const std::vector<std::unique_ptr<SharedDetails>>& shared;
  const TlsStore* tls = nullptr;  // https/wss on --listen; null: plain
  const auth::JwtVerifier* jwt = nullptr;  // null: no token required
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_CONTEXT_H_
