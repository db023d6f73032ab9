#include "bench/loadgen/worker.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>

#include "bench/loadgen/payload.h"
#include "server/util/thread_name.h"

namespace sigd::bench {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A publisher whose socket is this far behind is skipped while a window
// drives publishing, so one stalled client cannot hoard the window.
constexpr std::size_t kMaxQueuedPerPublisher = 64;

}  // namespace

Worker::Worker(int id, SharedState& shared)
    : id_(id),
      shared_(shared),
      options_(shared.options),
      guard_(net::make_work_guard(ioc_)),
      timer_(ioc_) {}

Worker::~Worker() {
  guard_.reset();
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

void Worker::AddClient(uint32_t index) {
  auto client = std::make_shared<WsClient>(ioc_, index, *this);
  client->next_seq().assign(static_cast<std::size_t>(std::max(options_.publishers, 1)), 0);
  if (static_cast<int>(index) < options_.publishers) {
    publishers_.push_back(client.get());
    publisher_seq_.push_back(0);
  }
  clients_.push_back(std::move(client));
}

void Worker::Start() {
  thread_ = std::thread([this] { ioc_.run(); });
  util::NameThread(thread_, "lg-worker-" + std::to_string(id_));
}

std::string Worker::first_error() const {
  std::lock_guard lock(error_mutex_);
  return first_error_;
}

void Worker::RecordError(std::string what) {
  std::lock_guard lock(error_mutex_);
  if (first_error_.empty()) first_error_ = std::move(what);
}

// ---- ramp ----------------------------------------------------------------

void Worker::Ramp(uint32_t upto, int concurrency) {
  net::post(ioc_, [this, upto, concurrency] {
    ramp_upto_ = upto;
    ramp_limit_ = concurrency;
    ConnectMore();
  });
}

void Worker::ConnectMore() {
  const net::ip::address host = net::ip::make_address(options_.host);
  while (ramp_in_flight_ < ramp_limit_ && ramp_cursor_ < clients_.size() &&
         clients_[ramp_cursor_]->index() < ramp_upto_) {
    WsClient& client = *clients_[ramp_cursor_++];
    // 127.0.0.2, 127.0.0.3, ...: one address's ephemeral ports are not a limit.
    const uint32_t source =
        (127u << 24) | (2u + client.index() % static_cast<uint32_t>(options_.source_addresses));
    const tcp::endpoint server(
        host, options_.ports[client.index() % options_.ports.size()]);
    ++ramp_in_flight_;
    client.Connect(server, net::ip::address_v4(source), options_.host, options_.path,
                   options_.browser_headers,
                   [this, &client](const boost::system::error_code& ec, const char* step) {
                     --ramp_in_flight_;
                     if (ec) {
                       failed_.fetch_add(1, std::memory_order_relaxed);
                       RecordError("client " + std::to_string(client.index()) + ": " + step +
                                   ": " + ec.message());
                     } else {
                       connected_.fetch_add(1, std::memory_order_relaxed);
                     }
                     ConnectMore();
                   });
  }
}

// ---- receive -------------------------------------------------------------

void Worker::OnFrame(WsClient& client, std::string_view text) {
  if (!text.empty() && text.front() == 'p') {
    if (std::optional<Payload> payload = ParsePayload(text)) {
      received_.fetch_add(1, std::memory_order_relaxed);
      std::vector<uint64_t>& next = client.next_seq();
      if (payload->publisher < next.size()) {
        uint64_t& expected = next[payload->publisher];
        if (payload->seq < expected) {
          ++report_.reordered;
        } else {
          expected = payload->seq + 1;
        }
      }
      if (payload->send_ns >= shared_.measure_start_ns.load(std::memory_order_relaxed)) {
        report_.latency.Record(NowNs() - payload->send_ns);
      }
      if (options_.rate == 0 && !publishers_.empty()) PumpWindow();
      return;
    }
  }
  if (!text.empty() && text.front() == 'r') {
    if (!client.probed) {
      client.probed = true;
      probed_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  if (text.starts_with(R"({"error")")) {
    ++report_.error_frames;
  } else {
    ++report_.foreign;
  }
  if (report_.first_foreign.empty()) report_.first_foreign = std::string(text.substr(0, 200));
}

void Worker::OnClosed(WsClient& client, const boost::system::error_code& ec) {
  closed_.fetch_add(1, std::memory_order_relaxed);
  RecordError("client " + std::to_string(client.index()) + " closed (code " +
              std::to_string(client.close_code()) + "): " + ec.message());
}

// ---- publish -------------------------------------------------------------

void Worker::Probe(int n, bool every_client) {
  net::post(ioc_, [this, n, every_client] {
    const std::string frame = InboundMessage("r" + std::to_string(n));
    for (const auto& client : clients_) {
      if (!client->open()) continue;
      if (every_client || client->index() == 0) client->Send(frame);
    }
  });
}

bool Worker::PublishOne() {
  if (publishers_.empty() || !shared_.publishing()) return false;
  // Round robin, skipping stalled publishers when a window drives us.
  std::size_t tries = 0;
  while (options_.rate == 0 && publishers_[next_publisher_]->queued() >= kMaxQueuedPerPublisher) {
    next_publisher_ = (next_publisher_ + 1) % publishers_.size();
    if (++tries == publishers_.size()) return false;
  }
  if (!shared_.TakeBudget()) return false;
  const std::size_t slot = next_publisher_;
  next_publisher_ = (next_publisher_ + 1) % publishers_.size();
  WsClient& publisher = *publishers_[slot];
  Payload payload{publisher.index(), publisher_seq_[slot]++, NowNs()};
  shared_.sent.fetch_add(1, std::memory_order_relaxed);
  publisher.Send(InboundMessage(FormatPayload(payload, options_.size)));
  return true;
}

void Worker::StartPublishing(int64_t start_ns, int64_t phase_ns) {
  net::post(ioc_, [this, start_ns, phase_ns] {
    if (publishers_.empty()) return;
    if (options_.rate > 0) {
      // This worker's share of the total rate, by its share of the publishers.
      local_rate_ = options_.rate * static_cast<double>(publishers_.size()) /
                    static_cast<double>(options_.publishers);
      // Message k (from 1) is due at pace_start_ns_ + k / local_rate_.
      pace_start_ns_ = start_ns + phase_ns - static_cast<int64_t>(1e9 / local_rate_);
      paced_ = 0;
      SchedulePace();
    } else {
      PumpWindow();
      ScheduleWindowTick();
    }
  });
}

void Worker::SchedulePace() {
  const double next_ns = static_cast<double>(pace_start_ns_) +
                         static_cast<double>(paced_ + 1) * 1e9 / local_rate_;
  const int64_t wait_ns = std::max<int64_t>(0, static_cast<int64_t>(next_ns) - NowNs());
  timer_.expires_after(std::chrono::nanoseconds(wait_ns));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnPace();
  });
}

void Worker::OnPace() {
  if (!shared_.publishing()) return;
  const double elapsed_s = static_cast<double>(NowNs() - pace_start_ns_) / 1e9;
  const auto due = static_cast<uint64_t>(std::max(0.0, std::floor(elapsed_s * local_rate_)));
  // After a stall, catch up at most 100 ms worth instead of flooding.
  const uint64_t burst_limit = std::max<uint64_t>(1, static_cast<uint64_t>(local_rate_ / 10));
  if (due > paced_ + burst_limit) paced_ = due - burst_limit;
  while (paced_ < due) {
    ++paced_;
    if (!PublishOne()) break;
  }
  SchedulePace();
}

void Worker::ScheduleWindowTick() {
  timer_.expires_after(std::chrono::milliseconds(1));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !shared_.publishing()) return;
    PumpWindow();
    ScheduleWindowTick();
  });
}

void Worker::PumpWindow() {
  if (pumping_) return;
  pumping_ = true;
  const int64_t limit =
      static_cast<int64_t>(options_.window) * static_cast<int64_t>(shared_.receivers_per_message);
  while (shared_.Outstanding() < limit) {
    if (!PublishOne()) break;
  }
  pumping_ = false;
}

std::future<WorkerReport> Worker::Collect() {
  auto promise = std::make_shared<std::promise<WorkerReport>>();
  std::future<WorkerReport> future = promise->get_future();
  net::post(ioc_, [this, promise] { promise->set_value(report_); });
  return future;
}

}  // namespace sigd::bench
