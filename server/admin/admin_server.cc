#include "server/admin/admin_server.h"

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "google/protobuf/util/json_util.h"
#include "server/admin/prometheus.h"
#include "server/protocol/frames.h"
#include "server/util/acceptor.h"
#include "server/util/strings.h"
#include "server/util/url.h"
#include "spdlog/spdlog.h"

namespace sigd::admin {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

http::status HttpStatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return http::status::bad_request;
    case absl::StatusCode::kNotFound: return http::status::not_found;
    case absl::StatusCode::kUnauthenticated: return http::status::unauthorized;
    case absl::StatusCode::kPermissionDenied: return http::status::forbidden;
    case absl::StatusCode::kUnavailable: return http::status::service_unavailable;
    default: return http::status::internal_server_error;
  }
}

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  return name;
}

template <typename Message>
std::string ToJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(tcp::socket socket, std::shared_ptr<const AdminContext> context)
      : stream_(std::move(socket)), shared_context_(std::move(context)), context_(*shared_context_) {}

  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&AdminSession::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(context_.config.max_message_bytes + 64 * 1024);
    stream_.expires_after(context_.config.handshake_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&AdminSession::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      request_ = {};
      request_.version(11);
      SendError(http::status::payload_too_large, "payload_too_large", ec.message());
      return;
    }
    if (ec) return;
    request_ = parser_->release();
    context_.metrics.admin_requests.fetch_add(1, std::memory_order_relaxed);
    Route();
  }

  void Route() {
    absl::StatusOr<util::Target> target = util::ParseTarget(request_.target());
    if (!target.ok()) {
      SendError(http::status::bad_request, "invalid_argument",
                util::ToStd(target.status().message()));
      return;
    }
    const std::string& path = target->path;
    const http::verb method = request_.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    if (path == "/healthz") {
      if (!get) return MethodNotAllowed("GET, HEAD");
      return Send(http::status::ok, "application/json", R"({"status":"ok"})");
    }
    if (path == "/readyz") {
      if (!get) return MethodNotAllowed("GET, HEAD");
      const bool ready = context_.ready.load(std::memory_order_relaxed);
      return Send(ready ? http::status::ok : http::status::service_unavailable,
                  "application/json",
                  ready ? R"({"status":"ready"})" : R"({"status":"draining"})");
    }
    if (path == "/metrics") {
      if (!get) return MethodNotAllowed("GET, HEAD");
      Gauges gauges{.clients = context_.hub.size(),
                    .subscribers = context_.subscriber_count(),
                    .shards = context_.hub.shard_count(),
                    .ready = context_.ready.load(std::memory_order_relaxed)};
      return Send(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                  RenderPrometheus(context_.metrics, gauges));
    }
    if (path.starts_with("/v1/")) {
      beast::error_code ignored;
      const auto peer = stream_.socket().remote_endpoint(ignored);
      absl::Status auth = context_.control.Authorize(
          request_[http::field::authorization], peer.address().to_string(),
          absl::StrCat("admin ", std::string(request_.method_string()), " ", path));
      if (!auth.ok()) {
        auto res = MakeResponse(http::status::unauthorized, "application/json",
                                protocol::ErrorFrame("unauthenticated",
                                                     util::ToStd(auth.message())));
        res->set(http::field::www_authenticate, "Bearer");
        return Write(std::move(res));
      }
    }
    if (path == "/v1/clients") {
      if (!get) return MethodNotAllowed("GET, HEAD");
      return ListClients(target->query);
    }
    if (path == "/v1/signals") {
      if (method != http::verb::post) return MethodNotAllowed("POST");
      return SendSignal();
    }
    SendError(http::status::not_found, "not_found", "no such endpoint");
  }

  void ListClients(const std::map<std::string, std::string>& query) {
    sigd::v1::ListClientsRequest request;
    if (auto it = query.find("path"); it != query.end()) request.set_path(it->second);
    if (auto it = query.find("page_token"); it != query.end()) request.set_page_token(it->second);
    if (auto it = query.find("page_size"); it != query.end()) {
      uint32_t size = 0;
      if (!absl::SimpleAtoi(it->second, &size)) {
        return SendError(http::status::bad_request, "invalid_argument",
                         "page_size must be a whole number");
      }
      request.set_page_size(size);
    }
    // In a cluster the answer is gathered from every node (bounded by the
    // cluster timeout) and comes back on another thread.
    context_.control.ListClientsAll(
        request,
        [self = shared_from_this()](absl::StatusOr<sigd::v1::ListClientsResponse> response) {
          net::post(self->stream_.get_executor(), [self, response = std::move(response)] {
            if (!response.ok()) {
              return self->SendError(http::status::bad_request, "invalid_argument",
                                     std::string(response.status().message()));
            }
            self->Send(http::status::ok, "application/json", ToJson(*response));
          });
        });
  }

  void SendSignal() {
    sigd::v1::SendSignalRequest request;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto parsed = google::protobuf::util::JsonStringToMessage(request_.body(), &request, options);
    if (!parsed.ok()) {
      return SendError(http::status::bad_request, "invalid_argument",
                       absl::StrCat("body is not a SendSignalRequest in JSON: ",
                                    std::string(parsed.message())));
    }
    // The reply comes from the I/O threads; hop back onto this session's
    // executor to write it.
    context_.control.SendSignal(
        request, [self = shared_from_this()](absl::StatusOr<sigd::v1::SendSignalResponse> r) {
          net::post(self->stream_.get_executor(), [self, r = std::move(r)] {
            if (!r.ok()) {
              self->SendError(HttpStatusFor(r.status()), CodeName(r.status().code()),
                              util::ToStd(r.status().message()));
              return;
            }
            self->Send(http::status::ok, "application/json", ToJson(*r));
          });
        });
  }

  void MethodNotAllowed(std::string_view allow) {
    auto res = MakeResponse(http::status::method_not_allowed, "application/json",
                            protocol::ErrorFrame("method_not_allowed", "method not allowed"));
    res->set(http::field::allow, allow);
    Write(std::move(res));
  }

  void SendError(http::status status, std::string_view code, std::string_view message) {
    Write(MakeResponse(status, "application/json", protocol::ErrorFrame(code, message)));
  }

  void Send(http::status status, std::string_view content_type, std::string body) {
    Write(MakeResponse(status, content_type, std::move(body)));
  }

  std::shared_ptr<Response> MakeResponse(http::status status, std::string_view content_type,
                                         std::string body) {
    auto res = std::make_shared<Response>(status, request_.version());
    res->set(http::field::server, "sigd");
    res->set(http::field::content_type, content_type);
    res->set(http::field::cache_control, "no-store");
    res->keep_alive(request_.keep_alive());
    res->body() = std::move(body);
    res->prepare_payload();
    if (request_.method() == http::verb::head) res->body().clear();
    return res;
  }

  void Write(std::shared_ptr<Response> res) {
    response_ = res;
    stream_.expires_after(context_.config.handshake_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), keep = res->keep_alive()](beast::error_code ec,
                                                                            size_t) {
                        self->response_.reset();
                        if (ec) return;
                        if (!keep) {
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
                          return;
                        }
                        self->DoRead();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::shared_ptr<Response> response_;
  // Shared with the server, so a session never outlives what it refers to.
  std::shared_ptr<const AdminContext> shared_context_;
  const AdminContext& context_;
};

}  // namespace

AdminServer::AdminServer(net::any_io_executor executor, AdminContext context)
    : acceptor_(std::move(executor)),
      context_(std::make_shared<const AdminContext>(std::move(context))) {}

absl::Status AdminServer::Open(const tcp::endpoint& endpoint) {
  if (absl::Status s = util::OpenAcceptor(acceptor_, endpoint, " for admin HTTP"); !s.ok()) {
    return s;
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void AdminServer::Run() {
  net::dispatch(acceptor_.get_executor(),
                beast::bind_front_handler(&AdminServer::DoAccept, shared_from_this()));
}

void AdminServer::Stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void AdminServer::DoAccept() {
  acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      spdlog::warn("admin accept failed: {}; retrying in 50 ms", ec.message());
      auto timer = std::make_shared<net::steady_timer>(self->acceptor_.get_executor(),
                                                       std::chrono::milliseconds(50));
      timer->async_wait([self, timer](beast::error_code) { self->DoAccept(); });
      return;
    }
    std::make_shared<AdminSession>(std::move(socket), self->context_)->Run();
    self->DoAccept();
  });
}

}  // namespace sigd::admin
