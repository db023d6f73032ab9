// One shared copy of equal immutable values that many holders keep: most
// clients of one server send the same User-Agent, Origin and query string and
// reach the same listener, so each client holds a 16-byte reference instead of
// its own copy (about 400 bytes per browser connection, against a budget of
// 4 KiB per idle connection).
//
//   util::Interner<std::string> agents;
//   std::shared_ptr<const std::string> ua = agents.Intern(header, [&] {
//     return std::string(header);
//   });
//
// A value lives as long as some holder keeps it; the table forgets it after
// that (expired entries are swept as the table grows). Thread-safe: one mutex,
// taken once per Intern (once per WebSocket upgrade).
#ifndef SIGD_SERVER_UTIL_INTERNER_H_
#define SIGD_SERVER_UTIL_INTERNER_H_

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
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
  // The live value interned under `key`, or make()'s, interned now. Equal
  // keys must make equal values.
  std::shared_ptr<const T> Intern(std::string_view key, absl::FunctionRef<T()> make) {
    const absl::string_view k(key.data(), key.size());
    MutexLock lock(&mu_);
    auto it = table_.find(k);
    if (it != table_.end()) {
      if (std::shared_ptr<const T> live = it->second.lock()) return live;
    }
    auto value = std::make_shared<const T>(make());
    if (it != table_.end()) {
      it->second = value;
    } else {
      table_.emplace(std::string(key), value);
      if (table_.size() >= sweep_at_) Sweep();
    }
    return value;
  }

  // Entries in the table, live or not yet swept (for tests).
  size_t size() const {
    MutexLock lock(&mu_);
    return table_.size();
  }

 private:
  static constexpr size_t kMinSweep = 64;

  void Sweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::erase_if(table_, [](const auto& entry) { return entry.second.expired(); });
    sweep_at_ = std::max(kMinSweep, 2 * table_.size());
  }

  mutable Mutex mu_;
  absl::flat_hash_map<std::string, std::weak_ptr<const T>> table_ ABSL_GUARDED_BY(mu_);
  size_t sweep_at_ ABSL_GUARDED_BY(mu_) = kMinSweep;
};

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_INTERNER_H_
