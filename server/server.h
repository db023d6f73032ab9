// A whole sigd node in one object: I/O threads (one shard of clients each),
// the HTTP/WebSocket listener, the gRPC control plane, the hub and the route
// table. main() only wires a Server to the command line and the signals;
// integration tests run one in-process on port 0.
//
//   Server server(config);
//   if (absl::Status s = server.Start(); !s.ok()) { ... }
//   ... server.http_port(), server.grpc_port() ...
//   server.Stop();   // 1001 to clients, UNAVAILABLE to streams, threads joined
#ifndef SIGD_SERVER_SERVER_H_
#define SIGD_SERVER_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "grpcpp/grpcpp.h"
#include "server/admin/admin_server.h"
#include "server/cluster/cluster.h"
#include "server/auth/jwt.h"
#include "server/config/config.h"
#include "server/http/static_files.h"
#include "server/hub/hub.h"
#include "server/hub/inbound_handler.h"
#include "server/metrics.h"
#include "server/routes/route_table.h"
#include "server/rpc/control_plane.h"
#include "server/rpc/signal_service.h"
#include "server/util/token_store.h"
#include "server/ws/context.h"
#include "server/ws/keepalive.h"
#include "server/ws/listener.h"

namespace sigd {

class Server {
 public:
  explicit Server(config::Config config);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  absl::Status Start();
  // Graceful stop; idempotent. Returns once every thread has exited.
  void Stop();

  // SIGHUP: reads the control token file again (the old tokens stay in force
  // if the file is unreadable or empty).
  absl::Status ReloadTokens();
  // SIGHUP: reads the --listen certificate files again. New connections get
  // the new certificate, open ones keep theirs; on failure nothing changes.
  absl::Status ReloadTls();

  // SIGHUP: reads the JWT key files again (--jwt-secret-file,
  // --jwt-public-key-file); on any error the previous keys stay in force.
  absl::Status ReloadJwtKeys();

  uint16_t http_port() const { return http_port_; }
  uint16_t grpc_port() const { return grpc_port_; }
  uint16_t admin_port() const { return admin_ ? admin_->port() : 0; }
  const std::string& node_id() const { return node_id_; }
  hub::Hub& hub() { return *hub_; }
  const Metrics& metrics() const { return metrics_; }
  size_t io_threads() const { return contexts_.size(); }
  size_t subscriber_count() const { return service_ ? service_->subscriber_count() : 0; }
  // Connections holding an admission ticket (upgraded or upgrading).
  uint64_t admitted_connections() const { return admission_ ? admission_->total() : 0; }

 private:
  config::Config config_;
  std::string node_id_;
  Metrics metrics_;
  // Declared before the I/O contexts: sessions destroyed with them give their
  // admission tickets back.
  std::unique_ptr<ws::Admission> admission_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<hub::ShardInbox>> inboxes_;  // one per context, destroyed first
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::vector<routes::RoutePattern> raw_paths_;
  std::unique_ptr<http::StaticFiles> static_files_;
  std::unique_ptr<hub::Hub> hub_;
  std::unique_ptr<routes::RouteTable> routes_;
  std::unique_ptr<hub::InboundHandler> inbound_;
  util::TrustedProxies trusted_proxies_;
  std::vector<std::unique_ptr<ws::SharedDetails>> shared_details_;  // one per I/O thread
  std::unique_ptr<ws::TlsStore> tls_;
  std::unique_ptr<ws::Context> context_;
  std::shared_ptr<ws::Listener> listener_;
  std::vector<std::unique_ptr<ws::KeepAliveSweep>> keepalive_;  // one per I/O thread
  std::unique_ptr<util::TokenStore> tokens_;
  std::unique_ptr<auth::JwtVerifier> jwt_;  // only with a JWT key file
  std::unique_ptr<rpc::ControlPlane> control_;
  std::unique_ptr<rpc::SignalService> service_;
  std::unique_ptr<cluster::Cluster> cluster_;  // only with --nats
  std::shared_ptr<admin::AdminServer> admin_;
  std::atomic<bool> ready_{false};
  std::unique_ptr<grpc::Server> grpc_server_;
  uint16_t http_port_ = 0;
  uint16_t grpc_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace sigd

#endif  // SIGD_SERVER_SERVER_H_
