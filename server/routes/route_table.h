// Which subscribers get a browser's message, and whether default handling
// (the Pode re-broadcast) still happens. Pure logic: sockets and gRPC stay
// behind EventSink.
//
// Rules (DESIGN.md, "Signal routes"): a route matches on the sender's
// connection path; among HANDLE routes the most specific match wins and
// suppresses default handling; each group of that route gets the event once
// (round robin among its members; an empty group name is a group of one);
// every matching OBSERVE group gets a copy. A full sink passes the event to
// the next member of its group; when no member can take it the outcome says
// so, and the caller tells the sender (route_busy).
//
// Thread-safe. Readers take an immutable snapshot (one refcount under a short
// lock), so routing a message never waits on a subscriber.
//
//   RouteTable table;
//   auto h = table.Add({.routes = {*RoutePattern::Parse("/messages")}, .sink = sink});
//   table.RouteMessage("/messages", make_event);   // -> kHandled
//   table.Remove(h);
#ifndef SIGD_SERVER_ROUTES_ROUTE_TABLE_H_
#define SIGD_SERVER_ROUTES_ROUTE_TABLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "server/util/mutex.h"
#include "server/routes/event_sink.h"
#include "server/routes/route_pattern.h"
#include "signal.pb.h"

namespace sigd::routes {

struct Subscription {
  std::vector<RoutePattern> routes;
  bool observe = false;
  std::string group;
  bool wants_message = true;
  bool wants_connect = false;
  bool wants_disconnect = false;
  std::shared_ptr<EventSink> sink;
  // Cluster mode: the instance of the node that holds this subscription
  // (its sink forwards there); empty for a stream held by this node.
  std::string holder;
};

struct MessageOutcome {
  enum class Result {
    kUnrouted,   // no HANDLE subscriber: default handling applies
    kHandled,    // every HANDLE group took the event
    kNoHandler,  // a pinned route matched but nobody holds it
    kBusy,       // a HANDLE group could not take the event (all members full)
  };
  Result result = Result::kUnrouted;
  std::string route;              // the HANDLE route that matched, if any
  uint32_t handle_deliveries = 0;
  uint32_t observe_deliveries = 0;
  uint32_t observe_dropped = 0;   // OBSERVE groups whose members were all full
};

class RouteTable {
 public:
  using Handle = uint64_t;
  // Builds the event for the route that matched (the event's `route` field
  // differs between a HANDLE and an OBSERVE match).
  using MakeEvent = absl::FunctionRef<EventPtr(const std::string& route)>;

  // Pinned routes answer no_handler while no HANDLE subscriber holds them.
  explicit RouteTable(std::vector<RoutePattern> pinned = {});

  Handle Add(Subscription subscription);
  void Remove(Handle handle);

  size_t subscriber_count() const;

  // Cluster mode. The subscriptions held by this node (holder empty),
  // without their sinks, for announcing them to the other nodes.
  std::vector<std::pair<Handle, Subscription>> LocalSubscriptions() const;
  // Runs (outside the lock, on the caller's thread) after a local
  // subscription is added or removed; null to stop. Remote entries do not
  // trigger it.
  void SetOnLocalChange(std::function<void()> on_change);
  // An event another node routed to the local subscription `handle`:
  // offered to it, and when it is full to the other local members of its
  // group that hold the event's route. False when none took it (or the
  // subscription is gone).
  bool OfferTo(Handle handle, EventPtr event) const;

  MessageOutcome RouteMessage(std::string_view path, MakeEvent make_event) const;

  // CONNECT / DISCONNECT events: every subscriber (either mode) that asked for
  // the kind and has a matching route, once per named group. Returns how many
  // groups could not take the event.
  uint32_t RouteLifecycle(std::string_view path, sigd::v1::EventKind kind,
                          MakeEvent make_event) const;

 private:
  struct Entry {
    Handle handle;
    Subscription subscription;
  };
  struct Snapshot {
    std::vector<std::shared_ptr<const Entry>> entries;
    // Round-robin positions, keyed by group identity; shared with the
    // previous snapshot so a membership change does not reset them all.
    absl::flat_hash_map<std::string, std::shared_ptr<std::atomic<uint64_t>>> cursors;
  };
  struct Candidate {
    const Entry* entry;
    const RoutePattern* route;
  };

  std::shared_ptr<const Snapshot> Load() const;
  void Publish(std::vector<std::shared_ptr<const Entry>> entries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Offers one event to each group among the candidates; returns the number
  // of groups that took it and adds the ones that could not to *failed.
  static uint32_t OfferToGroups(const Snapshot& snapshot, std::string_view key_prefix,
                                const std::vector<Candidate>& candidates,
                                MakeEvent make_event, uint32_t* failed);

  const std::vector<RoutePattern> pinned_;
  mutable util::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  Handle next_handle_ ABSL_GUARDED_BY(mu_) = 1;
  std::shared_ptr<std::function<void()>> on_local_change_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> empty_{true};
};

}  // namespace sigd::routes

#endif  // SIGD_SERVER_ROUTES_ROUTE_TABLE_H_
