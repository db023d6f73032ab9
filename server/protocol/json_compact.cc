#include "server/protocol/json_compact.h"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "nlohmann/json.hpp"
#include "server/protocol/frames.h"

namespace sigd::protocol {
namespace {

using json = nlohmann::ordered_json;

// Builds the compact form bottom-up: each open container keeps its members'
// compact text; an object also indexes its keys, so that a repeated key
// replaces its value in place (first place, last value, as ordered_json).
class CompactSax : public nlohmann::json_sax<json> {
 public:
  bool null() override { return Value(CompactJson{CompactJson::kOther, "null"}); }
  bool boolean(bool value) override {
    CompactJson v{CompactJson::kBoolean, value ? "true" : "false"};
    v.boolean = value;
    return Value(std::move(v));
  }
  bool number_integer(number_integer_t value) override {
    return Value(CompactJson{CompactJson::kOther, std::to_string(value)});
  }
  bool number_unsigned(number_unsigned_t value) override {
    return Value(CompactJson{CompactJson::kOther, std::to_string(value)});
  }
  bool number_float(number_float_t value, const string_t& /*text*/) override {
    return Value(CompactJson{CompactJson::kOther, DumpCompact(json(value))});
  }
  bool string(string_t& value) override {
    CompactJson v{CompactJson::kString, DumpCompact(json(value))};
    v.text = std::move(value);
    return Value(std::move(v));
  }
  bool binary(binary_t& /*value*/) override { return false; }  // not in JSON text
  bool start_object(std::size_t /*elements*/) override {
    open_.push_back(Open{true});
    return true;
  }
  bool key(string_t& key) override {
    Open& object = open_.back();
    auto [it, added] = object.index.try_emplace(key, object.members.size());
    if (added) {
      object.members.push_back(CompactMember{std::move(key), {}});
    }
    object.slot = it->second;
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t /*elements*/) override {
    open_.push_back(Open{false});
    return true;
  }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& /*error*/) override {
    return false;
  }

  CompactJson Take() { return std::move(top_); }

 private:
  struct Open {
    bool object;
    std::vector<CompactMember> members;  // an array's have no key
    absl::flat_hash_map<std::string, size_t> index;
    size_t slot = 0;  // where the value after the last key goes
  };

  bool Value(CompactJson value) {
    if (open_.empty()) {
      top_ = std::move(value);
    } else if (open_.back().object) {
      Open& object = open_.back();
      object.members[object.slot].value = std::move(value);
    } else {
      open_.back().members.push_back(CompactMember{{}, std::move(value)});
    }
    return true;
  }

  bool Close() {
    Open open = std::move(open_.back());
    open_.pop_back();
    CompactJson value;
    value.kind = open.object ? CompactJson::kObject : CompactJson::kOther;
    size_t size = 2;
    for (const CompactMember& m : open.members) size += m.value.json.size() + m.key.size() + 4;
    value.json.reserve(size);
    value.json.push_back(open.object ? '{' : '[');
    for (size_t i = 0; i < open.members.size(); ++i) {
      if (i > 0) value.json.push_back(',');
      if (open.object) {
        value.json += DumpCompact(json(open.members[i].key));
        value.json.push_back(':');
      }
      value.json += open.members[i].value.json;
    }
    value.json.push_back(open.object ? '}' : ']');
    if (open_.empty() && open.object) {
      for (CompactMember& m : open.members) m.value.members.clear();
      value.members = std::move(open.members);
    }
    return Value(std::move(value));
  }

  std::vector<Open> open_;
  CompactJson top_;
};

}  // namespace

std::optional<CompactJson> CompactJsonOf(std::string_view text) {
  CompactSax sax;
  try {
    if (!json::sax_parse(text.begin(), text.end(), &sax)) return std::nullopt;
  } catch (const std::exception&) {  // defensive: the parser reports through parse_error
    return std::nullopt;
  }
  return sax.Take();
}

}  // namespace sigd::protocol
