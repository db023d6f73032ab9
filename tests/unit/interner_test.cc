#include "server/util/interner.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/hash/hash.h"
#include "gtest/gtest.h"

namespace sigd::util {
namespace {

// Counts the values made.
std::shared_ptr<const std::string> Counted(Interner<std::string>& interner,
                                          const std::string& value, int* made) {
  return interner.Intern(
      absl::Hash<std::string>{}(value), [&](const std::string& live) { return live == value; },
      [&] {
        ++*made;
        return value;
      });
}

TEST(Interner, EqualValuesShareOneCopy) {
  Interner<std::string> interner;
  int made = 0;
  auto a = Counted(interner, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", &made);
  auto b = Counted(interner, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", &made);
  auto c = Counted(interner, "curl/8.0", &made);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  EXPECT_EQ(*a, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0");
  EXPECT_EQ(*c, "curl/8.0");
  EXPECT_EQ(made, 2);
}

TEST(Interner, AValueNoOneHoldsIsMadeAfresh) {
  Interner<std::string> interner;
  int made = 0;
  std::weak_ptr<const std::string> first = Counted(interner, "x", &made);
  EXPECT_TRUE(first.expired());  // the table does not keep it alive
  auto second = Counted(interner, "x", &made);
  EXPECT_EQ(*second, "x");
  EXPECT_EQ(made, 2);
  EXPECT_EQ(interner.size(), 1u);
}

TEST(Interner, ForgottenValuesDoNotAccumulate) {
  Interner<std::string> interner;
  // Distinct values that nobody keeps (clients that came and went, each with
  // its own User-Agent): the table stays bounded.
  for (int i = 0; i < 10'000; ++i) InternString(interner, "agent " + std::to_string(i));
  EXPECT_LE(interner.size(), 128u);
  // Values still held survive every sweep.
  std::vector<std::shared_ptr<const std::string>> held;
  for (int i = 0; i < 100; ++i) held.push_back(InternString(interner, "held " + std::to_string(i)));
  for (int i = 0; i < 10'000; ++i) InternString(interner, "gone " + std::to_string(i));
  EXPECT_LE(interner.size(), 2 * held.size() + 64);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(InternString(interner, "held " + std::to_string(i)).get(), held[i].get());
  }
}

TEST(Interner, KeysAreComparedWhole) {
  Interner<std::string> interner;
  auto a = InternString(interner, std::string("a\0b", 3));
  auto b = InternString(interner, "a");
  EXPECT_NE(a.get(), b.get());
  EXPECT_EQ(a->size(), 3u);
}

TEST(Interner, ValuesWhoseHashesCollideAreKeptApart) {
  Interner<std::string> interner;
  auto intern = [&](const std::string& value) {
    return interner.Intern(
        42, [&](const std::string& live) { return live == value; }, [&] { return value; });
  };
  auto a = intern("a");
  auto b = intern("b");
  EXPECT_EQ(*a, "a");
  EXPECT_EQ(*b, "b");
  EXPECT_EQ(intern("a").get(), a.get());
  EXPECT_EQ(intern("b").get(), b.get());
  b.reset();
  EXPECT_EQ(*intern("c"), "c");  // takes the slot "b" left
  EXPECT_EQ(interner.size(), 2u);
}

TEST(Interner, ForgottenValuesAreSweptWithoutNewOnes) {
  Interner<std::string> interner;
  {
    std::vector<std::shared_ptr<const std::string>> peak;
    for (int i = 0; i < 50; ++i) peak.push_back(InternString(interner, "peak " + std::to_string(i)));
    EXPECT_EQ(interner.size(), 50u);
  }
  // After the peak only known values come: the table still lets go of the
  // peak's within kSweepEvery calls.
  auto common = InternString(interner, "common");
  for (size_t i = 0; i < Interner<std::string>::kSweepEvery; ++i) InternString(interner, "common");
  EXPECT_EQ(interner.size(), 1u);
}

TEST(Interner, ThreadsInterningTheSameValuesShareThem) {
  Interner<std::string> interner;
  constexpr int kThreads = 4;
  std::vector<std::vector<std::shared_ptr<const std::string>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2'000; ++i) {
        auto value = InternString(interner, "v" + std::to_string(i % 50));
        if (i < 50) got[t].push_back(value);  // held: later ones must match them
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 1; t < kThreads; ++t) {
    for (int i = 0; i < 50; ++i) EXPECT_EQ(got[t][i].get(), got[0][i].get()) << t << " " << i;
  }
}

TEST(Interner, StaticSharedOwnsNothing) {
  static const std::string empty;
  std::shared_ptr<const std::string> shared = StaticShared(empty);
  EXPECT_EQ(shared.get(), &empty);
  EXPECT_EQ(shared.use_count(), 0);
}

}  // namespace
}  // namespace sigd::util
