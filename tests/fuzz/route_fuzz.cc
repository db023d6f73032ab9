// Fuzzes route patterns (routes::RoutePattern) and the route table's choice of
// subscribers (routes::RouteTable::RouteMessage), checked against a plain
// model of DESIGN.md's rules:
//   - a pattern is accepted only if it starts with '/' and '*' is at most the
//     whole last segment; exact patterns match equal paths, "/p/*" matches
//     paths strictly below "/p/";
//   - among HANDLE subscribers the most specific matching route wins; each
//     group of them gets the event once unless all its members are full
//     (then kBusy); every OBSERVE group gets a copy; pinned routes answer
//     kNoHandler while no HANDLE subscriber matches.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/routes/route_pattern.h"
#include "server/routes/route_table.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sigd::routes::EventPtr;
using sigd::routes::MessageOutcome;
using sigd::routes::RoutePattern;
using sigd::routes::RouteTable;
using sigd::routes::Subscription;
using Result = MessageOutcome::Result;

class CountingSink : public sigd::routes::EventSink {
 public:
  explicit CountingSink(size_t capacity) : capacity_(capacity) {}
  bool Offer(EventPtr) override {
    if (taken_ >= capacity_) return false;
    ++taken_;
    return true;
  }
  size_t taken() const { return taken_; }
  bool full() const { return taken_ >= capacity_; }

 private:
  size_t capacity_;
  size_t taken_ = 0;
};

// A small alphabet makes matches likely; the fuzzer may still pick any byte.
std::string PathLike(FuzzedDataProvider& in, size_t max_len) {
  static constexpr char kAlphabet[] = "/ab*c.%";
  std::string s;
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, max_len);
  for (size_t i = 0; i < n && in.remaining_bytes() > 0; ++i) {
    const uint8_t b = in.ConsumeIntegral<uint8_t>();
    s.push_back(b < 224 ? kAlphabet[b % 7] : static_cast<char>(b));
  }
  return s;
}

// The pattern rules, written independently of RoutePattern.
std::optional<bool> ModelParse(const std::string& text) {  // nullopt: invalid; else is_prefix
  if (text.empty() || text[0] != '/') return std::nullopt;
  const size_t star = text.find('*');
  if (star == std::string::npos) return false;
  if (star != text.size() - 1 || text[star - 1] != '/') return std::nullopt;
  return true;
}

bool ModelMatches(const std::string& pattern, bool prefix, const std::string& path) {
  if (!prefix) return pattern == path;
  const std::string base = pattern.substr(0, pattern.size() - 1);  // "/p/"
  return path.size() > base.size() && path.compare(0, base.size(), base) == 0;
}

void CheckPattern(const std::string& text, const std::vector<std::string>& paths) {
  absl::StatusOr<RoutePattern> p = RoutePattern::Parse(text);
  const std::optional<bool> model = ModelParse(text);
  FUZZ_CHECK(p.ok() == model.has_value(), "Parse(\"%s\") disagrees with the rules", text.c_str());
  if (!p.ok()) return;
  FUZZ_CHECK(p->text() == text && p->is_prefix() == *model, "pattern fields wrong");
  if (p->is_prefix()) {
    FUZZ_CHECK(p->Specificity() < std::numeric_limits<size_t>::max(), "prefix as exact");
    FUZZ_CHECK(p->Specificity() == text.size() - 1, "prefix specificity is not its length");
  } else {
    FUZZ_CHECK(p->Specificity() == std::numeric_limits<size_t>::max(), "exact not most specific");
  }
  for (const std::string& path : paths) {
    FUZZ_CHECK(p->Matches(path) == ModelMatches(text, *model, path),
               "\"%s\" vs \"%s\": Matches disagrees", text.c_str(), path.c_str());
  }
}

struct ModelSub {
  std::vector<std::string> routes;  // valid patterns
  bool observe;
  std::string group;
  std::shared_ptr<CountingSink> sink;
  RouteTable::Handle handle;
};

// The best (most specific) match among a subscriber's routes, as text.
std::optional<std::pair<size_t, std::string>> BestMatch(const ModelSub& s,
                                                        const std::string& path) {
  std::optional<std::pair<size_t, std::string>> best;
  for (const std::string& r : s.routes) {
    const bool prefix = r.back() == '*';
    if (!ModelMatches(r, prefix, path)) continue;
    const size_t spec = prefix ? r.size() - 1 : std::numeric_limits<size_t>::max();
    if (!best || spec > best->first) best = std::make_pair(spec, r);
  }
  return best;
}

