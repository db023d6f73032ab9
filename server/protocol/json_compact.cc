#include "server/protocol/json_compact.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "nlohmann/json.hpp"
#include "server/protocol/json_scan.h"

namespace sigd::protocol {
namespace {

using json = nlohmann::ordered_json;

constexpr size_t kLinearKeys = 16;

// Builds a tree of the values, in which a repeated key replaces its value
// in place (first place, last value, as ordered_json), then writes it out
// once: linear in the input, whatever the nesting. An object finds a
// repeat among its first kLinearKeys keys by comparing them, past that
// through a hash map of its keys.
class CompactSax : public nlohmann::json_sax<json> {
 public:
  struct Node {
    CompactJson::Kind kind = CompactJson::kOther;
    std::string text;  // a scalar: its compact JSON
    std::string decoded;  // a string: its value
    bool boolean = false;
    std::vector<std::string> keys;  // an object's, decoded, beside its items
    std::vector<Node> items;  // a container's
    bool container = false;
  };

  bool null() override { return Scalar(CompactJson::kOther, "null"); }
  bool boolean(bool value) override {
    Node& node = Place();
    node.kind = CompactJson::kBoolean;
    node.text = value ? "true" : "false";
    node.boolean = value;
    return true;
  }
  bool number_integer(number_integer_t value) override {
    return Scalar(CompactJson::kOther, std::to_string(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return Scalar(CompactJson::kOther, std::to_string(value));
  }
  bool number_float(number_float_t value, const string_t& /*text*/) override {
    // The parser passes only finite values; written as dump writes them.
    if (!std::isfinite(value)) return Scalar(CompactJson::kOther, "null");
    char buffer[64];
    char* end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, value);
    return Scalar(CompactJson::kOther, std::string(buffer, end));
  }
  bool string(string_t& value) override {
    Node& node = Place();
    node.kind = CompactJson::kString;
    AppendJsonString(value, &node.text);
    node.decoded = std::move(value);
    return true;
  }
  bool binary(binary_t& /*value*/) override { return false; }  // not in JSON text
  bool start_object(std::size_t /*elements*/) override { return Open(CompactJson::kObject); }
  bool key(string_t& key) override {
    // A few keys are compared one by one; past kLinearKeys the object's
    // keys go into its hash map, so that each new key costs the same
    // however many came before it.
    Node& object = *open_.back();
    absl::flat_hash_map<std::string, size_t>& index = index_.back();
    const size_t count = object.keys.size();
    size_t slot = count;
    if (index.empty()) {
      for (size_t i = 0; i < count; ++i) {
        if (object.keys[i] == key) {
          slot = i;
          break;
        }
      }
      if (slot == count && count >= kLinearKeys) {
        for (size_t i = 0; i < count; ++i) index.emplace(object.keys[i], i);
      }
    }
    if (!index.empty()) slot = index.try_emplace(key, count).first->second;
    if (slot == count) {
      object.keys.push_back(std::move(key));
      object.items.emplace_back();
    }
    slot_ = slot;
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t /*elements*/) override { return Open(CompactJson::kOther); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& /*error*/) override {
    return false;
  }

  Node& root() { return root_; }

  // The compact JSON of `node`, appended to `out`. Recursive: the caller
  // has bounded the nesting (WithinJsonDepth).
  static void Write(const Node& node, std::string& out) {
    if (!node.container) {
      out += node.text;
      return;
    }
    const bool object = node.kind == CompactJson::kObject;
    out.push_back(object ? '{' : '[');
    for (size_t i = 0; i < node.items.size(); ++i) {
      if (i > 0) out.push_back(',');
      if (object) {
        AppendJsonString(node.keys[i], &out);
        out.push_back(':');
      }
      Write(node.items[i], out);
    }
    out.push_back(object ? '}' : ']');
  }

 private:
  // Where the next value goes: the root, an object's slot for the last key
  // (emptied if that key repeats), or a new item of an array. The open
  // containers stay put: only the innermost one grows.
  Node& Place() {
    if (open_.empty()) return root_;
    Node& parent = *open_.back();
    if (parent.kind == CompactJson::kObject) {
      Node& slot = parent.items[slot_];
      slot = Node{};
      return slot;
    }
    return parent.items.emplace_back();
  }

  bool Scalar(CompactJson::Kind kind, std::string text) {
    Node& node = Place();
    node.kind = kind;
    node.text = std::move(text);
    return true;
  }

  bool Open(CompactJson::Kind kind) {
    Node& node = Place();
    node.kind = kind;
    node.container = true;
    open_.push_back(&node);
    index_.emplace_back();
    return true;
  }

  bool Close() {
    open_.pop_back();
    index_.pop_back();
    return true;
  }

  Node root_;
  std::vector<Node*> open_;
  std::vector<absl::flat_hash_map<std::string, size_t>> index_;  // the open objects' (arrays': empty)
  size_t slot_ = 0;
};

CompactJson Finish(CompactSax::Node& node, bool with_json) {
  CompactJson out;
  out.kind = node.kind;
  out.text = std::move(node.decoded);
  out.boolean = node.boolean;
  if (with_json) CompactSax::Write(node, out.json);
  return out;
}

}  // namespace

std::optional<CompactJson> CompactJsonOf(std::string_view text, bool members) {
  CompactSax sax;
  try {
    if (!json::sax_parse(text.begin(), text.end(), &sax)) return std::nullopt;
  } catch (const std::exception&) {  // defensive: the parser reports through parse_error
    return std::nullopt;
  }
  CompactSax::Node& root = sax.root();
  if (!members || root.kind != CompactJson::kObject) return Finish(root, /*with_json=*/true);
  CompactJson out = Finish(root, /*with_json=*/false);
  out.members.reserve(root.items.size());
  for (size_t i = 0; i < root.items.size(); ++i) {
    out.members.push_back(
        CompactMember{std::move(root.keys[i]), Finish(root.items[i], /*with_json=*/true)});
  }
  return out;
}

}  // namespace sigd::protocol
