#include "server/ws/admission.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sigd::ws {

Admission::Ticket& Admission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    address_ = other.address_;
    other.owner_ = nullptr;
    other.address_ = nullptr;
  }
  return *this;
}

void Admission::Ticket::Release() {
  if (owner_ != nullptr) owner_->Return(*address_);
  owner_ = nullptr;
  address_ = nullptr;
}

absl::StatusOr<Admission::Ticket> Admission::Admit(const std::string& address) {
  util::MutexLock lock(&mu_);
  if (max_total_ != 0 && total_ >= max_total_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("connection limit reached (", max_total_, ")"));
  }
  auto entry = per_address_.try_emplace(address, 0).first;
  uint64_t& mine = entry->second;
  if (max_per_address_ != 0 && mine >= max_per_address_) {
    if (mine == 0) per_address_.erase(entry);
    return absl::ResourceExhaustedError(
        absl::StrCat("per-address connection limit reached (", max_per_address_, ")"));
  }
  ++mine;
  ++total_;
  return Ticket(this, &entry->first);
}

void Admission::Return(const std::string& address) {
  util::MutexLock lock(&mu_);
  --total_;
  // `address` is the entry's own key: erasing the entry is the last use.
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

uint64_t Admission::total() const {
  util::MutexLock lock(&mu_);
  return total_;
}

}  // namespace sigd::ws