void CheckTable(FuzzedDataProvider& in, const std::vector<std::string>& paths) {
  std::vector<RoutePattern> pinned;
  std::vector<std::string> pinned_text;
  if (in.ConsumeBool()) {
    std::string t = PathLike(in, 8);
    if (auto p = RoutePattern::Parse(t); p.ok()) {
      pinned.push_back(*p);
      pinned_text.push_back(t);
    }
  }
  RouteTable table(pinned);
  std::vector<ModelSub> subs;
  const int n = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < n && in.remaining_bytes() > 0; ++i) {
    ModelSub s;
    Subscription sub;
    const int routes = in.ConsumeIntegralInRange(1, 3);
    for (int r = 0; r < routes; ++r) {
      std::string t = PathLike(in, 8);
      if (auto p = RoutePattern::Parse(t); p.ok()) {
        sub.routes.push_back(*p);
        s.routes.push_back(t);
      }
    }
    if (s.routes.empty()) continue;
    s.observe = in.ConsumeBool();
    static const char* kGroups[] = {"", "", "g", "h"};
    s.group = kGroups[in.ConsumeIntegralInRange(0, 3)];
    s.sink = std::make_shared<CountingSink>(in.ConsumeIntegralInRange<size_t>(0, 3));
    sub.observe = s.observe;
    sub.group = s.group;
    sub.sink = s.sink;
    s.handle = table.Add(std::move(sub));
    subs.push_back(std::move(s));
  }
  // Remove one, as a stream that ended.
  if (!subs.empty() && in.ConsumeBool()) {
    const size_t victim = in.ConsumeIntegralInRange<size_t>(0, subs.size() - 1);
    table.Remove(subs[victim].handle);
    subs.erase(subs.begin() + static_cast<std::ptrdiff_t>(victim));
  }
  FUZZ_CHECK(table.subscriber_count() == subs.size(), "subscriber count wrong");

  for (const std::string& path : paths) {
    // Model: best HANDLE specificity, the HANDLE groups at it, OBSERVE groups.
    std::optional<size_t> best;
    for (const ModelSub& s : subs) {
      if (s.observe) continue;
      if (auto m = BestMatch(s, path); m && (!best || m->first > *best)) best = m->first;
    }
    std::map<std::string, std::vector<const ModelSub*>> handle_groups, observe_groups;
    int solo = 0;
    for (const ModelSub& s : subs) {
      auto m = BestMatch(s, path);
      if (!m) continue;
      auto& groups = s.observe ? observe_groups : handle_groups;
      if (!s.observe && m->first != *best) continue;
      // An empty group is a group of one.
      groups[s.group.empty() ? "\x01solo" + std::to_string(solo++) : s.group].push_back(&s);
    }
    auto can_take = [](const std::vector<const ModelSub*>& members) {
      return std::any_of(members.begin(), members.end(),
                         [](const ModelSub* s) { return !s->sink->full(); });
    };
    uint32_t handle_ok = 0, handle_full = 0, observe_ok = 0, observe_full = 0;
    for (auto& [g, members] : handle_groups) (can_take(members) ? handle_ok : handle_full)++;
    for (auto& [g, members] : observe_groups) (can_take(members) ? observe_ok : observe_full)++;
    size_t taken_before = 0;
    for (const ModelSub& s : subs) taken_before += s.sink->taken();

    int events_built = 0;
    MessageOutcome out = table.RouteMessage(path, [&](const std::string& route) {
      ++events_built;
      return std::make_shared<const sigd::v1::SignalEvent>();
    });

    size_t taken_after = 0;
    for (const ModelSub& s : subs) taken_after += s.sink->taken();
    FUZZ_CHECK(taken_after - taken_before == out.handle_deliveries + out.observe_deliveries,
               "deliveries reported (%u+%u) != events taken (%zu) on \"%s\"",
               out.handle_deliveries, out.observe_deliveries, taken_after - taken_before,
               path.c_str());
    FUZZ_CHECK(out.observe_deliveries == observe_ok && out.observe_dropped == observe_full,
               "observe groups: got %u/%u, model %u/%u", out.observe_deliveries,
               out.observe_dropped, observe_ok, observe_full);
    if (!handle_groups.empty()) {
      FUZZ_CHECK(out.handle_deliveries == handle_ok, "handle deliveries %u, model %u",
                 out.handle_deliveries, handle_ok);
      FUZZ_CHECK(out.result == (handle_full == 0 ? Result::kHandled : Result::kBusy),
                 "handled/busy wrong on \"%s\"", path.c_str());
      const ModelSub* any = handle_groups.begin()->second.front();
      FUZZ_CHECK(BestMatch(*any, path)->first == *best, "model broken");
      auto route = RoutePattern::Parse(out.route);
      FUZZ_CHECK(route.ok() && route->Matches(path) && route->Specificity() == *best,
                 "reported route \"%s\" is not the most specific match for \"%s\"",
                 out.route.c_str(), path.c_str());
    } else {
      FUZZ_CHECK(out.handle_deliveries == 0, "deliveries without a handler");
      const bool pinned_match = std::any_of(pinned_text.begin(), pinned_text.end(),
                                            [&](const std::string& p) {
                                              return ModelMatches(p, p.back() == '*', path);
                                            });
      FUZZ_CHECK(out.result == (pinned_match ? Result::kNoHandler : Result::kUnrouted),
                 "unrouted/no_handler wrong on \"%s\"", path.c_str());
    }
    // One event per distinct matched route text (members of one group may
    // match through different routes, and each event names its route).
    std::set<std::string> handle_texts, observe_texts;
    for (auto& [g, members] : handle_groups) {
      for (const ModelSub* s : members) handle_texts.insert(BestMatch(*s, path)->second);
    }
    for (auto& [g, members] : observe_groups) {
      for (const ModelSub* s : members) observe_texts.insert(BestMatch(*s, path)->second);
    }
    FUZZ_CHECK(events_built <= static_cast<int>(handle_texts.size() + observe_texts.size()),
               "%d events built for %zu distinct routes", events_built,
               handle_texts.size() + observe_texts.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<std::string> paths;
  const int n_paths = in.ConsumeIntegralInRange(1, 4);
  for (int i = 0; i < n_paths; ++i) paths.push_back(PathLike(in, 10));
  for (int i = 0; i < 3 && in.remaining_bytes() > 0; ++i) CheckPattern(PathLike(in, 10), paths);
  CheckTable(in, paths);
  return 0;
}
