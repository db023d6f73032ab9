// The hub's view of one connected client: who it is, and how to queue a frame
// to it or close it. The WebSocket session implements it.
#ifndef SIGD_SERVER_HUB_CLIENT_H_
#define SIGD_SERVER_HUB_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/hub/frame.h"
#include "server/routes/route_pattern.h"

namespace sigd::hub {

// Fixed at connect time; safe to read from any thread.
struct ClientInfo {
  std::string id;
  std::string path;
  std::string remote_address;   // "ip:port"
  std::string local_address;    // the endpoint the client reached, "ip:port"
  bool secure = false;          // wss
  bool raw = false;             // on a --raw-path: frames relayed verbatim
  absl::Time connected_at;
  std::map<std::string, std::string> query;
  std::string user_agent;
  std::string origin;
  // From the client's JWT (--jwt-*), empty without one: its "sub", when it
  // expires, and its "send" claim (paths its messages may address; null: no
  // restriction).
  std::string subject;
  absl::Time token_expires = absl::InfiniteFuture();
  std::shared_ptr<const std::vector<routes::RoutePattern>> send_paths;
};

class Client {
 public:
  virtual ~Client() = default;

  virtual const ClientInfo& info() const = 0;

  // Queues a frame. Runs only on the client's shard thread. Returns false when
  // the frame was not queued (the client is closing, or has just been dropped
  // because its queue is full). Never unregisters the client synchronously, so
  // the hub may call it while iterating its registry.
  virtual bool Deliver(const Frame& frame) = 0;

  // Starts a close handshake with this code. Any thread.
  virtual void Close(uint16_t code, std::string reason) = 0;

  // Called on the client's shard thread by its transport's periodic
  // keep-alive sweep (see ws/keepalive.h). Must not unregister synchronously.
  virtual void KeepAliveTick() {}

  virtual uint64_t messages_in() const = 0;
  virtual uint64_t messages_out() const = 0;

  // The I/O thread (shard) that owns the client.
  size_t shard() const { return shard_; }

 protected:
  explicit Client(size_t shard) : shard_(shard) {}

 private:
  friend class Hub;
  const size_t shard_;
  size_t slot_ = 0;  // position in the hub's per-shard path index
};

}  // namespace sigd::hub

#endif  // SIGD_SERVER_HUB_CLIENT_H_
