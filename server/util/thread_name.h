// Names a thread, as `top -H`, `ps -L`, perf and gdb show it.
#ifndef SIGD_SERVER_UTIL_THREAD_NAME_H_
#define SIGD_SERVER_UTIL_THREAD_NAME_H_

#include <pthread.h>

#include <string>
#include <thread>

namespace sigd::util {

// Named by its creator, so the name is there as soon as the creator goes on.
// Linux keeps 15 bytes of a thread's name; longer names are cut to fit.
inline void NameThread(std::thread& thread, std::string name) {
  if (name.size() > 15) name.resize(15);
  pthread_setname_np(thread.native_handle(), name.c_str());
}

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_THREAD_NAME_H_
