#include "server/routes/route_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sigd::routes {
namespace {

// The most specific of a subscription's routes that matches the path.
const RoutePattern* BestMatch(const Subscription& s, std::string_view path) {
  const RoutePattern* best = nullptr;
  for (const RoutePattern& r : s.routes) {
    if (r.Matches(path) && (best == nullptr || r.Specificity() > best->Specificity())) {
      best = &r;
    }
  }
  return best;
}

// Round-robin cursor keys a subscription takes part in; they must agree with
// the key prefixes RouteMessage and RouteLifecycle use.
std::vector<std::string> CursorKeys(const Subscription& s) {
  std::vector<std::string> keys;
  if (s.group.empty()) return keys;
  if (s.observe) {
    keys.push_back(absl::StrCat("O\n", s.group));
  } else {
    for (const RoutePattern& r : s.routes) keys.push_back(absl::StrCat("H\n", r.text(), "\n", s.group));
  }
  keys.push_back(absl::StrCat("L\n", s.group));
  return keys;
}

}  // namespace

RouteTable::RouteTable(std::vector<RoutePattern> pinned)
    : pinned_(std::move(pinned)), snapshot_(std::make_shared<Snapshot>()) {}

std::shared_ptr<const RouteTable::Snapshot> RouteTable::Load() const {
  util::MutexLock lock(&mu_);
  return snapshot_;
}

void RouteTable::Publish(std::vector<std::shared_ptr<const Entry>> entries) {
  auto next = std::make_shared<Snapshot>();
  next->entries = std::move(entries);
  for (const auto& entry : next->entries) {
    for (std::string& key : CursorKeys(entry->subscription)) {
      if (next->cursors.contains(key)) continue;
      auto old = snapshot_->cursors.find(key);
      next->cursors.emplace(key, old != snapshot_->cursors.end()
                                     ? old->second
                                     : std::make_shared<std::atomic<uint64_t>>(0));
    }
  }
  empty_.store(next->entries.empty(), std::memory_order_release);
  snapshot_ = std::move(next);
}

RouteTable::Handle RouteTable::Add(Subscription subscription) {
  std::shared_ptr<std::function<void()>> notify;
  Handle handle = 0;
  {
    util::MutexLock lock(&mu_);
    handle = next_handle_++;
    if (subscription.holder.empty()) notify = on_local_change_;
    auto entries = snapshot_->entries;
    entries.push_back(std::make_shared<const Entry>(Entry{handle, std::move(subscription)}));
    Publish(std::move(entries));
  }
  if (notify != nullptr) (*notify)();
  return handle;
}

void RouteTable::Remove(Handle handle) {
  std::shared_ptr<std::function<void()>> notify;
  {
    util::MutexLock lock(&mu_);
    auto entries = snapshot_->entries;
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [&](const auto& e) { return e->handle == handle; });
    if (it == entries.end()) return;
    if ((*it)->subscription.holder.empty()) notify = on_local_change_;
    entries.erase(it);
    Publish(std::move(entries));
  }
  if (notify != nullptr) (*notify)();
}

void RouteTable::SetOnLocalChange(std::function<void()> on_change) {
  util::MutexLock lock(&mu_);
  on_local_change_ =
      on_change ? std::make_shared<std::function<void()>>(std::move(on_change)) : nullptr;
}

std::vector<std::pair<RouteTable::Handle, Subscription>> RouteTable::LocalSubscriptions() const {
  std::vector<std::pair<Handle, Subscription>> out;
  for (const auto& entry : Load()->entries) {
    if (!entry->subscription.holder.empty()) continue;
    Subscription copy = entry->subscription;
    copy.sink = nullptr;
    out.emplace_back(entry->handle, std::move(copy));
  }
  return out;
}

bool RouteTable::OfferTo(Handle handle, EventPtr event) const {
  const std::shared_ptr<const Snapshot> snapshot = Load();
  const Entry* target = nullptr;
  for (const auto& entry : snapshot->entries) {
    if (entry->handle == handle && entry->subscription.holder.empty()) target = entry.get();
  }
  if (target == nullptr) return false;
  if (target->subscription.sink->Offer(event)) return true;
  const Subscription& s = target->subscription;
  if (s.group.empty()) return false;
  // Full: another local member of the same group that holds the same route.
  for (const auto& entry : snapshot->entries) {
    const Subscription& other = entry->subscription;
    if (entry.get() == target || !other.holder.empty() || other.group != s.group ||
        other.observe != s.observe) {
      continue;
    }
    const bool holds = std::any_of(other.routes.begin(), other.routes.end(),
                                   [&](const RoutePattern& r) { return r.text() == event->route(); });
    if (holds && other.sink->Offer(event)) return true;
  }
  return false;
}

