// Client ids: 128 bits from the OS's CSPRNG, printed as 32 lowercase hex
// digits. They are unguessable so that knowing the server does not let one
// client address another by guessing.
#ifndef SIGD_SERVER_UTIL_CLIENT_ID_H_
#define SIGD_SERVER_UTIL_CLIENT_ID_H_

#include <string>
#include <string_view>

namespace sigd::util {

std::string NewClientId();

// Whether `text` has the shape of a NewClientId() id (32 lowercase hex
// digits), for inputs that must name one, such as a ListClients page token.
bool IsClientIdShaped(std::string_view text);

// A shorter id for events, 16 hex digits: unique (per thread, a bijection of
// a counter from a random start), not secret.
std::string NewEventId();

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_CLIENT_ID_H_
