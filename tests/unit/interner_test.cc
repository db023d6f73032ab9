#include "server/util/interner.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sigd::util {
namespace {

std::shared_ptr<const std::string> InternString(Interner<std::string>& interner,
                                                const std::string& value, int* made = nullptr) {
  return interner.Intern(value, [&] {
    if (made != nullptr) ++*made;
    return value;
  });
}

TEST(Interner, EqualValuesShareOneCopy) {
  Interner<std::string> interner;
  int made = 0;
  auto a = InternString(interner, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", &made);
  auto b = InternString(interner, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", &made);
  auto c = InternString(interner, "curl/8.0", &made);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  EXPECT_EQ(*a, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0");
  EXPECT_EQ(*c, "curl/8.0");
  EXPECT_EQ(made, 2);
}

TEST(Interner, AValueNoOneHoldsIsMadeAfresh) {
  Interner<std::string> interner;
  int made = 0;
  std::weak_ptr<const std::string> first = InternString(interner, "x", &made);
  EXPECT_TRUE(first.expired());  // the table does not keep it alive
  auto second = InternString(interner, "x", &made);
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
