#include "server/hub/client.h"

#include "server/util/interner.h"

namespace sigd::hub {

const std::shared_ptr<const std::string>& ClientInfo::EmptyString() {
  static const std::string empty;
  static const std::shared_ptr<const std::string> shared = util::StaticShared(empty);
  return shared;
}

const std::shared_ptr<const Query>& ClientInfo::EmptyQuery() {
  static const Query empty;
  static const std::shared_ptr<const Query> shared = util::StaticShared(empty);
  return shared;
}

}  // namespace sigd::hub
