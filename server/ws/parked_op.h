// A composed operation (the `self` of boost::asio::async_compose) parked
// until something else lets it go on: a write waiting for the write in
// flight before it (TlsChannel). Resume() invokes it with no
// arguments, which its implementation takes as "go on".
//
//   waiting_ = ParkedOp::Park(std::move(self));  // inside an operation
//   if (auto next = std::move(waiting_)) next->Resume();
#ifndef SIGD_SERVER_WS_PARKED_OP_H_
#define SIGD_SERVER_WS_PARKED_OP_H_

#include <memory>
#include <type_traits>
#include <utility>

namespace sigd::ws {

class ParkedOp {
 public:
  virtual ~ParkedOp() = default;
  virtual void Resume() = 0;

  // Parking allocates; the callers park only when two writers meet.
  template <typename Self>
  static std::unique_ptr<ParkedOp> Park(Self&& self);
};

namespace detail {

template <typename Self>
class ParkedHolder final : public ParkedOp {
 public:
  explicit ParkedHolder(Self&& self) : self_(std::move(self)) {}
  void Resume() override { self_(); }

 private:
  Self self_;
};

}  // namespace detail

template <typename Self>
std::unique_ptr<ParkedOp> ParkedOp::Park(Self&& self) {
  return std::make_unique<detail::ParkedHolder<std::decay_t<Self>>>(std::forward<Self>(self));
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_PARKED_OP_H_
