// The client registry and the fan-out engine.
//
// Clients are sharded by I/O thread: each shard's path index is touched only
// by its own thread, so fan-out takes no lock and a broadcast posts one task
// per thread rather than one per client. A global id index (under a mutex,
// touched on connect, disconnect and targeted sends) answers lookups and
// listings.
//
// Placement: a new client goes to the shard that already holds its path's
// clients, until that shard has kPathAffinity of them (then to the shard with
// the fewest clients). A small path's traffic then stays on one thread: a
// broadcast posts only to the shards that hold clients in its scope (on its
// path, or at all), so it wakes no other thread. Paths larger than that
// spread over every shard.
//
//   Hub hub(executors);
//   hub.Publish({.path = "/news"}, TextFrame("hi"), [](uint64_t n) { ... });
#ifndef SIGD_SERVER_HUB_HUB_H_
#define SIGD_SERVER_HUB_HUB_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "server/util/mutex.h"
#include "boost/asio/any_io_executor.hpp"
#include "server/hub/client.h"
#include "server/hub/frame.h"
#include "server/hub/shard_inbox.h"

namespace sigd::hub {

struct Scope {
  std::string path;       // "" = every path
  std::string client_id;  // "" = every client in scope
};

class Hub {
 public:
  using Done = std::function<void(uint64_t delivered)>;

  // One executor per shard; shard i's clients run on executors[i], which must
  // be single-threaded. With `inboxes` (one per shard, started, outliving the
  // hub's use), work for a shard from other threads goes through its inbox.
  explicit Hub(std::vector<boost::asio::any_io_executor> executors,
               std::vector<ShardInbox*> inboxes = {});

  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Clients of one path kept on one shard, at most.
  static constexpr uint32_t kPathAffinity = 128;

 private:
  struct Placement;
  struct PathShards;
  using PathEntry = std::pair<const std::string, PathShards>;

 public:
  // A new client's place: its shard, counted for its path from the choice
  // (so that clients connecting together land together) until Register takes
  // it over, or until it is destroyed unused. It may outlive the hub (a task
  // queued for a shard at shutdown).
  class Seat {
   public:
    Seat() = default;
    Seat(Seat&& other) noexcept = default;
    Seat& operator=(Seat&& other) noexcept;
    ~Seat() { Release(); }
    size_t shard() const { return shard_; }

   private:
    friend class Hub;
    Seat(std::shared_ptr<Placement> placement, PathEntry* entry, size_t shard)
        : placement_(std::move(placement)), entry_(entry), shard_(shard) {}
    void Release();

    std::shared_ptr<Placement> placement_;  // null: empty or taken over
    PathEntry* entry_ = nullptr;
    size_t shard_ = 0;
  };

  // Chooses the shard for a new client on `path` (see Placement above).
  Seat Place(std::string_view path);
  // Counts a new client on `path` on a shard fixed by the caller (a
  // connection that cannot move).
  Seat PlaceOn(std::string_view path, size_t shard);

  // Both run on the client's shard thread. `seat`, if the client has one,
  // must be on the client's shard and path.
  void Register(const std::shared_ptr<Client>& client, Seat seat);
  void Register(const std::shared_ptr<Client>& client);
  void Unregister(Client& client);

  // Queues the frame for every client in scope; `done` (optional, any thread)
  // gets the number of clients it was queued for. NotFound, without calling
  // `done`, when a client id is given and no such client is connected.
  absl::Status Publish(Scope scope, Frame frame, Done done = nullptr);

  // Fan-out to one shard, on that shard's thread (a sender's own shard runs
  // its part of a broadcast without a post).
  uint64_t DeliverOnShard(size_t shard, std::string_view path, const Frame& frame);

  std::shared_ptr<Client> Find(std::string_view id) const;

  struct Page {
    std::vector<std::shared_ptr<Client>> clients;
    std::string next_token;
    uint64_t total = 0;
  };
  // Clients ordered by id, optionally on one path; the token is the last id of
  // the previous page.
  Page List(std::string_view path, size_t page_size, std::string_view page_token) const;

  size_t size() const { return count_.load(std::memory_order_relaxed); }
  size_t shard_count() const { return shards_.size(); }
  const boost::asio::any_io_executor& executor(size_t shard) const {
    return shards_[shard].executor;
  }
  // Runs `task` on `shard`'s thread, after what this thread posted there before.
  void Post(size_t shard, ShardInbox::Task task);

  // Starts a close handshake on every client (shutdown).
  void CloseAll(uint16_t code, const std::string& reason);

  // Calls `visit` for every client registered on `shard`, on that shard's
  // thread. `visit` must not unregister a client synchronously.
  void ForEachOnShard(size_t shard, absl::FunctionRef<void(Client&)> visit);

 private:
  struct Shard {
    boost::asio::any_io_executor executor;
    ShardInbox* inbox;  // null: post to the executor
    // Only touched on the shard's thread.
    absl::flat_hash_map<std::string, std::vector<Client*>> by_path;
  };

  // Per path, per shard: seats not yet registered, and registered clients.
  struct PathShards {
    absl::InlinedVector<uint32_t, 4> seated;
    absl::InlinedVector<uint32_t, 4> registered;
    uint64_t total = 0;  // of both, on every shard
  };
  struct Placement {
    explicit Placement(size_t shards) : load(shards, 0) {}
    PathEntry& EntryFor(std::string_view path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
    // Counts one client more on `entry`'s path, seated or registered.
    void Join(PathEntry& entry, size_t shard, bool registered) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
    // Counts one client less on `entry`'s path; forgets the path at zero.
    void Leave(PathEntry& entry, size_t shard, bool registered) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

    util::Mutex mu;
    absl::node_hash_map<std::string, PathShards> paths ABSL_GUARDED_BY(mu);
    // Per shard: clients placed or registered there, on every path.
    std::vector<uint64_t> load ABSL_GUARDED_BY(mu);
  };

  std::vector<Shard> shards_;
  const std::shared_ptr<Placement> placement_;
  std::atomic<size_t> count_{0};
  mutable util::Mutex mu_;
  // Keyed by a view of the client's own id: the entry's reference keeps the
  // client, and so its id, alive.
  std::map<std::string_view, std::shared_ptr<Client>, std::less<>> by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigd::hub

#endif  // SIGD_SERVER_HUB_HUB_H_
