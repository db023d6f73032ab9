#include "bench/loadgen/payload.h"

#include <charconv>

namespace sigd::bench {
namespace {

template <typename T>
bool ParseNumber(std::string_view& text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

bool Eat(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

}  // namespace

std::string FormatPayload(const Payload& payload, std::size_t size) {
  std::string text = "p" + std::to_string(payload.publisher) + ":" + std::to_string(payload.seq) +
                     ":" + std::to_string(payload.send_ns);
  if (text.size() < size) text.append(size - text.size(), 'x');
  return text;
}

std::string InboundMessage(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  out.append(R"({"message":")");
  out.append(text);
  out.append(R"("})");
  return out;
}

std::optional<Payload> ParsePayload(std::string_view text) {
  Payload payload;
  if (!Eat(text, 'p') || !ParseNumber(text, payload.publisher) || !Eat(text, ':') ||
      !ParseNumber(text, payload.seq) || !Eat(text, ':') ||
      !ParseNumber(text, payload.send_ns)) {
    return std::nullopt;
  }
  return payload;
}

}  // namespace sigd::bench
