// Recycled memory for the asynchronous operations a WebSocket session starts
// on its shard's thread (its reads and writes), so that delivering a frame
// costs no malloc.
//
// Why: Asio keeps one spare block per thread for operation memory, and only
// for the length of one run_one/poll_one call (WriteBatcher drives each
// io_context with those); a broadcast to 1,000 clients starts 1,000 writes
// at once. Here each thread keeps free lists by size class (64-byte steps up
// to 2 KiB); a freed block goes back to the list of the thread that frees it
// (always the shard's own thread for a session's operations). The lists hold
// at most kMaxKeptBytes per thread; past that, and above 2 KiB, blocks go to
// the heap as usual.
//
//   ws_.async_read(buffer_, Pooled([self](error_code ec, size_t n) {...}));
#ifndef SIGD_SERVER_WS_HANDLER_POOL_H_
#define SIGD_SERVER_WS_HANDLER_POOL_H_

#include <cstddef>
#include <utility>

namespace sigd::ws {

class HandlerPool {
 public:
  static constexpr size_t kMaxKeptBytes = 8 << 20;

  static void* Allocate(size_t size);
  static void Deallocate(void* block, size_t size);
};

// A standard allocator over HandlerPool, for Asio's associated_allocator.
template <typename T>
class PoolAllocator {
 public:
  using value_type = T;

  PoolAllocator() noexcept = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(size_t n) { return static_cast<T*>(HandlerPool::Allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { HandlerPool::Deallocate(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
  template <typename U>
  bool operator!=(const PoolAllocator<U>&) const noexcept {
    return false;
  }
};

// A completion handler whose operations' memory comes from HandlerPool.
template <typename Function>
class PooledHandler {
 public:
  using allocator_type = PoolAllocator<void>;

  explicit PooledHandler(Function f) : f_(std::move(f)) {}

  allocator_type get_allocator() const noexcept { return {}; }

  template <typename... Args>
  void operator()(Args&&... args) {
    f_(std::forward<Args>(args)...);
  }

 private:
  Function f_;
};

template <typename Function>
PooledHandler<Function> Pooled(Function f) {
  return PooledHandler<Function>(std::move(f));
}

}  // namespace sigd::ws

#endif  // SIGD_SERVER_WS_HANDLER_POOL_H_
