#include "server/rpc/control_plane.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/rpc/convert.h"
#include "spdlog/spdlog.h"

namespace sigd::rpc {
namespace {

constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;

// Close codes an endpoint may send (RFC 6455 section 7.4).
bool IsSendableCloseCode(uint32_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014 && code != 1010) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace

ControlPlane::ControlPlane(hub::Hub& hub, Metrics& metrics, const config::Config& config,
                           std::string node_id, const util::TokenStore* tokens)
    : hub_(hub), metrics_(metrics), config_(config), node_id_(std::move(node_id)),
      started_(absl::Now()), tokens_(tokens) {}

absl::Status ControlPlane::Authorize(std::string_view authorization, std::string_view peer,
                                     std::string_view what) const {
  if (tokens_ == nullptr) return absl::OkStatus();
  if (tokens_->Check(util::BearerToken(authorization))) return absl::OkStatus();
  metrics_.auth_failures.fetch_add(1, std::memory_order_relaxed);
  const bool missing = authorization.empty();
  spdlog::info("refused {} from {}: {} bearer token", std::string(what), std::string(peer),
               missing ? "no" : "wrong");
  return absl::UnauthenticatedError(missing ? "missing bearer token (authorization metadata)"
                                            : "invalid bearer token");
}

void ControlPlane::SendSignal(
    const sigd::v1::SendSignalRequest& request,
    std::function<void(absl::StatusOr<sigd::v1::SendSignalResponse>)> done) {
  absl::StatusOr<hub::Frame> frame = FrameFromRequest(request, config_.max_json_depth);
  if (!frame.ok()) {
    done(frame.status());
    return;
  }
  frame->sent_at = std::chrono::steady_clock::now();
  // Publish either calls the completion (once) or returns an error without
  // calling it; `done` is shared between the two paths.
  auto shared_done = std::make_shared<decltype(done)>(std::move(done));
  absl::Status status = hub_.Publish(
      {.path = request.path(), .client_id = request.client_id()}, *std::move(frame),
      [this, shared_done](uint64_t delivered) {
        if (delivered > 0) metrics_.signals_sent.fetch_add(1, std::memory_order_relaxed);
        sigd::v1::SendSignalResponse response;
        response.set_delivered(delivered);
        (*shared_done)(std::move(response));
      });
  if (!status.ok()) (*shared_done)(status);
}

void ControlPlane::ListClients(const sigd::v1::ListClientsRequest& request,
                               sigd::v1::ListClientsResponse* response) const {
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  hub::Hub::Page page = hub_.List(request.path(), page_size, request.page_token());
  for (const auto& client : page.clients) FillClient(*client, node_id_, response->add_clients());
  response->set_next_page_token(page.next_token);
  response->set_total(page.total);
}

absl::StatusOr<sigd::v1::DisconnectClientResponse> ControlPlane::DisconnectClient(
    const sigd::v1::DisconnectClientRequest& request) {
  const uint32_t code = request.code() == 0 ? 1000 : request.code();
  if (!IsSendableCloseCode(code)) {
    return absl::InvalidArgumentError(absl::StrCat("close code ", code, " cannot be sent"));
  }
  if (request.reason().size() > 123) {
    return absl::InvalidArgumentError("reason is longer than 123 bytes");
  }
  std::shared_ptr<hub::Client> client = hub_.Find(request.client_id());
  if (client != nullptr) client->Close(static_cast<uint16_t>(code), request.reason());
  sigd::v1::DisconnectClientResponse response;
  response.set_disconnected(client != nullptr);
  return response;
}

sigd::v1::ServerInfo ControlPlane::GetServerInfo(uint64_t subscribers) const {
  sigd::v1::ServerInfo info;
  info.set_version(SIGD_VERSION);
  info.set_uptime_seconds(static_cast<uint64_t>(absl::ToInt64Seconds(absl::Now() - started_)));
  info.set_node_id(node_id_);
  info.set_clients(hub_.size());
  info.set_subscribers(subscribers);
  return info;
}

}  // namespace sigd::rpc
