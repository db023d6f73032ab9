// The invariant check every fuzz target uses. A failed check prints what was
// violated and aborts, which libFuzzer reports as a crash and saves the input
// (crash-<sha1>) for reproduction: `./sigd_fuzz_x crash-<sha1>`.
//
// assert() is not used because release-mode builds (NDEBUG) would drop it.
#ifndef SIGD_TESTS_FUZZ_FUZZ_CHECK_H_
#define SIGD_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, ...)                                              \
  do {                                                                          \
    if (!(condition)) {                                                         \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, \
                   #condition);                                                 \
      std::fprintf(stderr, "  " __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                               \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

#endif  // SIGD_TESTS_FUZZ_FUZZ_CHECK_H_
