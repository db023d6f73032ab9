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

// What a client's JWT (--jwt-*) said at the upgrade.
struct ClientToken {
  std::string subject;  // its "sub"
  absl::Time expires = absl::InfiniteFuture();
  // Its "send" claim: the paths its messages may address; null: no
  // restriction.
  std::shared_ptr<const std::vector<routes::RoutePattern>> send_paths;
};

using Query = std::map<std::string, std::string>;

// Fixed at connect time; safe to read from any thread.
//
// Every byte here is paid per connection. The values many clients send alike
// are shared between them (util::Interner, one per I/O thread): never null, an
// empty value when the client sent none.
struct ClientInfo {
  std::string id;
  std::string path;
  std::string remote_address;   // "ip:port"
  bool secure = false;          // wss
  bool raw = false;             // on a --raw-path: frames relayed verbatim
  absl::Time connected_at;
  // The endpoint the client reached, "ip:port".
  std::shared_ptr<const std::string> local_address = EmptyString();
  std::shared_ptr<const Query> query = EmptyQuery();
  std::shared_ptr<const std::string> user_agent = EmptyString();
  std::shared_ptr<const std::string> origin = EmptyString();
  // Null when the client connected without a JWT.
  std::shared_ptr<const ClientToken> token;

  const std::string& subject() const { return token ? token->subject : *EmptyString(); }
  absl::Time token_expires() const {
    return token ? token->expires : absl::InfiniteFuture();
  }
  // The paths its messages may address; null: no restriction.
  const std::vector<routes::RoutePattern>* send_paths() const {
    return token ? token->send_paths.get() : nullptr;
  }

  static const std::shared_ptr<const std::string>& EmptyString();
  static const std::shared_ptr<const Query>& EmptyQuery();
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
