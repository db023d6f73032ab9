#include "server/util/client_id.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <random>

namespace sigd::util {
namespace {

template <size_t N>
void FillRandom(std::array<unsigned char, N>& bytes) {
  if (RAND_bytes(bytes.data(), static_cast<int>(N)) != 1) {
    // OpenSSL's generator does not fail once seeded; fall back rather than
    // hand out a predictable or empty id if it ever does.
    thread_local std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
}

template <size_t N>
std::string Hex(const std::array<unsigned char, N>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string NewClientId() {
  std::array<unsigned char, 16> bytes;
  FillRandom(bytes);
  return Hex(bytes);
}

bool IsClientIdShaped(std::string_view text) {
  if (text.size() != 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Event ids only need to be unique, and one is made per event on the hot
// path, where RAND_bytes costs a system call (OpenSSL's fork check) each
// time: a SplitMix64 sequence per thread, from a CSPRNG seed, gives 2^64
// distinct ids per thread and unrelated sequences across threads and nodes.
std::string NewEventId() {
  thread_local uint64_t state = [] {
    std::array<unsigned char, 8> seed;
    FillRandom(seed);
    uint64_t s = 0;
    for (unsigned char b : seed) s = (s << 8) | b;
    return s;
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  std::array<unsigned char, 8> bytes;
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(z >> (56 - 8 * i));
  return Hex(bytes);
}

}  // namespace sigd::util
