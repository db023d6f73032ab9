// Where a browser's message goes when no route handles its path (Pode's
// semantics), in this order: direct -> back to the sender; clientId -> that
// client, whatever its path; path -> every client on that path; otherwise
// everyone (or, with DefaultScope::kOwnPath, the sender's own path).
#ifndef SIGD_SERVER_PROTOCOL_DEFAULT_TARGET_H_
#define SIGD_SERVER_PROTOCOL_DEFAULT_TARGET_H_

#include <string>
#include <string_view>

#include "server/protocol/inbound_message.h"

namespace sigd::protocol {

enum class DefaultScope { kAll, kOwnPath };

struct DefaultTarget {
  enum class Kind { kSender, kClient, kPath, kAll };
  Kind kind = Kind::kAll;
  std::string value;  // the client id for kClient, the path for kPath

  friend bool operator==(const DefaultTarget&, const DefaultTarget&) = default;
};

DefaultTarget DecideDefaultTarget(const InboundMessage& message,
                                  std::string_view sender_path, DefaultScope scope);

}  // namespace sigd::protocol

#endif  // SIGD_SERVER_PROTOCOL_DEFAULT_TARGET_H_
