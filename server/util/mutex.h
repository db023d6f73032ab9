// sigd's mutex: absl::Mutex, except in ThreadSanitizer builds.
//
// Debian's Abseil is a prebuilt library without TSan instrumentation, and
// absl::Mutex locks through atomics and raw futex calls inside it that TSan
// cannot see: every access it guards would be reported as a race. Under TSan
// (-DSIGD_SANITIZE=thread) the same interface is backed by std::mutex, whose
// pthread calls TSan intercepts, so races in sigd's own code stay visible and
// correctly locked code reports nothing. Other builds use absl::Mutex as is.
//
//   util::Mutex mu_;
//   int n_ ABSL_GUARDED_BY(mu_);
//   { util::MutexLock lock(&mu_); ++n_; }
#ifndef SIGD_SERVER_UTIL_MUTEX_H_
#define SIGD_SERVER_UTIL_MUTEX_H_

#include "absl/base/config.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#ifdef ABSL_HAVE_THREAD_SANITIZER
#include <mutex>
#endif

namespace sigd::util {

#ifdef ABSL_HAVE_THREAD_SANITIZER

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

#else

using Mutex = absl::Mutex;
using MutexLock = absl::MutexLock;

#endif

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_MUTEX_H_
