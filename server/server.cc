#include "server/server.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/ip/address.hpp"
#include "boost/system/system_error.hpp"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/ws/write_batcher.h"
#include "server/ws/ws_session.h"
#include "server/util/client_id.h"
#include "server/util/thread_name.h"
#include "spdlog/spdlog.h"

namespace sigd {

namespace net = boost::asio;

namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "sigd";
  return buf;
}

absl::StatusOr<net::ip::tcp::endpoint> ResolveListen(const std::string& flag,
                                                     const std::string& listen) {
  std::string host;
  uint16_t port;
  if (absl::Status s = config::SplitHostPort(listen, &host, &port); !s.ok()) return s;
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", host, "\" is not an IP address"));
  }
  return net::ip::tcp::endpoint(address, port);
}

bool IsLoopbackListen(const std::string& listen) {
  std::string host;
  uint16_t port;
  if (!config::SplitHostPort(listen, &host, &port).ok()) return false;
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// Plaintext, TLS, or mutual TLS for the control plane. The files are checked
// here so that a mistake is a clear error at start; gRPC then watches them and
// takes a renewed certificate without a restart.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcCredentials(
    const config::Config& config) {
  if (config.grpc_tls_cert.empty() && config.grpc_tls_key.empty()) {
    if (!config.grpc_tls_client_ca.empty()) {
      return absl::InvalidArgumentError("--grpc-tls-client-ca needs --grpc-tls-cert and --grpc-tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (config.grpc_tls_cert.empty() || config.grpc_tls_key.empty()) {
    return absl::InvalidArgumentError("--grpc-tls-cert and --grpc-tls-key go together");
  }
  absl::StatusOr<std::shared_ptr<net::ssl::context>> check =
      ws::LoadServerTls({config.grpc_tls_cert, config.grpc_tls_key, "", ""});
  if (!check.ok()) return absl::InvalidArgumentError(absl::StrCat("gRPC TLS: ", check.status().message()));
  if (!config.grpc_tls_client_ca.empty()) {
    net::ssl::context ca(net::ssl::context::tls_server);
    boost::system::error_code ec;
    ca.load_verify_file(config.grpc_tls_client_ca, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--grpc-tls-client-ca ", config.grpc_tls_client_ca, ": ", ec.message()));
    }
  }
  constexpr unsigned kRefreshSeconds = 10;
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      config.grpc_tls_key, config.grpc_tls_cert, config.grpc_tls_client_ca, kRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (config.grpc_tls_client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

// The node's name: --node-id, else the host name; in a cluster the host name
// gets a random suffix, so two nodes on one host stay apart.
std::string DefaultNodeId(const config::Config& config) {
  if (!config.node_id.empty()) return config.node_id;
  if (config.nats_url.empty()) return HostName();
  return absl::StrCat(HostName(), "-", util::NewEventId().substr(0, 6));
}

}  // namespace

Server::Server(config::Config config)
    : config_(std::move(config)), node_id_(DefaultNodeId(config_)) {}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  if (started_) return absl::FailedPreconditionError("already started");
  for (const std::string& raw : config_.raw_paths) {
    absl::StatusOr<routes::RoutePattern> p = routes::RoutePattern::Parse(raw);
    if (!p.ok()) return absl::InvalidArgumentError(absl::StrCat("--raw-path: ", p.status().message()));
    raw_paths_.push_back(*std::move(p));
  }
  std::vector<routes::RoutePattern> pinned;
  for (const std::string& route : config_.pinned_routes) {
    absl::StatusOr<routes::RoutePattern> p = routes::RoutePattern::Parse(route);
    if (!p.ok()) return absl::InvalidArgumentError(absl::StrCat("--pin-route: ", p.status().message()));
    pinned.push_back(*std::move(p));
  }
  absl::StatusOr<net::ip::tcp::endpoint> endpoint = ResolveListen("listen", config_.listen);
  if (!endpoint.ok()) return endpoint.status();
  if (!config_.control_token_file.empty()) {
    tokens_ = std::make_unique<util::TokenStore>(config_.control_token_file);
    if (absl::Status s = tokens_->Reload(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--control-token-file: ", s.message()));
    }
  }
  if (!config_.jwt_secret_file.empty() || !config_.jwt_public_key_file.empty()) {
    jwt_ = std::make_unique<auth::JwtVerifier>(auth::JwtVerifier::Options{
        .secret_file = config_.jwt_secret_file,
        .public_key_file = config_.jwt_public_key_file,
        .issuer = config_.jwt_issuer,
        .audience = config_.jwt_audience,
        .leeway = absl::FromChrono(config_.jwt_leeway)});
    if (absl::Status s = jwt_->Reload(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("JWT keys: ", s.message()));
    }
  }
  // The control plane can send to and disconnect every client: reachable
  // from other machines only with authentication (tokens or client
  // certificates).
  if (tokens_ == nullptr && config_.grpc_tls_client_ca.empty() &&
      !IsLoopbackListen(config_.grpc_listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to serve gRPC on ", config_.grpc_listen,
        ": not a loopback address and neither --control-token-file nor "
        "--grpc-tls-client-ca is configured"));
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> grpc_credentials =
      GrpcCredentials(config_);
  if (!grpc_credentials.ok()) return grpc_credentials.status();
  const ws::TlsFiles tls_files{config_.tls_cert, config_.tls_key, config_.tls_pkcs12,
                               config_.tls_password};
  if (tls_files.enabled()) {
    tls_ = std::make_unique<ws::TlsStore>(tls_files);
    if (absl::Status s = tls_->Reload(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("TLS: ", s.message()));
    }
    spdlog::info("https/wss on --listen with {}", ws::DescribeCertificate(*tls_->Current()));
  }
  std::optional<net::ip::tcp::endpoint> admin_endpoint;
  if (!config_.admin_listen.empty()) {
    absl::StatusOr<net::ip::tcp::endpoint> e = ResolveListen("admin-listen", config_.admin_listen);
    if (!e.ok()) return e.status();
    if (!e->address().is_loopback() && tokens_ == nullptr) {
      // The admin API can send to every client; without authentication it
      // must not be reachable from other machines.
      return absl::InvalidArgumentError(absl::StrCat(
          "--admin-listen ", config_.admin_listen,
          " is not a loopback address, and the admin API has no token configured"));
    }
    admin_endpoint = *e;
  }

  size_t threads = config_.io_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<net::any_io_executor> executors;
  std::vector<hub::ShardInbox*> inboxes;
  for (size_t i = 0; i < threads; ++i) {
    // concurrency_hint 1: each context is run by exactly one thread, so Asio
    // queues what that thread posts to itself without taking the scheduler's
    // lock. Posts from other threads (gRPC's, other shards') would take it:
    // the hub sends those through the shard's inbox instead.
    contexts_.push_back(std::make_unique<net::io_context>(1));
    executors.push_back(contexts_.back()->get_executor());
    try {
      inboxes_.push_back(std::make_unique<hub::ShardInbox>(*contexts_.back()));
    } catch (const boost::system::system_error& e) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot start I/O thread ", i, ": ", e.what()));
    }
    inboxes_.back()->Start();
    inboxes.push_back(inboxes_.back().get());
  }
  static_files_ = std::make_unique<http::StaticFiles>(config_.public_dir);
  // Files are looked up per request, so a folder made later is served; but
  // a missing one is most often a wrong --public or working directory.
  if (std::error_code ec; !std::filesystem::is_directory(config_.public_dir, ec)) {
    spdlog::warn("public folder {} is not a directory: requests for files get 404 until it "
                 "exists (set --public)",
                 config_.public_dir);
  }
  hub_ = std::make_unique<hub::Hub>(std::move(executors), std::move(inboxes));
  routes_ = std::make_unique<routes::RouteTable>(std::move(pinned));
  inbound_ = std::make_unique<hub::InboundHandler>(*hub_, *routes_, metrics_, config_, node_id_);
  absl::StatusOr<util::TrustedProxies> proxies =
      util::TrustedProxies::Parse(config_.trusted_proxies);
  if (!proxies.ok()) return proxies.status();
  trusted_proxies_ = *std::move(proxies);
  admission_ = std::make_unique<ws::Admission>(config_.max_connections,
                                               config_.max_connections_per_address);
  for (size_t i = 0; i < contexts_.size(); ++i) {
    shared_details_.push_back(std::make_unique<ws::SharedDetails>());
  }
  context_ = std::make_unique<ws::Context>(ws::Context{
      config_, *hub_, *inbound_, *static_files_, raw_paths_, metrics_, *admission_,
      trusted_proxies_, shared_details_, tls_.get(), jwt_.get()});

  listener_ = std::make_shared<ws::Listener>(contexts_[0]->get_executor(), *context_);
  if (absl::Status s = listener_->Open(*endpoint); !s.ok()) return s;
  http_port_ = listener_->port();

  control_ = std::make_unique<rpc::ControlPlane>(*hub_, metrics_, config_, node_id_, tokens_.get());
  service_ = std::make_unique<rpc::SignalService>(*control_, *routes_, metrics_, config_);
  if (!config_.nats_url.empty()) {
    cluster::LocalNode local;
    local.send_signal = [this](const sigd::v1::SendSignalRequest& request,
                               cluster::LocalNode::DeliveryDone done) {
      control_->SendSignalLocal(request, std::move(done));
    };
    local.deliver_message = [this](const cluster::ClientMessage& message,
                                   cluster::LocalNode::DeliveryDone done) {
      inbound_->DeliverFromCluster(message, std::move(done));
    };
    local.list_clients = [this](const sigd::v1::ListClientsRequest& request) {
      sigd::v1::ListClientsResponse response;
      control_->ListClients(request, &response);
      return response;
    };
    local.disconnect = [this](const sigd::v1::DisconnectClientRequest& request) {
      absl::StatusOr<sigd::v1::DisconnectClientResponse> r = control_->DisconnectClient(request);
      return r.ok() ? *r : sigd::v1::DisconnectClientResponse();
    };
    local.info = [this] { return control_->GetServerInfo(service_->subscriber_count()); };
    local.event_rejected = [this](const sigd::v1::SignalEvent& event, bool observe) {
      inbound_->OnRemoteEventRejected(event, observe);
    };
    cluster_ = std::make_unique<cluster::Cluster>(config_, node_id_, metrics_, std::move(local));
    cluster_->SetRoutes(routes_.get());
    control_->SetCluster(cluster_.get());
    inbound_->SetCluster(cluster_.get());
  }
  // Server reflection, so grpcurl-style tools work without the proto file.
  // Health is sigd's own (rpc/health_service.h): gRPC's default one runs on
  // the callback threads that sigd's completion queue exists to avoid.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(config_.grpc_listen, *grpc_credentials, &grpc_port);
  // gRPC sets SO_REUSEPORT by default: a second sigd (a stale one, or a
  // typo in a port) would then share the address and take half the
  // connections. Bind exclusively, as the WebSocket listener does.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  service_->Register(builder);
  // Find dead backends (a subscriber whose host vanished holds its routes
  // until the stream breaks): ping idle connections, and allow clients to
  // ping as often as every 10 s.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<uint64_t>(config_.max_message_bytes + 64 * 1024, 64u * 1024 * 1024)));
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || grpc_port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", config_.grpc_listen,
                                               " (in use, or not an address of this host?)"));
  }
  grpc_port_ = static_cast<uint16_t>(grpc_port);
  service_->Start();
  service_->SetServing(true);

  if (admin_endpoint) {
    admin_ = std::make_shared<admin::AdminServer>(
        contexts_[0]->get_executor(),
        admin::AdminContext{config_, *control_, *hub_, metrics_,
                            [this] { return service_->subscriber_count(); }, ready_});
    if (absl::Status s = admin_->Open(*admin_endpoint); !s.ok()) return s;
  }

  // Before the I/O threads: a failure here leaves no thread to join.
  if (cluster_ != nullptr) {
    if (absl::Status s = cluster_->Start(); !s.ok()) return s;
  }
  // Every client is visited kTicksPerKeepalive times per --keepalive-seconds.
  const auto tick = std::chrono::duration_cast<std::chrono::milliseconds>(config_.keepalive) /
                    ws::WsSession::kTicksPerKeepalive;
  for (size_t i = 0; i < contexts_.size(); ++i) {
    keepalive_.push_back(
        std::make_unique<ws::KeepAliveSweep>(contexts_[i]->get_executor(), *hub_, i, tick));
    keepalive_.back()->Start();
  }
  for (size_t i = 0; i < contexts_.size(); ++i) {
    work_.push_back(net::make_work_guard(*contexts_[i]));
    threads_.emplace_back([this, ctx = contexts_[i].get()] {
      ws::WriteBatcher::Run(*ctx, config_.io_uring, &metrics_.io_uring_threads);
    });
    util::NameThread(threads_.back(), "sigd-io-" + std::to_string(i));
  }
  listener_->Run();
  if (admin_) admin_->Run();
  ready_.store(true);
  started_ = true;
  return absl::OkStatus();
}

