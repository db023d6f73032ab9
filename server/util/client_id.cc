#include "server/util/client_id.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <random>

namespace sigd::util {
namespace {

template <size_t N>
std::string RandomHex() {
  std::array<unsigned char, N> bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(N)) != 1) {
    // OpenSSL's generator does not fail once seeded; fall back rather than
    // hand out a predictable or empty id if it ever does.
    thread_local std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string NewClientId() { return RandomHex<16>(); }
std::string NewEventId() { return RandomHex<8>(); }

}  // namespace sigd::util
