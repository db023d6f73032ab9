#include "server/hub/client.h"

#include "server/util/interner.h"

namespace sigd::hub {

// Never destroyed: a thread still reading a client's details while the
// process exits must not find them gone.
const std::shared_ptr<const std::string>& ClientInfo::EmptyString() {
  static const auto* shared =
      new std::shared_ptr<const std::string>(util::StaticShared(*new std::string()));
  return *shared;
}

const std::shared_ptr<const Query>& ClientInfo::EmptyQuery() {
  static const auto* shared = new std::shared_ptr<const Query>(util::StaticShared(*new Query()));
  return *shared;
}

}  // namespace sigd::hub
