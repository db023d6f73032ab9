#include "bench/loadgen/proc_stats.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace sigd::bench {

std::optional<CpuSample> ReadProcessCpu(int pid) {
  namespace fs = std::filesystem;
  const fs::path tasks = fs::path("/proc") / std::to_string(pid) / "task";
  std::error_code ec;
  fs::directory_iterator it(tasks, ec);
  if (ec) return std::nullopt;
  CpuSample sample;
  for (const fs::directory_entry& entry : it) {
    std::ifstream in(entry.path() / "schedstat");
    uint64_t on_cpu = 0, waiting = 0, slices = 0;
    if (!(in >> on_cpu >> waiting >> slices)) continue;  // the thread just exited
    sample.cpu_ns += on_cpu;
    sample.timeslices += slices;
    ++sample.threads;
  }
  if (sample.threads == 0) return std::nullopt;
  std::ifstream stat(fs::path("/proc") / std::to_string(pid) / "stat");
  std::string line;
  std::getline(stat, line);
  // Fields after "pid (comm)": state is field 3, utime 14, stime 15. comm may
  // hold spaces and parentheses, so start after the last ')'.
  if (const std::size_t close = line.rfind(')'); close != std::string::npos) {
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 13 && rest >> field; ++i) {
    }
    rest >> sample.user_ticks >> sample.system_ticks;
  }
  return sample;
}

std::optional<uint64_t> ReadVmRssBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t kib = 0;
      if (in >> kib) return kib * 1024;
      return std::nullopt;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return std::nullopt;
}

namespace {

// `read` for every process, in order; nullopt if there is none or any fails.
template <typename T>
std::optional<std::vector<T>> ReadEach(const std::vector<int>& pids,
                                       std::optional<T> (*read)(int)) {
  if (pids.empty()) return std::nullopt;
  std::vector<T> values;
  for (int pid : pids) {
    std::optional<T> value = read(pid);
    if (!value) return std::nullopt;
    values.push_back(*value);
  }
  return values;
}

}  // namespace

std::optional<std::vector<CpuSample>> ReadProcessesCpu(const std::vector<int>& pids) {
  return ReadEach<CpuSample>(pids, &ReadProcessCpu);
}

std::optional<std::vector<uint64_t>> ReadVmRssBytes(const std::vector<int>& pids) {
  return ReadEach<uint64_t>(pids, static_cast<std::optional<uint64_t> (*)(int)>(&ReadVmRssBytes));
}

CpuSample SumSamples(const std::vector<CpuSample>& samples) {
  CpuSample sum;
  for (const CpuSample& s : samples) {
    sum.cpu_ns += s.cpu_ns;
    sum.timeslices += s.timeslices;
    sum.threads += s.threads;
    sum.user_ticks += s.user_ticks;
    sum.system_ticks += s.system_ticks;
  }
  return sum;
}

}  // namespace sigd::bench
