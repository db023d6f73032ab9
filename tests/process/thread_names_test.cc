// sigd names its threads, so `top -H`, `ps -L`, perf and gdb tell the I/O
// threads from the gRPC thread.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/process/sigd_process.h"

namespace sigd::testing {
namespace {

std::vector<std::string> ThreadNames(pid_t pid) {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"))) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.push_back(name);
  }
  return names;
}

TEST(ThreadNames, EachIoThreadAndTheGrpcThreadAreNamed) {
  absl::StatusOr<std::unique_ptr<SigdProcess>> sigd = StartSigd({"--io-threads", "3"});
  ASSERT_TRUE(sigd.ok()) << sigd.status();
  // Named by their creator before the ready line.
  const std::vector<std::string> names = ThreadNames((*sigd)->process.pid());
  const auto count = [&](const std::string& name) {
    return std::count(names.begin(), names.end(), name);
  };
  for (const char* name : {"sigd-io-0", "sigd-io-1", "sigd-io-2", "sigd-grpc"}) {
    EXPECT_EQ(count(name), 1) << name << " among " << absl::StrJoin(names, ", ");
  }
  EXPECT_EQ(count("sigd-io-3"), 0);
}

}  // namespace
}  // namespace sigd::testing
