#include "server/ws/handler_pool.h"

#include <new>

namespace sigd::ws {

namespace {

constexpr size_t kGranule = 64;
constexpr size_t kClasses = 32;  // blocks up to 2 KiB

struct FreeBlock {
  FreeBlock* next;
};

class FreeLists {
 public:
  ~FreeLists() {
    dead_ = true;
    for (FreeBlock*& head : heads_) {
      while (head != nullptr) {
        FreeBlock* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
  }

  // The class index of a block of `size` bytes, or kClasses when too big.
  static size_t ClassOf(size_t size) { return size == 0 ? 0 : (size - 1) / kGranule; }

  void* Take(size_t cls) {
    FreeBlock* block = heads_[cls];
    if (block == nullptr) return ::operator new((cls + 1) * kGranule);
    heads_[cls] = block->next;
    kept_ -= (cls + 1) * kGranule;
    return block;
  }

  void Give(void* p, size_t cls) {
    const size_t bytes = (cls + 1) * kGranule;
    if (kept_ + bytes > HandlerPool::kMaxKeptBytes) {
      ::operator delete(p);
      return;
    }
    auto* block = static_cast<FreeBlock*>(p);
    block->next = heads_[cls];
    heads_[cls] = block;
    kept_ += bytes;
  }

  static bool dead() { return dead_; }

 private:
  // Set once this thread's lists are gone (thread exit): later frees on the
  // thread go straight to the heap.
  static thread_local bool dead_;
  FreeBlock* heads_[kClasses] = {};
  size_t kept_ = 0;
};

thread_local bool FreeLists::dead_ = false;
thread_local FreeLists lists;

}  // namespace

void* HandlerPool::Allocate(size_t size) {
  const size_t cls = FreeLists::ClassOf(size);
  if (cls >= kClasses || FreeLists::dead()) return ::operator new(size);
  return lists.Take(cls);
}

void HandlerPool::Deallocate(void* block, size_t size) {
  const size_t cls = FreeLists::ClassOf(size);
  if (cls >= kClasses || FreeLists::dead()) {
    ::operator delete(block);
    return;
  }
  lists.Give(block, cls);
}

}  // namespace sigd::ws
