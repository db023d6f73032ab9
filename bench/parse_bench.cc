// sigd_parse_bench: what reading a browser's message costs sigd's I/O thread
// (protocol::ParseInbound: the one-pass scan, and for what it declines
// nlohmann-json's SAX parser) against nlohmann-json's parse tree
// (detail::ParseInboundWithTree, what every message took before the scan),
// on the same inputs in the same process, so the machine's noise falls on
// both alike.
//
// Prints one JSON line per input: whether the scan takes it, and
// nanoseconds per message (the median of 9 rounds) through ParseInbound
// (scan_ns), the SAX path alone (sax_ns: detail::ParseInboundCompact, what
// ParseInbound falls back to) and the tree (tree_ns); MB/s; and the speed-up
// of ParseInbound over the tree.
//
//   build/bench/sigd_parse_bench [--seconds-per-round 0.05] [--input NAME]
//
// Wall-clock time here moves with the machine; for a figure that does not,
// count instructions (deterministic) with --count, which only parses:
//
//   bench/parse_instructions.sh string-256KiB records-4KiB ...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "server/protocol/inbound_message.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Input {
  const char* name;
  std::string text;
};

std::string Repeat(const std::string& piece, size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += piece;
  return out;
}

// A JSON array of objects as an app would send: ids, floats, text.
std::string Records(size_t bytes) {
  std::string out = "[";
  for (int i = 0; out.size() < bytes; ++i) {
    if (i > 0) out += ',';
    out += R"({"id":)" + std::to_string(i) + R"(,"x":)" + std::to_string(i * 0.25) +
           R"(,"label":"item \"q\" )" + std::to_string(i) + R"(","done":false})";
  }
  return out + "]";
}

// One object of as many short keys as fit in `bytes`.
std::string Keys(size_t bytes) {
  std::string out = "{";
  for (int i = 0; out.size() < bytes; ++i) {
    if (i > 0) out += ',';
    out += "\"k" + std::to_string(i) + "\":0";
  }
  return out + "}";
}

std::vector<Input> Inputs() {
  const std::string text = "Lorem ipsum dolor sit amet, caf\xc3\xa9 \\\"quoted\\\"\\n ";
  return {
      {"string-small", R"({"message":"hello, this is a short chat line from a page!"})"},
      {"object-small", R"({"message":{"type":"chat","user":"ada","text":"hello there","ts":1732900000123,"score":0.75},"path":"/room"})"},
      {"string-4KiB", R"({"message":")" + Repeat(text, 4096) + R"("})"},
      {"records-4KiB", R"({"message":)" + Records(4096) + "}"},
      {"string-256KiB", R"({"message":")" + Repeat(text, 256 << 10) + R"("})"},
      {"records-256KiB", R"({"message":)" + Records(256 << 10) + "}"},
      // \u escapes, which the scan writes back resolved: JSON.stringify
      // writes control characters so, and Python's json.dumps by default
      // every character past ASCII.
      {"unicode-escapes-4KiB", R"({"message":")" + Repeat("tab\\u0001 ", 4096) + R"("})"},
      {"python-ascii-4KiB",
       R"({"message":{"text":")" + Repeat("caf\\u00e9 \\u4e2d\\u6587 \\ud83d\\ude00 ", 4096) +
           R"("}, "path": "/room"})"},
      // Objects of some 40 keys and of thousands (past the scan's linear
      // compare, so in its hash set; hostile input: the tree's cost grows
      // with the square of the key count) ...
      {"keys-300B", R"({"message":)" + Keys(300) + "}"},
      {"keys-64KiB", R"({"message":)" + Keys(64 << 10) + "}"},
      // ... and one key repeated, which the scan declines, so the SAX path
      // (json_compact.h) reads it.
      {"keys-64KiB-repeated", R"({"message":)" + Keys(64 << 10).insert(1, R"("k9":1,)") + "}"},
  };
}

template <typename Parse>
double NanosPerMessage(const std::string& text, double seconds_per_round, Parse parse) {
  std::vector<double> rounds;
  for (int round = 0; round < 9; ++round) {
    size_t count = 0;
    const Clock::time_point start = Clock::now();
    const Clock::time_point until =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(seconds_per_round));
    Clock::time_point now;
    do {
      auto m = parse(text);
      if (!m.ok()) {
        std::fprintf(stderr, "rejected: %s\n", std::string(m.status().message()).c_str());
        std::exit(1);
      }
      ++count;
      now = Clock::now();
    } while (now < until);
    rounds.push_back(std::chrono::duration<double, std::nano>(now - start).count() /
                     static_cast<double>(count));
  }
  std::nth_element(rounds.begin(), rounds.begin() + 4, rounds.end());
  return rounds[4];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds_per_round = 0.05;
  const char* only = nullptr;
  long count = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds-per-round") == 0 && i + 1 < argc) {
      seconds_per_round = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = std::atol(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds-per-round S] [--input NAME [--count N]]\n",
                   argv[0]);
      return 2;
    }
  }
  if (count >= 0 && only == nullptr) {
    std::fprintf(stderr, "--count needs --input\n");
    return 2;
  }
  for (const Input& input : Inputs()) {
    if (only != nullptr && std::strcmp(only, input.name) != 0) continue;
    if (count >= 0) {
      // No timing: ParseInbound `count` times, for an instruction count
      // (valgrind --tool=callgrind, this run less the same with --count 0).
      size_t bytes = 0;
      for (long n = 0; n < count; ++n) {
        bytes += sigd::protocol::ParseInbound(input.text, sigd::protocol::kDefaultMaxJsonDepth)
                     ->frame.size();
      }
      std::printf("{\"input\":\"%s\",\"count\":%ld,\"frame_bytes\":%zu}\n", input.name, count,
                  bytes);
      continue;
    }
    const double scan = NanosPerMessage(input.text, seconds_per_round, [](const std::string& t) {
      return sigd::protocol::ParseInbound(t, sigd::protocol::kDefaultMaxJsonDepth);
    });
    const double sax = NanosPerMessage(input.text, seconds_per_round, [](const std::string& t) {
      return sigd::protocol::detail::ParseInboundCompact(t, sigd::protocol::kDefaultMaxJsonDepth);
    });
    const double tree = NanosPerMessage(input.text, seconds_per_round, [](const std::string& t) {
      return sigd::protocol::detail::ParseInboundWithTree(t, sigd::protocol::kDefaultMaxJsonDepth);
    });
    const bool scanned =
        sigd::protocol::detail::ScanAccepts(input.text, sigd::protocol::kDefaultMaxJsonDepth);
    std::printf(
        "{\"input\":\"%s\",\"bytes\":%zu,\"scan_takes\":%s,\"scan_ns\":%.0f,\"sax_ns\":%.0f,"
        "\"tree_ns\":%.0f,\"scan_mb_s\":%.0f,\"tree_mb_s\":%.0f,\"speedup\":%.2f}\n",
        input.name, input.text.size(), scanned ? "true" : "false", scan, sax, tree,
        static_cast<double>(input.text.size()) / scan * 1e3,
        static_cast<double>(input.text.size()) / tree * 1e3, tree / scan);
  }
  return 0;
}
