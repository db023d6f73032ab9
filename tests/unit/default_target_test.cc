#include "server/protocol/default_target.h"

#include <ostream>
#include <string>

#include "gtest/gtest.h"
#include "server/protocol/inbound_message.h"

namespace sigd::protocol {

// Readable failure output.
std::ostream& operator<<(std::ostream& os, const DefaultTarget& t) {
  static const char* kNames[] = {"kSender", "kClient", "kPath", "kAll"};
  return os << kNames[static_cast<int>(t.kind)] << "(\"" << t.value << "\")";
}

namespace {

using Kind = DefaultTarget::Kind;

InboundMessage Message(std::string path, std::string client_id, bool direct) {
  InboundMessage m;
  m.frame = "1";
  m.path = std::move(path);
  m.client_id = std::move(client_id);
  m.direct = direct;
  return m;
}

TEST(DefaultTarget, DirectGoesBackToTheSenderWhateverElseIsSet) {
  const DefaultTarget expected{Kind::kSender, ""};
  EXPECT_EQ(DecideDefaultTarget(Message("", "", true), "/me", DefaultScope::kAll), expected);
  EXPECT_EQ(DecideDefaultTarget(Message("/x", "id", true), "/me", DefaultScope::kAll), expected);
  EXPECT_EQ(DecideDefaultTarget(Message("/x", "id", true), "/me", DefaultScope::kOwnPath),
            expected);
}

TEST(DefaultTarget, ClientIdBeatsPath) {
  const DefaultTarget expected{Kind::kClient, "id"};
  EXPECT_EQ(DecideDefaultTarget(Message("/x", "id", false), "/me", DefaultScope::kAll),
            expected);
  EXPECT_EQ(DecideDefaultTarget(Message("", "id", false), "/me", DefaultScope::kOwnPath),
            expected);
}

TEST(DefaultTarget, PathGoesToEveryClientOnThatPath) {
  const DefaultTarget expected{Kind::kPath, "/x"};
  EXPECT_EQ(DecideDefaultTarget(Message("/x", "", false), "/me", DefaultScope::kAll), expected);
  EXPECT_EQ(DecideDefaultTarget(Message("/x", "", false), "/me", DefaultScope::kOwnPath),
            expected);
}

TEST(DefaultTarget, NothingSetGoesToEveryone) {
  EXPECT_EQ(DecideDefaultTarget(Message("", "", false), "/me", DefaultScope::kAll),
            (DefaultTarget{Kind::kAll, ""}));
}

TEST(DefaultTarget, OwnPathScopeNarrowsTheBroadcastToTheSendersPath) {
  EXPECT_EQ(DecideDefaultTarget(Message("", "", false), "/me", DefaultScope::kOwnPath),
            (DefaultTarget{Kind::kPath, "/me"}));
  EXPECT_EQ(DecideDefaultTarget(Message("", "", false), "/chat/room 1", DefaultScope::kOwnPath),
            (DefaultTarget{Kind::kPath, "/chat/room 1"}));
}

}  // namespace
}  // namespace sigd::protocol
