// What the generator reads about the server process from /proc: CPU time
// summed over all its threads (the first field of each
// /proc/PID/task/TID/schedstat is nanoseconds on CPU, the third the number of
// times the thread was scheduled in), and resident memory (VmRSS).
#ifndef SIGD_BENCH_LOADGEN_PROC_STATS_H_
#define SIGD_BENCH_LOADGEN_PROC_STATS_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace sigd::bench {

struct CpuSample {
  uint64_t cpu_ns = 0;     // summed over the threads alive at the time
  uint64_t timeslices = 0; // times a thread was put on a CPU (wake-ups)
  int threads = 0;
  // From /proc/PID/stat, whole process, in clock ticks (USER_HZ): coarse, but
  // it splits the time into user space and kernel.
  uint64_t user_ticks = 0;
  uint64_t system_ticks = 0;
};

// nullopt when the process does not exist or /proc cannot be read. Threads
// that exit between two samples take their CPU time with them; sigd's and the
// peers' threads live as long as the process.
std::optional<CpuSample> ReadProcessCpu(int pid);

std::optional<uint64_t> ReadVmRssBytes(int pid);

// One sample per process, in the order given; nullopt when the list is empty
// or any of them cannot be read (a cluster node that died spoils the sum).
std::optional<std::vector<CpuSample>> ReadProcessesCpu(const std::vector<int>& pids);
std::optional<std::vector<uint64_t>> ReadVmRssBytes(const std::vector<int>& pids);

// Field-wise sum (threads too).
CpuSample SumSamples(const std::vector<CpuSample>& samples);

}  // namespace sigd::bench

#endif  // SIGD_BENCH_LOADGEN_PROC_STATS_H_