size_t RouteTable::subscriber_count() const { return Load()->entries.size(); }

uint32_t RouteTable::OfferToGroups(const Snapshot& snapshot, std::string_view key_prefix,
                                   const std::vector<Candidate>& candidates,
                                   MakeEvent make_event, uint32_t* failed) {
  // Events are built once per distinct route text and shared by the groups.
  std::vector<std::pair<const std::string*, EventPtr>> events;
  auto event_for = [&](const RoutePattern& route) -> const EventPtr& {
    for (auto& [text, event] : events) {
      if (*text == route.text()) return event;
    }
    events.emplace_back(&route.text(), make_event(route.text()));
    return events.back().second;
  };

  uint32_t delivered = 0;
  std::vector<bool> done(candidates.size(), false);
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (done[i]) continue;
    const std::string& group = candidates[i].entry->subscription.group;
    // Members of this group, in registration order.
    std::vector<size_t> members;
    if (group.empty()) {
      members.push_back(i);
    } else {
      for (size_t j = i; j < candidates.size(); ++j) {
        if (!done[j] && candidates[j].entry->subscription.group == group) members.push_back(j);
      }
    }
    for (size_t m : members) done[m] = true;

    size_t start = 0;
    if (members.size() > 1) {
      const auto cursor = snapshot.cursors.find(std::string(key_prefix) + group);
      if (cursor != snapshot.cursors.end()) {
        start = cursor->second->fetch_add(1, std::memory_order_relaxed) % members.size();
      }
    }
    bool taken = false;
    for (size_t k = 0; k < members.size() && !taken; ++k) {
      const Candidate& c = candidates[members[(start + k) % members.size()]];
      taken = c.entry->subscription.sink->Offer(event_for(*c.route));
    }
    if (taken) {
      ++delivered;
    } else {
      ++*failed;
    }
  }
  return delivered;
}

MessageOutcome RouteTable::RouteMessage(std::string_view path, MakeEvent make_event) const {
  MessageOutcome outcome;
  if (empty_.load(std::memory_order_acquire) && pinned_.empty()) return outcome;
  const std::shared_ptr<const Snapshot> snapshot = Load();

  std::vector<Candidate> handlers;
  std::vector<Candidate> observers;
  size_t best = 0;
  for (const auto& entry : snapshot->entries) {
    const Subscription& s = entry->subscription;
    if (!s.wants_message) continue;
    const RoutePattern* match = BestMatch(s, path);
    if (match == nullptr) continue;
    if (s.observe) {
      observers.push_back({entry.get(), match});
      continue;
    }
    const size_t specificity = match->Specificity();
    if (handlers.empty() || specificity > best) {
      handlers.clear();
      best = specificity;
    }
    if (specificity == best) handlers.push_back({entry.get(), match});
  }

  if (!observers.empty()) {
    outcome.observe_deliveries =
        OfferToGroups(*snapshot, "O\n", observers, make_event, &outcome.observe_dropped);
  }
  if (!handlers.empty()) {
    outcome.route = handlers.front().route->text();
    uint32_t failed = 0;
    outcome.handle_deliveries = OfferToGroups(
        *snapshot, absl::StrCat("H\n", outcome.route, "\n"), handlers, make_event, &failed);
    outcome.result =
        failed == 0 ? MessageOutcome::Result::kHandled : MessageOutcome::Result::kBusy;
    return outcome;
  }
  for (const RoutePattern& pinned : pinned_) {
    if (pinned.Matches(path)) {
      outcome.result = MessageOutcome::Result::kNoHandler;
      outcome.route = pinned.text();
      return outcome;
    }
  }
  return outcome;
}

uint32_t RouteTable::RouteLifecycle(std::string_view path, sigd::v1::EventKind kind,
                                    MakeEvent make_event) const {
  if (empty_.load(std::memory_order_acquire)) return 0;
  const std::shared_ptr<const Snapshot> snapshot = Load();
  std::vector<Candidate> candidates;
  for (const auto& entry : snapshot->entries) {
    const Subscription& s = entry->subscription;
    const bool wants = kind == sigd::v1::CONNECT ? s.wants_connect : s.wants_disconnect;
    if (!wants) continue;
    if (const RoutePattern* match = BestMatch(s, path)) candidates.push_back({entry.get(), match});
  }
  uint32_t failed = 0;
  if (!candidates.empty()) OfferToGroups(*snapshot, "L\n", candidates, make_event, &failed);
  return failed;
}

}  // namespace sigd::routes
