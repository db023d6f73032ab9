// Connection caps, checked at the upgrade: in total and per remote address.
// Both are off (0) unless configured. A ticket holds one admitted connection
// and gives it back when destroyed, so no error path can leak a slot.
//
//   absl::StatusOr<Admission::Ticket> t = admission.Admit("10.0.0.7");
//   if (!t.ok()) Reject(503, t.status().message());
#ifndef SIGD_SERVER_WS_ADMISSION_H_
#define SIGD_SERVER_WS_ADMISSION_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "server/util/mutex.h"

namespace sigd::ws {

class Admission {
 public:
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept { *this = std::move(other); }
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket() { Release(); }
    void Release();

   private:
    friend class Admission;
    Ticket(Admission* owner, const std::string* address) : owner_(owner), address_(address) {}
    Admission* owner_ = nullptr;
    // The key of the address's entry in per_address_, which lives as long as
    // a ticket counts in it (a node map: keys stay put).
    const std::string* address_ = nullptr;
  };

  Admission(uint64_t max_total, uint64_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // ResourceExhausted, naming the limit, when either cap is reached.
  absl::StatusOr<Ticket> Admit(const std::string& address);

  uint64_t total() const;

 private:
  void Return(const std::string& address);

  const uint64_t max_total_;
  const uint64_t max_per_address_;
  mutable util::Mutex mu_;
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  absl::node_hash_map<std::string, uint64_t> per_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_ADMISSION_H_
