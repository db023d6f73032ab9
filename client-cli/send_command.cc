#include "client-cli/send_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "client-cli/connection.h"
#include "client-cli/text_util.h"

namespace sigd::cli {
namespace {

// What CLI11 stores for a --text given without a value. argv strings cannot
// contain NUL, so no real value is ever equal to it.
const std::string& TextFlagMarker() {
  static const std::string* const marker = new std::string("\0", 1);
  return *marker;
}

// Reads a whole file, or stdin for "-", as bytes.
absl::Status ReadInput(const std::string& name, std::string* content) {
  std::FILE* file = name == "-" ? stdin : std::fopen(name.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", name, ": ", std::strerror(errno)));
  }
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    content->append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  if (file != stdin) std::fclose(file);
  if (failed) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", name, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace

SendCommand::SendCommand(CLI::App& parent, const GlobalOptions& globals)
    : Command(parent, "send", "Send a signal to connected clients", globals) {
  app_->add_option("-p,--path", path_,
                   "only clients connected on this exact path");
  app_->add_option("-c,--client", client_, "only the client with this id");
  json_option_ = app_->add_option(
      "-j,--json", json_,
      "JSON value to send (a JSON string goes out as its raw text)");
  text_option_ =
      app_->add_option("--text", text_,
                       "text to send verbatim; without a value, send the "
                       "--file content as text")
          ->expected(0, 1)
          ->default_str(TextFlagMarker())
          ->option_text("[TEXT]");
  file_option_ = app_->add_option(
      "-f,--file", file_, "file holding the JSON value to send, - for stdin");
  binary_file_option_ = app_->add_option(
      "-b,--binary-file", binary_file_,
      "file whose bytes go out as one binary frame, - for stdin");
}

bool SendCommand::TextIsFlag() const {
  return text_option_->count() > 0 && text_ == TextFlagMarker();
}

void SendCommand::Validate() {
  const bool text_value = text_option_->count() > 0 && !TextIsFlag();
  const int sources = static_cast<int>(json_option_->count() > 0) +
                      static_cast<int>(text_value) +
                      static_cast<int>(file_option_->count() > 0) +
                      static_cast<int>(binary_file_option_->count() > 0);
  if (sources != 1) {
    throw CLI::ValidationError(
        "send needs exactly one of --json VALUE, --text VALUE, --file FILE or "
        "--binary-file FILE");
  }
  if (TextIsFlag() && file_option_->count() == 0) {
    throw CLI::ValidationError("--text needs a value unless --file is given");
  }
  if (json_option_->count() > 0 && !IsValidUtf8(json_)) {
    throw CLI::ValidationError("--json is not valid UTF-8");
  }
  if (text_value && !IsValidUtf8(text_)) {
    throw CLI::ValidationError("--text is not valid UTF-8");
  }
}

absl::Status SendCommand::Run() {
  sigd::v1::SendSignalRequest request;
  request.set_path(path_);
  request.set_client_id(client_);
  if (binary_file_option_->count() > 0) {
    // Any bytes at all: no UTF-8 check, nothing trimmed.
    std::string content;
    if (absl::Status read = ReadInput(binary_file_, &content); !read.ok()) {
      return read;
    }
    request.set_binary(std::move(content));
  } else if (file_option_->count() > 0) {
    std::string content;
    if (absl::Status read = ReadInput(file_, &content); !read.ok()) {
      return read;
    }
    if (!IsValidUtf8(content)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_ == "-" ? "stdin" : file_, " is not valid UTF-8"));
    }
    // The file's bytes go as they are: the server validates and compacts
    // JSON (surrounding whitespace included), and text is meant verbatim.
    if (TextIsFlag()) {
      request.set_text(std::move(content));
    } else {
      request.set_json(std::move(content));
    }
  } else if (json_option_->count() > 0) {
    request.set_json(json_);
  } else {
    request.set_text(text_);
  }

  Connection connection(globals_);
  grpc::ClientContext context;
  connection.PrepareUnaryCall(context);
  sigd::v1::SendSignalResponse response;
  grpc::Status status =
      connection.stub().SendSignal(&context, request, &response);
  if (!status.ok()) return connection.CallError(status);

  // Naming one client that is not there is a mistake worth an exit status,
  // as for disconnect; a broadcast that reaches nobody is not.
  if (!client_.empty() && response.delivered() == 0) {
    return absl::NotFoundError(
        path_.empty()
            ? absl::StrCat("no such client: ", EscapeControl(client_))
            : absl::StrCat("no such client on ", EscapeControl(path_), ": ",
                           EscapeControl(client_)));
  }
  // In a cluster, how many nodes answered: fewer than the cluster means a
  // partial count (a node did not answer in time, or NATS is down).
  if (globals_.json) {
    std::cout << "{\"delivered\":" << response.delivered()
              << ",\"nodes\":" << response.nodes() << "}\n";
  } else if (response.nodes() > 1) {
    std::cout << "delivered " << response.delivered() << " (nodes answering: "
              << response.nodes() << ")\n";
  } else {
    std::cout << "delivered " << response.delivered() << "\n";
  }
  return absl::OkStatus();
}

}  // namespace sigd::cli
