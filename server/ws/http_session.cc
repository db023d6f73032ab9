#include "server/ws/http_session.h"

#include <unistd.h>

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/dispatch.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/file_body.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/beast/websocket/rfc6455.hpp"
#include "server/http/embedded_assets.h"
#include "server/protocol/frames.h"
#include "server/util/client_id.h"
#include "server/util/strings.h"
#include "server/util/token_store.h"
#include "server/util/url.h"
#include "server/ws/request_limits.h"
#include "server/ws/ws_session.h"
#include "spdlog/spdlog.h"

namespace sigd::ws {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {
// "1.2.3.4:80" or "[::1]:80".
std::string FormatEndpoint(const net::ip::tcp::endpoint& e) {
  if (e.address().is_v6()) return absl::StrCat("[", e.address().to_string(), "]:", e.port());
  return absl::StrCat(e.address().to_string(), ":", e.port());
}
}  // namespace

HttpSession::HttpSession(Transport transport, size_t shard, Context& context)
    : transport_(std::move(transport)),
      deadline_(transport_.get_executor()),
      shard_(shard),
      context_(context) {}

void HttpSession::Run() {
  net::dispatch(transport_.get_executor(), [self = shared_from_this()] {
    if (!self->transport_.is_tls()) {
      self->DoRead();
      return;
    }
    // The TLS handshake and the request share one deadline. A plain HTTP
    // request on this port fails the handshake and is closed unanswered.
    self->ArmDeadline();
    self->transport_.tls()->async_handshake(
        beast::bind_front_handler(&HttpSession::OnHandshake, self));
  });
}

void HttpSession::OnHandshake(beast::error_code ec) {
  if (ec) {
    context_.metrics.tls_handshakes_failed.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ignored;
    const auto peer = transport_.socket().remote_endpoint(ignored);
    spdlog::debug("TLS handshake failed with {}: {}", peer.address().to_string(), ec.message());
    transport_.close();
    deadline_.cancel();
    return;
  }
  DoRead(/*arm=*/false);
}

void HttpSession::ArmDeadline() {
  deadline_.expires_after(context_.config.handshake_timeout);
  deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (ec) return;  // cancelled or re-armed
    if (auto self = weak.lock()) self->transport_.close();
  });
}

