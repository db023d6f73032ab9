// sigctl's link to one sigd: the gRPC channel and stub, the per-call
// settings every command shares (deadline; later, credentials), and the
// translation of a failed call into the one line sigctl prints.
#ifndef SIGD_CLIENT_CLI_CONNECTION_H_
#define SIGD_CLIENT_CLI_CONNECTION_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "client-cli/global_options.h"
#include "signal.grpc.pb.h"

namespace sigd::cli {

class Connection {
 public:
  explicit Connection(const GlobalOptions& globals);

  sigd::v1::SignalService::Stub& stub() { return *stub_; }
  const std::string& target() const { return globals_.server; }

  // Readies `context` for a unary call: the --timeout deadline.
  void PrepareUnaryCall(grpc::ClientContext& context) const;
  // Readies `context` for a stream, which has no deadline.
  void PrepareStream(grpc::ClientContext& context) const;

  // Connects the channel, waiting at most --timeout, so a stream to an
  // unreachable server fails fast instead of waiting for it forever.
  absl::Status WaitUntilConnected();

  // The error to print for a failed call: "cannot reach HOST: ..." when the
  // server was never reached, "CODE: message" when it answered with an error.
  absl::Status CallError(const grpc::Status& status);

 private:
  const GlobalOptions& globals_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sigd::v1::SignalService::Stub> stub_;
};

// "NOT_FOUND: no such client", or just the code when there is no message.
std::string FormatGrpcStatus(const grpc::Status& status);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_CONNECTION_H_
