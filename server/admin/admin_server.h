// The admin HTTP listener (--admin-listen, off unless given): a JSON API for
// people with only curl, plus the operator's endpoints.
//
//   POST /v1/signals   a SendSignalRequest in proto3's JSON mapping
//   GET  /v1/clients   ?path=&page_size=&page_token= -> ListClientsResponse
//   GET  /metrics      Prometheus text format
//   GET  /healthz      200 while the process serves
//   GET  /readyz       200 while it takes new clients, 503 while draining
#ifndef SIGD_SERVER_ADMIN_ADMIN_SERVER_H_
#define SIGD_SERVER_ADMIN_ADMIN_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "boost/asio/ip/tcp.hpp"
#include "server/config/config.h"
#include "server/hub/hub.h"
#include "server/metrics.h"
#include "server/rpc/control_plane.h"

namespace sigd::admin {

struct AdminContext {
  const config::Config& config;
  rpc::ControlPlane& control;
  hub::Hub& hub;
  Metrics& metrics;
  std::function<size_t()> subscriber_count;
  const std::atomic<bool>& ready;
};

class AdminServer : public std::enable_shared_from_this<AdminServer> {
 public:
  AdminServer(boost::asio::any_io_executor executor, AdminContext context);

  absl::Status Open(const boost::asio::ip::tcp::endpoint& endpoint);
  void Run();
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void DoAccept();

  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<const AdminContext> context_;
  uint16_t port_ = 0;
};

}  // namespace sigd::admin

#endif  // SIGD_SERVER_ADMIN_ADMIN_SERVER_H_