void HttpSession::DoRead(bool arm) {
  parser_.emplace();
  ApplyRequestLimits(*parser_);
  // The whole request, however slowly it trickles in, must arrive by the
  // deadline: one expiry for the read (after TLS, the handshake's).
  if (arm) ArmDeadline();
  http::async_read(transport_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
}

void HttpSession::OnRead(beast::error_code ec, size_t) {
  if (ec) deadline_.cancel();
  if (ec == http::error::end_of_stream) {
    transport_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    Request empty;
    empty.version(11);
    SendError(empty, ec == http::error::header_limit
                         ? http::status::request_header_fields_too_large
                         : http::status::payload_too_large,
              ec.message());
    return;
  }
  if (ec) return;  // timeout, reset, malformed request: nothing to answer
  context_.metrics.http_requests.fetch_add(1, std::memory_order_relaxed);
  Request request = parser_->release();
  // A ?token= credential is cut from the target before anything (logs, the
  // client's query map, ListClients, events) can record it.
  std::optional<std::string> query_token;
  if (request.target().find('?') != std::string_view::npos) {
    request.target(util::RemoveQueryParam(request.target(), "token", &query_token));
  }
  if (beast::websocket::is_upgrade(request)) {
    Upgrade(std::move(request), std::move(query_token));
    return;
  }
  ServeStatic(request);
}

void HttpSession::Upgrade(Request request, std::optional<std::string> query_token) {
  absl::StatusOr<util::Target> target = util::ParseTarget(request.target());
  if (!target.ok()) {
    SendError(request, http::status::bad_request, util::ToStd(target.status().message()));
    return;
  }
  beast::error_code ec;
  hub::ClientInfo info;
  const auto remote = transport_.socket().remote_endpoint(ec);
  const auto local = transport_.socket().local_endpoint(ec);
  if (ec) return;  // the peer is already gone
  const std::vector<std::string>& origins = context_.config.allowed_origins;
  if (!origins.empty()) {
    const std::string_view origin = request[http::field::origin];
    const bool allowed = std::any_of(origins.begin(), origins.end(), [&](const std::string& o) {
      return o == "*" || absl::EqualsIgnoreCase(o, util::ToAbsl(origin));
    });
    if (!allowed) {
      SendError(request, http::status::forbidden,
                origin.empty() ? "an Origin header is required"
                               : absl::StrCat("origin ", std::string(origin), " is not allowed"));
      return;
    }
  }
  if (context_.jwt != nullptr) {
    // The header wins over the query parameter when both are given.
    std::string_view token = util::BearerToken(request[http::field::authorization]);
    if (token.empty() && query_token.has_value()) token = *query_token;
    absl::StatusOr<auth::JwtClaims> claims = context_.jwt->Verify(token, absl::Now());
    if (!claims.ok()) {
      context_.metrics.jwt_unauthorized.fetch_add(1, std::memory_order_relaxed);
      // RFC 6750: no error code when no credentials were sent at all.
      std::string challenge = R"(Bearer realm="sigd")";
      if (!token.empty()) {
        std::string description(claims.status().message());
        description.erase(std::remove_if(description.begin(), description.end(),
                                         [](char c) { return c == '"' || c == '\\'; }),
                          description.end());
        absl::StrAppend(&challenge, R"(, error="invalid_token", error_description=")",
                        description, "\"");
      }
      SendError(request, http::status::unauthorized, util::ToStd(claims.status().message()),
                challenge);
      return;
    }
    if (!claims->MayConnect(target->path)) {
      context_.metrics.jwt_forbidden.fetch_add(1, std::memory_order_relaxed);
      SendError(request, http::status::forbidden, "your token does not allow this path");
      return;
    }
    auto client_token = std::make_shared<hub::ClientToken>();
    client_token->subject = std::move(claims->subject);
    // Closed when the token would no longer be accepted at an upgrade.
    client_token->expires = claims->expires + absl::FromChrono(context_.config.jwt_leeway);
    client_token->send_paths = std::move(claims->send);
    info.token = std::move(client_token);
  }
  info.id = util::NewClientId();
  info.connected_at = absl::Now();
  // Behind a trusted load balancer the client is who X-Forwarded-For says.
  const net::ip::address client_ip = context_.trusted_proxies.ClientAddress(
      remote.address(), request["X-Forwarded-For"]);
  info.remote_address = client_ip == remote.address() ? FormatEndpoint(remote)
                        : client_ip.is_v6()         ? absl::StrCat("[", client_ip.to_string(), "]")
                                                    : client_ip.to_string();
  absl::StatusOr<Admission::Ticket> ticket = context_.admission.Admit(client_ip.to_string());
  if (!ticket.ok()) {
    SendError(request, http::status::service_unavailable, util::ToStd(ticket.status().message()));
    return;
  }
  info.secure = transport_.is_tls();
  info.path = std::move(target->path);
  for (const routes::RoutePattern& raw : context_.raw_paths) {
    if (raw.Matches(info.path)) info.raw = true;
  }
  // The upgrade keeps the same deadline: the handshake timeout covers the
  // request and the upgrade response together.
  deadline_.cancel();
  hub::Hub& hub = context_.hub;
  // A plain connection moves to the shard its path is placed on; a TLS
  // channel's state stays on the thread that ran its handshake.
  hub::Hub::Seat seat = transport_.is_tls() || hub.shard_count() == 1
                            ? hub.PlaceOn(info.path, shard_)
                            : hub.Place(info.path);
  const size_t shard = seat.shard();
  Upgrading upgrading{std::move(info), std::move(target->query), local, std::move(request),
                      *std::move(ticket), std::move(seat)};
  if (shard == shard_) {
    OpenWebSocket(std::move(transport_), context_, std::move(upgrading));
    return;
  }
  // The descriptor is handed to the other shard's io_context; no operation
  // is pending on it here.
  const int fd = transport_.socket().release(ec);
  Socket socket(*hub.executor(shard).target<net::io_context::executor_type>());
  if (!ec) socket.assign(local.protocol(), fd, ec);
  if (ec) {
    // The connection is dropped unanswered (release leaves it open on failure;
    // the transport then closes it): log it, as nothing else would.
    spdlog::warn("could not move a connection to I/O thread {}: {}", shard, ec.message());
    if (fd >= 0 && !transport_.socket().is_open()) ::close(fd);
    return;
  }
  hub.Post(shard, [socket = std::move(socket), upgrading = std::move(upgrading),
                   &context = context_]() mutable {
    OpenWebSocket(Transport(std::move(socket)), context, std::move(upgrading));
  });
}

void HttpSession::OpenWebSocket(Transport transport, Context& context, Upgrading upgrading) {
  const size_t shard = upgrading.seat.shard();
  hub::ClientInfo& info = upgrading.info;
  // On the shard's thread: its interner is used by no other.
  SharedDetails& shared = *context.shared[shard];
  info.local_address = util::InternString(shared.strings, FormatEndpoint(upgrading.local));
  if (const hub::Query& query = upgrading.query; !query.empty()) {
    info.query = shared.queries.Intern(
        absl::Hash<hub::Query>{}(query),
        [&query](const hub::Query& live) { return live == query; },
        [&query] { return query; });
  }
  for (auto [field, slot] : {std::pair{http::field::user_agent, &info.user_agent},
                             std::pair{http::field::origin, &info.origin}}) {
    const std::string_view value = upgrading.request[field];
    if (!value.empty()) *slot = util::InternString(shared.strings, value);
  }
  std::make_shared<WsSession>(std::move(transport), shard, context, std::move(info),
                              std::move(upgrading.ticket))
      ->Run(std::move(upgrading.request), std::move(upgrading.seat));
}

