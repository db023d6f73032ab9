// Opens a listening TCP acceptor (the WebSocket port and the admin port).
#ifndef SIGD_SERVER_UTIL_ACCEPTOR_H_
#define SIGD_SERVER_UTIL_ACCEPTOR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/ip/tcp.hpp"

namespace sigd::util {

// Open, SO_REUSEADDR (so a restart can rebind at once), bind, listen.
// Unavailable, naming `what` and the address, on failure.
inline absl::Status OpenAcceptor(boost::asio::ip::tcp::acceptor& acceptor,
                                 const boost::asio::ip::tcp::endpoint& endpoint,
                                 const std::string& what) {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen", what, " on ",
                                               endpoint.address().to_string(), ":",
                                               endpoint.port(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace sigd::util

#endif  // SIGD_SERVER_UTIL_ACCEPTOR_H_
