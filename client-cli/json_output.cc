#include "client-cli/json_output.h"

#include <google/protobuf/util/json_util.h>

namespace sigd::cli {

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = false;
  std::string json;
  // Serialising a message we received cannot fail (the descriptors are
  // compiled in); an empty object is the safe answer if it ever did.
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return "{}";
  }
  return json;
}

}  // namespace sigd::cli
