#include "tests/support/raw_ws_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sigd::testing {
namespace {

constexpr char kMaskKey[4] = {'\x37', '\xfa', '\x21', '\x3d'};

absl::Status Errno(std::string_view what) {
  return absl::UnavailableError(absl::StrCat(std::string(what), ": ", std::strerror(errno)));
}

}  // namespace

std::string ClosePayload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xff));
  out.append(reason);
  return out;
}

std::string EncodeHeader(uint8_t first_byte, uint64_t length) {
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  out.push_back(static_cast<char>(0x80 | 127));
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((length >> shift) & 0xff));
  }
  out.append(kMaskKey, 4);
  return out;
}

std::string EncodeFrame(const RawFrame& frame) {
  std::string out;
  out.push_back(static_cast<char>((frame.fin ? 0x80 : 0) | ((frame.rsv & 0x7) << 4) |
                                  (frame.opcode & 0xf)));
  const uint64_t n = frame.payload.size();
  const char mask_bit = frame.mask ? static_cast<char>(0x80) : 0;
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((n >> shift) & 0xff));
    }
  }
  if (!frame.mask) return out + frame.payload;
  out.append(kMaskKey, 4);
  const size_t start = out.size();
  out.append(frame.payload);
  for (size_t i = 0; i < n; ++i) out[start + i] ^= kMaskKey[i % 4];
  return out;
}

RawWsClient::~RawWsClient() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status RawWsClient::ConnectTcp(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Errno("connect");
  }
  return absl::OkStatus();
}

absl::Status RawWsClient::Connect(uint16_t port, std::string_view target) {
  if (absl::Status s = ConnectTcp(port); !s.ok()) return s;
  if (absl::Status s = SendBytes(absl::StrCat(
          "GET ", std::string(target),
          " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
      !s.ok()) {
    return s;
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (absl::Status s = Fill(1, deadline); !s.ok()) return s;
  }
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  if (head.rfind("HTTP/1.1 101", 0) != 0) {
    return absl::UnavailableError(absl::StrCat("upgrade refused: ", head.substr(0, 40)));
  }
  return absl::OkStatus();
}

absl::Status RawWsClient::SendBytes(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status RawWsClient::Fill(size_t n, std::chrono::steady_clock::time_point deadline) {
  const size_t want = buffer_.size() + n;
  char chunk[65536];
  while (buffer_.size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("nothing in time");
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return Errno("poll");
    if (ready <= 0) continue;
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got == 0) return absl::UnavailableError("eof");
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return absl::UnavailableError("eof (reset)");
      return Errno("recv");
    }
    buffer_.append(chunk, static_cast<size_t>(got));
  }
  return absl::OkStatus();
}

absl::StatusOr<ReceivedFrame> RawWsClient::ReadFrame(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto need = [&](size_t n) -> absl::Status {
    return buffer_.size() >= n ? absl::OkStatus() : Fill(n - buffer_.size(), deadline);
  };
  if (absl::Status s = need(2); !s.ok()) return s;
  const auto b0 = static_cast<uint8_t>(buffer_[0]);
  const auto b1 = static_cast<uint8_t>(buffer_[1]);
  if (b1 & 0x80) return absl::InternalError("server sent a masked frame");
  size_t header = 2;
  uint64_t length = b1 & 0x7f;
  if (length == 126) {
    header = 4;
    if (absl::Status s = need(header); !s.ok()) return s;
    length = (static_cast<uint8_t>(buffer_[2]) << 8) | static_cast<uint8_t>(buffer_[3]);
  } else if (length == 127) {
    header = 10;
    if (absl::Status s = need(header); !s.ok()) return s;
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<uint8_t>(buffer_[i]);
  }
  if (absl::Status s = need(header + length); !s.ok()) return s;
  ReceivedFrame frame;
  frame.fin = (b0 & 0x80) != 0;
  frame.opcode = b0 & 0xf;
  frame.payload = buffer_.substr(header, length);
  buffer_.erase(0, header + length);
  return frame;
}

absl::StatusOr<uint16_t> RawWsClient::WaitForClose(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    absl::StatusOr<ReceivedFrame> frame = ReadFrame(std::max(left, 1ms));
    if (!frame.ok()) return frame.status();
    if (frame->opcode != kOpClose) continue;
    if (frame->payload.size() < 2) return 1005;
    return static_cast<uint16_t>((static_cast<uint8_t>(frame->payload[0]) << 8) |
                                 static_cast<uint8_t>(frame->payload[1]));
  }
}

absl::StatusOr<std::string> RawWsClient::ReadUntilEof(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    absl::Status s = Fill(1, deadline);
    if (absl::IsUnavailable(s) && absl::StartsWith(s.message(), "eof")) {
      return std::move(buffer_);
    }
    if (!s.ok()) return s;
  }
}

void RawWsClient::Reset() {
  if (fd_ < 0) return;
  linger lg{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace sigd::testing
