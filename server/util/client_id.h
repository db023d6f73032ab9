// Client and event ids: 128 bits from the OS's CSPRNG, printed as 32 lowercase
// hex digits. Ids are unguessable so that knowing the server does not let one
// client address another by guessing.
#ifndef SIGD_SERVER_UTIL_CLIENT_ID_H_
#define SIGD_SERVER_UTIL_CLIENT_ID_H_

#include <string>

namespace sigd::util {

std::string NewClientId();

// A shorter id for events (64 random bits as 16 hex digits).
std::string NewEventId();

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_CLIENT_ID_H_
