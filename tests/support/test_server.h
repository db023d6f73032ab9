// An in-process sigd on loopback port 0 for integration tests, plus a gRPC
// stub and a subscriber that reads events with deadlines.
#ifndef SIGD_TESTS_SUPPORT_TEST_SERVER_H_
#define SIGD_TESTS_SUPPORT_TEST_SERVER_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "server/config/config.h"
#include "server/server.h"
#include "signal.grpc.pb.h"

namespace sigd::testing {

using namespace std::chrono_literals;

// Deadlines in tests are generous bounds, never expectations; sanitizer
// builds run several times slower (ThreadSanitizer most), on a machine that
// may be busy with other work, so their bounds stretch.
#if defined(__SANITIZE_THREAD__)
inline constexpr int kSanitizerSlowdown = 4;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr int kSanitizerSlowdown = 2;
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif

// Polls `condition` until it holds or the deadline passes.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout * kSanitizerSlowdown;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class TestServer {
 public:
  explicit TestServer(const std::function<void(config::Config&)>& tweak = {}) {
    char dir[] = "/tmp/sigd-test-XXXXXX";
    public_dir_ = mkdtemp(dir);
    config::Config config;
    config.listen = "127.0.0.1:0";
    config.grpc_listen = "127.0.0.1:0";
    config.public_dir = public_dir_;
    config.io_threads = 2;
    config.node_id = "test-node";
    config.drain_timeout = std::chrono::seconds(2);
    if (tweak) tweak(config);
    server_ = std::make_unique<Server>(config);
    absl::Status status = server_->Start();
    EXPECT_TRUE(status.ok()) << status;
    channel_ = grpc::CreateChannel(grpc_target(), grpc::InsecureChannelCredentials());
  }

  ~TestServer() {
    server_->Stop();
    std::error_code ignored;
    std::filesystem::remove_all(public_dir_, ignored);
  }

  Server& server() { return *server_; }
  uint16_t ws_port() const { return server_->http_port(); }
  std::string grpc_target() const {
    return "127.0.0.1:" + std::to_string(server_->grpc_port());
  }
  const std::filesystem::path& public_dir() const { return public_dir_; }
  std::unique_ptr<sigd::v1::SignalService::Stub> Stub() {
    return sigd::v1::SignalService::NewStub(channel_);
  }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // SendSignal with a deadline.
  grpc::Status Send(const sigd::v1::SendSignalRequest& request,
                    sigd::v1::SendSignalResponse* response = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    sigd::v1::SendSignalResponse ignored;
    return Stub()->SendSignal(&context, request, response ? response : &ignored);
  }

 private:
  std::filesystem::path public_dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A SubscribeSignals stream read on a background thread.
class Subscriber {
 public:
  Subscriber(std::shared_ptr<grpc::Channel> channel, sigd::v1::SubscribeSignalsRequest request,
             const std::string& token = {})
      : stub_(sigd::v1::SignalService::NewStub(std::move(channel))) {
    if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
    reader_ = stub_->SubscribeSignals(&context_, request);
    thread_ = std::thread([this] {
      sigd::v1::SignalEvent event;
      while (reader_->Read(&event)) {
        std::lock_guard lock(mu_);
        events_.push_back(event);
        cv_.notify_all();
      }
      grpc::Status status = reader_->Finish();
      std::lock_guard lock(mu_);
      status_ = status;
      cv_.notify_all();
    });
  }

  ~Subscriber() {
    context_.TryCancel();
    thread_.join();
  }

  // The next event, or nullopt when none arrives in time or the stream ended.
  std::optional<sigd::v1::SignalEvent> Next(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !events_.empty() || status_.has_value(); });
    if (events_.empty()) return std::nullopt;
    sigd::v1::SignalEvent e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

  // Waits for SUBSCRIBED; the routes are live once it returns true.
  bool WaitSubscribed(std::chrono::milliseconds timeout = 5s) {
    auto e = Next(timeout);
    return e.has_value() && e->kind() == sigd::v1::SUBSCRIBED;
  }

  // The stream's final status, once it has ended.
  std::optional<grpc::Status> WaitEnded(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return status_.has_value(); });
    return status_;
  }

  void Cancel() { context_.TryCancel(); }

 private:
  std::unique_ptr<sigd::v1::SignalService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<sigd::v1::SignalEvent>> reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<sigd::v1::SignalEvent> events_;
  std::optional<grpc::Status> status_;
  std::thread thread_;
};

inline sigd::v1::SubscribeSignalsRequest Routes(std::initializer_list<std::string> routes,
                                                bool observe = false, std::string group = {}) {
  sigd::v1::SubscribeSignalsRequest r;
  for (const auto& route : routes) r.add_routes(route);
  if (observe) r.set_mode(sigd::v1::SubscribeSignalsRequest::OBSERVE);
  r.set_group(std::move(group));
  return r;
}

inline sigd::v1::SendSignalRequest TextSignal(std::string text, std::string path = {},
                                              std::string client_id = {}) {
  sigd::v1::SendSignalRequest r;
  r.set_text(std::move(text));
  r.set_path(std::move(path));
  r.set_client_id(std::move(client_id));
  return r;
}

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_TEST_SERVER_H_
