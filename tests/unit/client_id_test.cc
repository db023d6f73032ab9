#include "server/util/client_id.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sigd::util {
namespace {

bool IsLowerHex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(Ids, ClientIdsAre32HexDigitsAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewClientId();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_TRUE(IsLowerHex(id)) << id;
    ASSERT_TRUE(IsClientIdShaped(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
}

TEST(Ids, OnlyTheShapeOfAClientIdIsClientIdShaped) {
  const std::string id = NewClientId();
  EXPECT_TRUE(IsClientIdShaped("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(IsClientIdShaped(""));
  EXPECT_FALSE(IsClientIdShaped(id.substr(1)));
  EXPECT_FALSE(IsClientIdShaped(id + "0"));
  EXPECT_FALSE(IsClientIdShaped("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(IsClientIdShaped("0123456789abcdeg0123456789abcdef"));
  EXPECT_FALSE(IsClientIdShaped(std::string(31, 'a') + '\0'));
}

// Event ids come from a per-thread sequence: they must still differ across
// threads (each thread's sequence starts from its own random seed) and
// within one.
TEST(Ids, EventIdsAre16HexDigitsAndDistinctAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kPerThread; ++i) made[t].push_back(NewEventId());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> seen;
  for (const auto& ids : made) {
    for (const auto& id : ids) {
      ASSERT_EQ(id.size(), 16u);
      ASSERT_TRUE(IsLowerHex(id)) << id;
      ASSERT_TRUE(seen.insert(id).second) << "repeated " << id;
    }
  }
  // Not a counter in disguise: consecutive ids differ in many bits.
  const std::string& a = made[0][0];
  const std::string& b = made[0][1];
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i] != b[i];
  EXPECT_GE(differing, 8) << a << " then " << b;
}

}  // namespace
}  // namespace sigd::util
