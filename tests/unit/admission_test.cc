#include "server/ws/admission.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace sigd::ws {
namespace {

TEST(Admission, CountsPerAddressAndInTotalUntilTicketsGoBack) {
  Admission admission(/*max_total=*/3, /*max_per_address=*/2);
  std::vector<Admission::Ticket> held;
  for (const char* address : {"10.0.0.1", "10.0.0.1"}) {
    auto ticket = admission.Admit(address);
    ASSERT_TRUE(ticket.ok()) << ticket.status();
    held.push_back(*std::move(ticket));
  }
  EXPECT_TRUE(absl::IsResourceExhausted(admission.Admit("10.0.0.1").status()));
  auto other = admission.Admit("10.0.0.2");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(admission.total(), 3u);
  EXPECT_TRUE(absl::IsResourceExhausted(admission.Admit("10.0.0.3").status()));
  held.pop_back();  // one of 10.0.0.1's goes back
  EXPECT_EQ(admission.total(), 2u);
  EXPECT_TRUE(admission.Admit("10.0.0.1").ok());  // and is returned at once
  EXPECT_EQ(admission.total(), 2u);
}

TEST(Admission, AMovedTicketGoesBackOnce) {
  Admission admission(/*max_total=*/0, /*max_per_address=*/1);
  {
    auto first = admission.Admit("::1");
    ASSERT_TRUE(first.ok());
    Admission::Ticket moved = *std::move(first);
    Admission::Ticket again(std::move(moved));
    Admission::Ticket assigned;
    assigned = std::move(again);
    assigned = std::move(assigned);  // self-assignment keeps it
    EXPECT_EQ(admission.total(), 1u);
    EXPECT_TRUE(absl::IsResourceExhausted(admission.Admit("::1").status()));
    // Many other addresses come and go meanwhile (the map rehashes): the
    // ticket's address stays where it points.
    for (int i = 0; i < 1000; ++i) {
      auto ticket = admission.Admit("192.0.2." + std::to_string(i));
      ASSERT_TRUE(ticket.ok());
    }
    EXPECT_EQ(admission.total(), 1u);
  }
  EXPECT_EQ(admission.total(), 0u);
  auto later = admission.Admit("::1");
  EXPECT_TRUE(later.ok());  // its slot came back exactly once
  EXPECT_EQ(admission.total(), 1u);
}

TEST(Admission, ManyAddressesHeldAtOnceEachGoBack) {
  Admission admission(/*max_total=*/0, /*max_per_address=*/1);
  std::vector<Admission::Ticket> held;
  for (int i = 0; i < 500; ++i) {
    auto ticket = admission.Admit("198.51.100." + std::to_string(i));
    ASSERT_TRUE(ticket.ok());
    held.push_back(*std::move(ticket));  // the vector moves them as it grows
  }
  EXPECT_EQ(admission.total(), 500u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_TRUE(absl::IsResourceExhausted(
        admission.Admit("198.51.100." + std::to_string(i)).status()));
  }
  held.clear();
  EXPECT_EQ(admission.total(), 0u);
  for (int i = 0; i < 500; ++i) EXPECT_TRUE(admission.Admit("198.51.100." + std::to_string(i)).ok());
}

}  // namespace
}  // namespace sigd::ws
