#include "server/protocol/default_target.h"

namespace sigd::protocol {

DefaultTarget DecideDefaultTarget(const InboundMessage& message,
                                  std::string_view sender_path, DefaultScope scope) {
  using Kind = DefaultTarget::Kind;
  if (message.direct) return {Kind::kSender, {}};
  if (!message.client_id.empty()) return {Kind::kClient, message.client_id};
  if (!message.path.empty()) return {Kind::kPath, message.path};
  if (scope == DefaultScope::kOwnPath) return {Kind::kPath, std::string(sender_path)};
  return {Kind::kAll, {}};
}

}  // namespace sigd::protocol
