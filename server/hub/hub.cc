#include "server/hub/hub.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/post.hpp"
#include "server/util/strings.h"

namespace sigd::hub {

Hub::Hub(std::vector<boost::asio::any_io_executor> executors, std::vector<ShardInbox*> inboxes)
    : placement_(std::make_shared<Placement>(executors.size())) {
  shards_.reserve(executors.size());
  for (size_t i = 0; i < executors.size(); ++i) {
    shards_.push_back(
        Shard{std::move(executors[i]), i < inboxes.size() ? inboxes[i] : nullptr, {}});
  }
}

void Hub::Post(size_t shard, ShardInbox::Task task) {
  if (ShardInbox* inbox = shards_[shard].inbox; inbox != nullptr) {
    inbox->Post(std::move(task));
    return;
  }
  boost::asio::post(shards_[shard].executor, std::move(task));
}

Hub::Seat& Hub::Seat::operator=(Seat&& other) noexcept {
  if (this != &other) {
    Release();
    placement_ = std::move(other.placement_);
    entry_ = other.entry_;
    shard_ = other.shard_;
  }
  return *this;
}

void Hub::Seat::Release() {
  if (placement_ == nullptr) return;
  {
    util::MutexLock lock(&placement_->mu);
    placement_->Leave(*entry_, shard_, /*registered=*/false);
  }
  placement_.reset();
}

Hub::PathEntry& Hub::Placement::EntryFor(std::string_view path) {
  auto [it, inserted] = paths.try_emplace(util::ToAbsl(path));
  if (inserted) {
    it->second.seated.assign(load.size(), 0);
    it->second.registered.assign(load.size(), 0);
  }
  return *it;
}

void Hub::Placement::Join(PathEntry& entry, size_t shard, bool registered) {
  ++(registered ? entry.second.registered : entry.second.seated)[shard];
  ++load[shard];
  ++entry.second.total;
}

void Hub::Placement::Leave(PathEntry& entry, size_t shard, bool registered) {
  --(registered ? entry.second.registered : entry.second.seated)[shard];
  --load[shard];
  if (--entry.second.total == 0) paths.erase(paths.find(entry.first));
}

Hub::Seat Hub::Place(std::string_view path) {
  Placement& p = *placement_;
  util::MutexLock lock(&p.mu);
  PathEntry& entry = p.EntryFor(path);
  PathShards& counts = entry.second;
  // The shard holding most of the path's clients while it has room for one
  // more; else the least loaded.
  size_t chosen = shards_.size();
  uint64_t most = 0;
  for (size_t i = 0; i < shards_.size(); ++i) {
    const uint64_t n = counts.seated[i] + counts.registered[i];
    if (n > most && n < kPathAffinity) {
      chosen = i;
      most = n;
    }
  }
  if (chosen == shards_.size()) {
    chosen = 0;
    for (size_t i = 1; i < shards_.size(); ++i) {
      if (p.load[i] < p.load[chosen]) chosen = i;
    }
  }
  p.Join(entry, chosen, /*registered=*/false);
  return Seat(placement_, &entry, chosen);
}

Hub::Seat Hub::PlaceOn(std::string_view path, size_t shard) {
  Placement& p = *placement_;
  util::MutexLock lock(&p.mu);
  PathEntry& entry = p.EntryFor(path);
  p.Join(entry, shard, /*registered=*/false);
  return Seat(placement_, &entry, shard);
}

void Hub::Register(const std::shared_ptr<Client>& client) { Register(client, Seat()); }

void Hub::Register(const std::shared_ptr<Client>& client, Seat seat) {
  const size_t shard = client->shard();
  if (seat.placement_ != nullptr &&
      (seat.placement_ != placement_ || seat.shard_ != shard ||
       seat.entry_->first != client->info().path)) {
    seat = Seat();  // not this client's: given back, and the client counted afresh
  }
  {
    Placement& p = *placement_;
    util::MutexLock lock(&p.mu);
    if (seat.placement_ != nullptr) {
      // The seat's count becomes the registration's.
      --seat.entry_->second.seated[shard];
      ++seat.entry_->second.registered[shard];
      seat.placement_.reset();  // the hub holds the table too: nothing is freed here
    } else {
      p.Join(p.EntryFor(client->info().path), shard, /*registered=*/true);
    }
  }
  {
    util::MutexLock lock(&mu_);
    by_id_.emplace(client->info().id, client);
  }
  auto& members = shards_[client->shard()].by_path[client->info().path];
  client->slot_ = members.size();
  members.push_back(client.get());
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Hub::Unregister(Client& client) {
  auto& by_path = shards_[client.shard()].by_path;
  auto it = by_path.find(client.info().path);
  if (it == by_path.end()) return;
  auto& members = it->second;
  const size_t slot = client.slot_;
  if (slot >= members.size() || members[slot] != &client) return;  // not registered
  // Swap-remove keeps removal O(1); the moved client learns its new slot.
  members[slot] = members.back();
  members[slot]->slot_ = slot;
  members.pop_back();
  if (members.empty()) by_path.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
  {
    Placement& p = *placement_;
    util::MutexLock lock(&p.mu);
    auto entry = p.paths.find(client.info().path);
    if (entry != p.paths.end()) p.Leave(*entry, client.shard(), /*registered=*/true);
  }
  // The registry's reference goes last: it may be what keeps `client` alive.
  std::shared_ptr<Client> keep;
  {
    util::MutexLock lock(&mu_);
    auto found = by_id_.find(client.info().id);
    if (found != by_id_.end()) {
      keep = std::move(found->second);
      by_id_.erase(found);
    }
  }
}

void Hub::ForEachOnShard(size_t shard, absl::FunctionRef<void(Client&)> visit) {
  for (auto& [path, members] : shards_[shard].by_path) {
    for (Client* c : members) visit(*c);
  }
}

uint64_t Hub::DeliverOnShard(size_t shard, std::string_view path, const Frame& frame) {
  auto& by_path = shards_[shard].by_path;
  uint64_t delivered = 0;
  if (path.empty()) {
    for (auto& [p, members] : by_path) {
      for (Client* c : members) delivered += c->Deliver(frame) ? 1 : 0;
    }
    return delivered;
  }
  auto it = by_path.find(util::ToAbsl(path));
  if (it == by_path.end()) return 0;
  for (Client* c : it->second) delivered += c->Deliver(frame) ? 1 : 0;
  return delivered;
}

absl::Status Hub::Publish(Scope scope, Frame frame, Done done) {
  if (!scope.client_id.empty()) {
    std::shared_ptr<Client> client = Find(scope.client_id);
    if (client == nullptr) {
      return absl::NotFoundError(absl::StrCat("no client with id ", scope.client_id));
    }
    const size_t shard = client->shard();
    Post(shard, [client = std::move(client), path = std::move(scope.path),
                 frame = std::move(frame), done = std::move(done)] {
      const bool in_scope = path.empty() || client->info().path == path;
      const bool queued = in_scope && client->Deliver(frame);
      if (done) done(queued ? 1 : 0);
    });
    return absl::OkStatus();
  }

  // A broadcast goes only to the shards with clients in its scope: it wakes
  // no thread that has nothing to do for it.
  absl::InlinedVector<size_t, 8> targets;
  {
    Placement& p = *placement_;
    util::MutexLock lock(&p.mu);
    if (scope.path.empty()) {
      for (size_t i = 0; i < shards_.size(); ++i) {
        if (p.load[i] > 0) targets.push_back(i);
      }
    } else if (auto entry = p.paths.find(scope.path); entry != p.paths.end()) {
      for (size_t i = 0; i < shards_.size(); ++i) {
        if (entry->second.registered[i] > 0) targets.push_back(i);
      }
    }
  }
  if (targets.empty()) {
    if (done) done(0);
    return absl::OkStatus();
  }
  struct Tally {
    std::atomic<size_t> remaining;
    std::atomic<uint64_t> delivered{0};
    Done done;
  };
  std::shared_ptr<Tally> tally;
  if (done) {
    tally = std::make_shared<Tally>();
    tally->remaining.store(targets.size());
    tally->done = std::move(done);
  }
  auto path = std::make_shared<const std::string>(std::move(scope.path));
  for (const size_t i : targets) {
    Post(i, [this, i, path, frame, tally] {
      const uint64_t n = DeliverOnShard(i, *path, frame);
      if (tally == nullptr) return;
      tally->delivered.fetch_add(n, std::memory_order_relaxed);
      if (tally->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        tally->done(tally->delivered.load(std::memory_order_relaxed));
      }
    });
  }
  return absl::OkStatus();
}

std::shared_ptr<Client> Hub::Find(std::string_view id) const {
  util::MutexLock lock(&mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

Hub::Page Hub::List(std::string_view path, size_t page_size, std::string_view page_token) const {
  Page page;
  util::MutexLock lock(&mu_);
  auto it = page_token.empty() ? by_id_.begin() : by_id_.upper_bound(page_token);
  for (const auto& [id, client] : by_id_) {
    if (path.empty() || client->info().path == path) ++page.total;
  }
  for (; it != by_id_.end(); ++it) {
    if (!path.empty() && it->second->info().path != path) continue;
    if (page.clients.size() == page_size) {
      page.next_token = page.clients.back()->info().id;
      break;
    }
    page.clients.push_back(it->second);
  }
  return page;
}

void Hub::CloseAll(uint16_t code, const std::string& reason) {
  for (size_t i = 0; i < shards_.size(); ++i) {
    Post(i, [this, i, code, reason] {
      // Close() only starts the handshake; unregistering happens later, so
      // iterating here is safe. Copy anyway: close completions may run inline.
      std::vector<Client*> all;
      for (auto& [p, members] : shards_[i].by_path) all.insert(all.end(), members.begin(), members.end());
      for (Client* c : all) c->Close(code, reason);
    });
  }
}

}  // namespace sigd::hub