void HttpSession::ServeStatic(const Request& request) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto res = std::make_shared<http::response<http::string_body>>(
        http::status::method_not_allowed, request.version());
    res->set(http::field::allow, "GET, HEAD");
    res->set(http::field::content_type, "application/json");
    res->body() = R"({"error":{"code":"method_not_allowed","message":"use GET or HEAD"}})";
    res->keep_alive(request.keep_alive());
    res->prepare_payload();
    Send(std::move(res));
    return;
  }
  absl::StatusOr<util::Target> target = util::ParseTarget(request.target());
  if (!target.ok()) {
    SendError(request, http::status::bad_request, util::ToStd(target.status().message()));
    return;
  }
  if (const sigd::http::EmbeddedAsset* asset = sigd::http::FindEmbeddedAsset(target->path)) {
    ServeEmbedded(request, *asset);
    return;
  }
  absl::StatusOr<sigd::http::StaticFile> file = context_.static_files.Resolve(target->path);
  if (!file.ok()) {
    SendError(request, http::status::not_found, "not found");
    return;
  }
  const bool head = request.method() == http::verb::head;
  auto set_common = [&](auto& res) {
    res.set(http::field::server, "sigd");
    res.set(http::field::etag, file->etag);
    res.set(http::field::last_modified, file->last_modified);
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(request.keep_alive());
  };
  if (sigd::http::IsNotModified(*file, request[http::field::if_none_match],
                          request[http::field::if_modified_since])) {
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::not_modified,
                                                                  request.version());
    set_common(*res);
    Send(std::move(res));
    return;
  }
  http::file_body::value_type body;
  beast::error_code ec;
  body.open(file->path.c_str(), beast::file_mode::scan, ec);
  if (ec) {
    SendError(request, http::status::not_found, "not found");
    return;
  }
  if (head) {
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok,
                                                                  request.version());
    set_common(*res);
    res->set(http::field::content_type, file->content_type);
    res->content_length(body.size());
    Send(std::move(res));
    return;
  }
  auto res = std::make_shared<http::response<http::file_body>>(
      std::piecewise_construct, std::make_tuple(std::move(body)),
      std::make_tuple(http::status::ok, request.version()));
  set_common(*res);
  res->set(http::field::content_type, file->content_type);
  res->prepare_payload();
  Send(std::move(res));
}

void HttpSession::ServeEmbedded(const Request& request, const sigd::http::EmbeddedAsset& asset) {
  const std::string& etag = sigd::http::EmbeddedAssetEtag(asset);
  const std::string_view if_none_match = request[http::field::if_none_match];
  const bool fresh = !if_none_match.empty() && if_none_match.find(etag) != std::string_view::npos;
  auto res = std::make_shared<http::response<http::string_body>>(
      fresh ? http::status::not_modified : http::status::ok, request.version());
  res->set(http::field::server, "sigd");
  res->set(http::field::etag, etag);
  res->set(http::field::cache_control, "no-cache");
  res->set("X-Content-Type-Options", "nosniff");
  res->set(http::field::content_type, asset.content_type);
  res->keep_alive(request.keep_alive());
  if (!fresh) {
    res->content_length(asset.body.size());
    if (request.method() != http::verb::head) res->body() = std::string(asset.body);
  }
  Send(std::move(res));
}

void HttpSession::SendError(const Request& request, http::status status,
                            std::string_view message, std::string_view www_authenticate) {
  context_.metrics.http_rejected.fetch_add(1, std::memory_order_relaxed);
  beast::error_code ignored;
  const auto peer = transport_.socket().remote_endpoint(ignored);
  spdlog::info("rejected HTTP {} {} from {}: {} {}", std::string(request.method_string()),
               std::string(request.target()), peer.address().to_string(),
               static_cast<unsigned>(status), message);
  auto res = std::make_shared<http::response<http::string_body>>(status, request.version());
  res->set(http::field::server, "sigd");
  res->set(http::field::content_type, "application/json");
  if (!www_authenticate.empty()) res->set(http::field::www_authenticate, www_authenticate);
  // The reason phrase as a code: "Not Found" -> "not_found".
  std::string code(http::obsolete_reason(status));
  for (char& c : code) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
  res->body() = protocol::ErrorFrame(code, message);
  // After a malformed or oversized request the stream position is unknown.
  res->keep_alive(request.keep_alive() && status == http::status::not_found);
  res->prepare_payload();
  Send(std::move(res));
}

template <typename Response>
void HttpSession::Send(std::shared_ptr<Response> response) {
  const bool keep_alive = response->keep_alive();
  Response& ref = *response;
  response_ = std::move(response);
  ArmDeadline();
  http::async_write(transport_, ref,
                    beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this(),
                                              keep_alive));
}

void HttpSession::OnWrite(bool keep_alive, beast::error_code ec, size_t) {
  response_.reset();
  if (ec || !keep_alive) {
    deadline_.cancel();
    if (!ec) transport_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  DoRead();
}

}  // namespace sigd::ws
