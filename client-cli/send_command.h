// sigctl send: pushes one signal (SendSignal) to the clients in scope and
// reports how many it was queued for.
//
//   sigctl send --path /chat --json '{"text":"hi"}'
//   sigctl send --client ID --text hello
//   sigctl send --file payload.json          (JSON; "-" reads stdin)
//   sigctl send --text --file note.txt       (the file's bytes as text)
//   sigctl send --binary-file frame.bin      (the file's bytes as a binary frame)
#ifndef SIGD_CLIENT_CLI_SEND_COMMAND_H_
#define SIGD_CLIENT_CLI_SEND_COMMAND_H_

#include <string>

#include "client-cli/command.h"

namespace CLI {
class Option;
}  // namespace CLI

namespace sigd::cli {

class SendCommand : public Command {
 public:
  SendCommand(CLI::App& parent, const GlobalOptions& globals);

  void Validate() override;
  absl::Status Run() override;

 private:
  // Whether --text was given without a value, which only makes sense with
  // --file: it then means "send the file as text".
  bool TextIsFlag() const;

  std::string path_;
  std::string client_;
  std::string json_;
  std::string text_;
  std::string file_;
  std::string binary_file_;
  CLI::Option* json_option_ = nullptr;
  CLI::Option* text_option_ = nullptr;
  CLI::Option* file_option_ = nullptr;
  CLI::Option* binary_file_option_ = nullptr;
};

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_SEND_COMMAND_H_
