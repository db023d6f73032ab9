// One shared copy of equal immutable values that many holders keep: most
// clients of one server send the same User-Agent, Origin and query string and
// reach the same listener, so each client holds a 16-byte reference instead of
// its own copy (about 350 bytes per browser connection, against a budget of
// 4 KiB per idle connection).
//
//   util::Interner<std::string> agents;
//   std::shared_ptr<const std::string> ua = util::InternString(agents, header);
//
// The table keeps no copy of a value: only its hash and a weak reference, and
// it tells equal values apart by comparing the live ones. A value lives as
// long as some holder keeps it; expired entries are swept as the table grows
// and every kSweepEvery calls. So a value only one client sends costs that
// client about 40 bytes more than its own copy would, and clients with
// ever-new values cannot grow the table.
//
// Thread-safe (one mutex); sigd gives each I/O thread its own interners, so
// the mutex is never contended.
#ifndef SIGD_SERVER_UTIL_INTERNER_H_
#define SIGD_SERVER_UTIL_INTERNER_H_

#include <algorithm>
#include <cstdint>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "server/util/mutex.h"

namespace sigd::util {

// A reference to a static value that owns nothing: the "empty" every default
// holder shares, so that readers never test for null.
template <typename T>
std::shared_ptr<const T> StaticShared(const T& value) {
  return std::shared_ptr<const T>(std::shared_ptr<const T>(), &value);
}

template <typename T>
class Interner {
 public:
  static constexpr size_t kSweepEvery = 1024;

  // The live value with this `hash` for which same() holds, or make()'s,
  // interned now. Equal values must have equal hashes; make() must build a
  // value for which same() holds.
  std::shared_ptr<const T> Intern(size_t hash, absl::FunctionRef<bool(const T&)> same,
                                  absl::FunctionRef<T()> make) {
    MutexLock lock(&mu_);
    if (++calls_ % kSweepEvery == 0) Sweep();
    Bucket& bucket = table_[hash];
    std::weak_ptr<const T>* free_slot = nullptr;
    for (std::weak_ptr<const T>& slot : bucket) {
      if (std::shared_ptr<const T> live = slot.lock()) {
        if (same(*live)) return live;
      } else if (free_slot == nullptr) {
        free_slot = &slot;
      }
    }
    auto value = std::make_shared<const T>(make());
    if (free_slot != nullptr) {
      *free_slot = value;
    } else {
      bucket.push_back(value);
      if (++entries_ >= sweep_at_) Sweep();
    }
    return value;
  }

  // Values in the table, live or not yet swept (for tests).
  size_t size() const {
    MutexLock lock(&mu_);
    return entries_;
  }

 private:
  static constexpr size_t kMinSweep = 64;
  using Bucket = absl::InlinedVector<std::weak_ptr<const T>, 1>;

  void Sweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    entries_ = 0;
    absl::erase_if(table_, [this](auto& entry) {
      Bucket& bucket = entry.second;
      bucket.erase(std::remove_if(bucket.begin(), bucket.end(),
                                  [](const std::weak_ptr<const T>& w) { return w.expired(); }),
                   bucket.end());
      entries_ += bucket.size();
      return bucket.empty();
    });
    sweep_at_ = std::max(kMinSweep, 2 * entries_);
  }

  mutable Mutex mu_;
  absl::flat_hash_map<size_t, Bucket> table_ ABSL_GUARDED_BY(mu_);
  size_t entries_ ABSL_GUARDED_BY(mu_) = 0;
  size_t sweep_at_ ABSL_GUARDED_BY(mu_) = kMinSweep;
  uint64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// Interns a string.
inline std::shared_ptr<const std::string> InternString(Interner<std::string>& interner,
                                                       std::string_view value) {
  const absl::string_view v(value.data(), value.size());
  return interner.Intern(
      absl::Hash<absl::string_view>{}(v),
      [v](const std::string& live) { return absl::string_view(live) == v; },
      [v] { return std::string(v); });
}

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_INTERNER_H_
