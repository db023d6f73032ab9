// One JSON shape for everything sigctl prints with --json: the proto3 JSON
// mapping of the API's messages (lowerCamelCase names, enums by name, 64-bit
// integers as strings), on one line. Fields at their default value are
// printed too, so scripts see the same keys on every line.
#ifndef SIGD_CLIENT_CLI_JSON_OUTPUT_H_
#define SIGD_CLIENT_CLI_JSON_OUTPUT_H_

#include <string>

#include <google/protobuf/message.h>

namespace sigd::cli {

std::string ToJson(const google::protobuf::Message& message);

}  // namespace sigd::cli

#endif  // SIGD_CLIENT_CLI_JSON_OUTPUT_H_
