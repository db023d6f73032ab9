// What `sigctl route` does with one MESSAGE event: runs the user's command
// with the event on stdin and in its environment, and sends what it prints
// back to the sender. Every failure is one line on stderr; none stops the
// handler. Handle() may run on several worker threads at once.
//
// The command's environment gets SIGD_CLIENT_ID (the sender), SIGD_PATH (the
// sender's connection path), SIGD_ROUTE (the route that matched),
// SIGD_MESSAGE (the message as compact JSON) and SIGD_SERVER (sigctl's
// --server). Its stdin is the event as one JSON line, as `sigctl tail`
// prints it.
//
// The answer: only a command that exits 0 is answered for. If its stdout is
// not empty, it goes to the sender alone as text, with one trailing newline
// removed (so `echo hi` answers "hi", and `echo` answers an empty frame).
// Output over kMaxAnswerBytes or not valid UTF-8 is reported, not sent.
#ifndef SIGD_CLIENT_CLI_ROUTE_HANDLER_H_
#define SIGD_CLIENT_CLI_ROUTE_HANDLER_H_

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "client-cli/connection.h"
#include "signal.pb.h"

namespace sigd::cli {

inline constexpr size_t kMaxAnswerBytes = 1 << 20;

struct RouteHandlerOptions {
  std::string command;  // run as /bin/sh -c COMMAND
  std::chrono::milliseconds exec_timeout = std::chrono::seconds(30);
  std::string server;   // given to the command as SIGD_SERVER
  int abort_fd = -1;    // see ShellRequest::abort_fd
};

class RouteHandler {
 public:
  // `connection` must outlive the handler; its stub is used from the
  // threads that call Handle().
  RouteHandler(Connection& connection, RouteHandlerOptions options);

  void Handle(const sigd::v1::SignalEvent& event);

  // No command starts after this (a Handle() that comes later reports the
  // message as dropped); returns how many are running now. Commands that
  // finish later are still answered for.
  size_t Stop();

 private:
  // Whether a command may start; counts it as running if so.
  bool BeginCommand();
  void EndCommand();
  void Answer(const std::string& client, std::string text);

  Connection& connection_;
  const RouteHandlerOptions options_;
  std::mutex mu_;
  bool stopping_ = false;  // guarded by mu_
  size_t running_ = 0;     // guarded by mu_
};

// `output` without its last character if that is "\n" (one only).
std::string AnswerText(std::string output);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_ROUTE_HANDLER_H_
