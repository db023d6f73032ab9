#include "server/ws/listener.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "server/util/acceptor.h"
#include "server/ws/http_session.h"
#include "spdlog/spdlog.h"

namespace sigd::ws {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(net::any_io_executor executor, Context& context)
    : acceptor_(executor), retry_timer_(executor), context_(context) {}

absl::Status Listener::Open(const tcp::endpoint& endpoint) {
  if (absl::Status s = util::OpenAcceptor(acceptor_, endpoint, ""); !s.ok()) return s;
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void Listener::Run() {
  net::dispatch(acceptor_.get_executor(),
                boost::beast::bind_front_handler(&Listener::DoAccept, shared_from_this()));
}

void Listener::Stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::DoAccept() {
  const size_t shard = next_shard_;
  next_shard_ = (next_shard_ + 1) % context_.hub.shard_count();
  // The socket is created on its shard's executor, so every operation of the
  // session runs on that shard's thread.
  const auto* executor = context_.hub.executor(shard).target<net::io_context::executor_type>();
  acceptor_.async_accept(
      *executor,
      boost::beast::bind_front_handler(&Listener::OnAccept, shared_from_this(), shard));
}

void Listener::OnAccept(size_t shard, boost::beast::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of file descriptors (or memory): the pending connection stays in
    // the backlog, so retrying at once would spin. Back off briefly.
    spdlog::warn("accept failed: {}; retrying in 50 ms", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(50));
    retry_timer_.async_wait([self = shared_from_this()](boost::beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open()) self->DoAccept();
    });
    return;
  }
  // Signals are small and latency-bound: without TCP_NODELAY, Nagle holds a
  // frame until the previous one is acknowledged, which a client's delayed
  // ACK stretches to 40 ms.
  boost::beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  Transport transport = context_.tls != nullptr
                            ? Transport(std::move(socket), context_.tls->Current())
                            : Transport(std::move(socket));
  std::make_shared<HttpSession>(std::move(transport), shard, context_)->Run();
  DoAccept();
}

}  // namespace sigd::ws
