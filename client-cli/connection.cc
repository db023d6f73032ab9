#include "client-cli/connection.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client-cli/text_util.h"

namespace sigd::cli {
namespace {

std::chrono::system_clock::time_point Deadline(double seconds) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::duration<double>(seconds));
}

// gRPC and absl number their codes alike, which gives us the canonical names.
absl::StatusCode ToAbslCode(grpc::StatusCode code) {
  return static_cast<absl::StatusCode>(static_cast<int>(code));
}

// The files were checked to exist when the flags were parsed.
std::string ReadFile(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(const GlobalOptions& globals) {
  if (!globals.UsesTls()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(globals.tls_ca);  // empty: the system's roots
  options.pem_cert_chain = ReadFile(globals.tls_cert);
  options.pem_private_key = ReadFile(globals.tls_key);
  return grpc::SslCredentials(options);
}

// gRPC's own reconnect backoff grows to 2 minutes; a call made meanwhile
// fails at once without trying. Capped at 10 s, as `route --reconnect`
// promises, so a restarted sigd is found again within seconds.
grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10'000);
  return args;
}

}  // namespace

std::string FormatGrpcStatus(const grpc::Status& status) {
  std::string code = absl::StatusCodeToString(ToAbslCode(status.error_code()));
  std::string message = OneLine(status.error_message());
  return message.empty() ? code : absl::StrCat(code, ": ", message);
}

Connection::Connection(const GlobalOptions& globals)
    : globals_(globals),
      channel_(grpc::CreateCustomChannel(globals.server, Credentials(globals), ChannelArgs())),
      stub_(sigd::v1::SignalService::NewStub(channel_)) {}

void Connection::PrepareUnaryCall(grpc::ClientContext& context) const {
  context.set_deadline(Deadline(globals_.timeout_seconds));
  PrepareStream(context);
}

void Connection::PrepareStream(grpc::ClientContext& context) const {
  if (!globals_.token.empty()) {
    context.AddMetadata("authorization", "Bearer " + globals_.token);
  }
}

absl::Status Connection::WaitUntilConnected() {
  const auto deadline = Deadline(globals_.timeout_seconds);
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      // A refused connection fails now rather than at the deadline. A call
      // on a failed channel is rejected at once with the reason (refused,
      // unresolvable, ...), which the channel state alone does not give.
      grpc::ClientContext context;
      PrepareUnaryCall(context);
      context.set_deadline(deadline);
      sigd::v1::GetServerInfoRequest request;
      sigd::v1::ServerInfo info;
      grpc::Status status = stub_->GetServerInfo(&context, request, &info);
      return status.ok() ? absl::OkStatus() : CallError(status);
    }
    if (!channel_->WaitForStateChange(state, deadline)) {
      return absl::UnavailableError(
          absl::StrFormat("cannot reach %s: no connection within %gs",
                          globals_.server, globals_.timeout_seconds));
    }
    state = channel_->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

absl::Status Connection::CallError(const grpc::Status& status) {
  const grpc::StatusCode code = status.error_code();
  // A server that answered leaves the channel READY; UNAVAILABLE or a
  // deadline without a working connection means we never got to sigd.
  const bool connected = channel_->GetState(false) == GRPC_CHANNEL_READY;
  if (!connected && code == grpc::StatusCode::UNAVAILABLE) {
    // The usual cause of a connection that opens and then fails: the two
    // sides disagree on TLS.
    const std::string& message = status.error_message();
    std::string hint;
    if (!globals_.UsesTls() && (absl::StrContains(message, "Socket closed") ||
                                absl::StrContains(message, "Connection reset"))) {
      hint = " (if sigd's control plane uses TLS, pass --tls-ca or --tls)";
    } else if (globals_.UsesTls() && absl::StrContains(message, "andshake")) {
      hint = " (TLS handshake failed: check --tls-ca and the server name, or the server may not "
             "use TLS)";
    }
    return absl::UnavailableError(absl::StrCat(
        "cannot reach ", globals_.server, ": ", OneLine(message), hint));
  }
  if (!connected && code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(
        absl::StrFormat("cannot reach %s: no answer within %gs",
                        globals_.server, globals_.timeout_seconds));
  }
  return absl::Status(ToAbslCode(code), FormatGrpcStatus(status));
}

}  // namespace sigd::cli