absl::Status Server::ReloadTokens() {
  if (tokens_ == nullptr) return absl::OkStatus();
  absl::Status s = tokens_->Reload();
  if (s.ok()) spdlog::info("reloaded {} control token(s) from {}", tokens_->size(), tokens_->path());
  return s;
}

absl::Status Server::ReloadTls() {
  if (tls_ == nullptr) return absl::OkStatus();
  if (absl::Status s = tls_->Reload(); !s.ok()) return s;
  metrics_.tls_reloads.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("reloaded the TLS certificate: {}", ws::DescribeCertificate(*tls_->Current()));
  return absl::OkStatus();
}

absl::Status Server::ReloadJwtKeys() {
  if (jwt_ == nullptr) return absl::OkStatus();
  absl::Status s = jwt_->Reload();
  if (s.ok()) {
    const std::shared_ptr<const auth::JwtKeySet> keys = jwt_->keys();
    spdlog::info("reloaded JWT keys: {} secret(s), {} public key(s)", keys->secret_count(),
                 keys->public_key_count());
  }
  return s;
}

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!started_) {
    if (grpc_server_) grpc_server_->Shutdown();
    if (service_) service_->Stop();  // after the server, as gRPC requires
    return;
  }
  ready_.store(false);
  service_->SetServing(false);
  listener_->Stop();
  // Streams first, so backends learn at once; they flush what is queued.
  service_->EndAllStreams();
  hub_->CloseAll(1001, "server shutting down");

  // Clients get until the drain timeout to finish their close handshakes.
  const auto deadline = std::chrono::steady_clock::now() + config_.drain_timeout;
  while (hub_->size() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  // Operations started from now on (an I/O thread answering a SendSignal)
  // are refused, and their calls freed.
  service_->Stop();
  if (admin_) admin_->Stop();
  // After gRPC: no call can start an ask any more; those in flight finish.
  if (cluster_ != nullptr) cluster_->Stop();
  work_.clear();
  for (auto& context : contexts_) context->stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace sigd
