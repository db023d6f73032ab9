#include "server/ws/keepalive.h"

#include "boost/beast/core/error.hpp"

namespace sigd::ws {

KeepAliveSweep::KeepAliveSweep(boost::asio::io_context::executor_type executor, hub::Hub& hub,
                               size_t shard, std::chrono::milliseconds tick)
    : timer_(executor), hub_(hub), shard_(shard), tick_(tick) {}

void KeepAliveSweep::Start() { Arm(); }

void KeepAliveSweep::Arm() {
  timer_.expires_after(tick_);
  timer_.async_wait([this](boost::beast::error_code ec) {
    if (ec) return;  // the server is stopping
    hub_.ForEachOnShard(shard_, [](hub::Client& client) { client.KeepAliveTick(); });
    Arm();
  });
}

}  // namespace sigd::ws
