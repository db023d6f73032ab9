#include "bench/loadgen/grpc_driver.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "bench/loadgen/payload.h"
#include "server/util/thread_name.h"

namespace sigd::bench {
namespace {

// Calls in flight beyond which the publisher waits: gRPC should not be asked
// to buffer without bound when the server falls behind.
constexpr int64_t kMaxInFlight = 4096;

std::chrono::system_clock::time_point DeadlineIn(double seconds) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::duration<double>(seconds));
}

// The frame text for a message: a JSON string goes out raw, anything else
// as its JSON text (sigd's own rule).
std::string TextOfMessage(const std::string& message_json) {
  if (message_json.size() >= 2 && message_json.front() == '"' && message_json.back() == '"' &&
      message_json.find('\\') == std::string::npos) {
    return message_json.substr(1, message_json.size() - 2);
  }
  nlohmann::json value = nlohmann::json::parse(message_json, nullptr, false);
  if (value.is_string()) return value.get<std::string>();
  return message_json;
}

struct UnaryCall {
  grpc::ClientContext context;
  sigd::v1::SendSignalRequest request;
  sigd::v1::SendSignalResponse response;
};

}  // namespace

GrpcDriver::GrpcDriver(SharedState& shared)
    : shared_(shared),
      channel_(grpc::CreateChannel(shared.options.grpc, grpc::InsecureChannelCredentials())),
      stub_(sigd::v1::SignalService::NewStub(channel_)) {}

GrpcDriver::~GrpcDriver() { Stop(); }

std::string GrpcDriver::first_error() const {
  std::lock_guard lock(mutex_);
  return first_error_;
}

void GrpcDriver::RecordError(const std::string& what) {
  errors_.fetch_add(1);
  std::lock_guard lock(mutex_);
  if (first_error_.empty()) first_error_ = what;
}

bool GrpcDriver::WaitConnected(double timeout_s, std::string& error) {
  if (channel_->WaitForConnected(DeadlineIn(timeout_s))) return true;
  error = "gRPC channel to " + shared_.options.grpc + " not ready within " +
          std::to_string(timeout_s) + " s";
  return false;
}

void GrpcDriver::Send(std::string text, std::string client_id) {
  auto* call = new UnaryCall;
  call->request.set_text(std::move(text));
  if (!client_id.empty()) call->request.set_client_id(std::move(client_id));
  call->context.set_deadline(DeadlineIn(10));
  in_flight_.fetch_add(1);
  stub_->async()->SendSignal(&call->context, &call->request, &call->response,
                             [this, call](grpc::Status status) {
                               if (!status.ok()) {
                                 RecordError("SendSignal: " + status.error_message());
                               }
                               in_flight_.fetch_sub(1);
                               delete call;
                             });
}

void GrpcDriver::StartPublishing() {
  publisher_ = std::thread([this] { PublishLoop(); });
  util::NameThread(publisher_, "lg-publisher");
}

void GrpcDriver::PublishLoop() {
  const Options& o = shared_.options;
  const int64_t start = NowNs();
  uint64_t seq = 0;
  uint64_t paced = 0;
  const int64_t window =
      static_cast<int64_t>(o.window) * static_cast<int64_t>(shared_.receivers_per_message);
  while (shared_.publishing()) {
    if (in_flight_.load() >= kMaxInFlight) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    if (o.rate > 0) {
      const int64_t due_ns = start + static_cast<int64_t>(static_cast<double>(paced) * 1e9 / o.rate);
      const int64_t wait = due_ns - NowNs();
      if (wait > 0) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(wait, 50'000'000)));
        continue;
      }
      ++paced;
    } else if (shared_.Outstanding() >= window) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    if (!shared_.TakeBudget()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    shared_.sent.fetch_add(1, std::memory_order_relaxed);
    Send(FormatPayload(Payload{0, seq++, NowNs()}, o.size));
  }
}

bool GrpcDriver::StartRouteHandler(const std::string& route, double timeout_s,
                                   std::string& error) {
  handler_ = std::thread([this, route] { HandleLoop(route); });
  util::NameThread(handler_, "lg-backend");
  const int64_t deadline = NowNs() + static_cast<int64_t>(timeout_s * 1e9);
  while (!subscribed_.load()) {
    if (handler_done_.load() || NowNs() > deadline) {
      error = "route handler did not subscribe: " + first_error();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The backend runs on one thread that polls one completion queue for both
// the event stream and its answers: the thread that reads an event is the
// one that sends the answer and sees it finish, as a backend built for
// latency would be. (The callback API would hand each completion to another
// thread, which here costs more than sigd does.)
void GrpcDriver::HandleLoop(std::string route) {
  struct Answer {
    grpc::ClientContext context;
    sigd::v1::SendSignalRequest request;
    sigd::v1::SendSignalResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<sigd::v1::SendSignalResponse>> reader;
  };
  // Tags: the stream's steps are these two addresses; anything else is an Answer.
  char stream_started = 0;
  char stream_read = 0;
  char stream_finished = 0;

  sigd::v1::SubscribeSignalsRequest request;
  request.add_routes(route);
  request.set_mode(sigd::v1::SubscribeSignalsRequest::HANDLE);
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::ClientAsyncReader<sigd::v1::SignalEvent>> stream =
      stub_->PrepareAsyncSubscribeSignals(&subscribe_context_, request, &cq);
  stream->StartCall(&stream_started);
  sigd::v1::SignalEvent event;
  grpc::Status stream_status;
  bool stream_open = true;
  int64_t answers = 0;
  void* tag = nullptr;
  bool ok = false;
  while ((stream_open || answers > 0) && cq.Next(&tag, &ok)) {
    if (tag == &stream_started || tag == &stream_read) {
      if (!ok) {
        stream->Finish(&stream_status, &stream_finished);
        continue;
      }
      if (tag == &stream_read && event.kind() == sigd::v1::SUBSCRIBED) {
        subscribed_.store(true);
      } else if (tag == &stream_read && event.kind() == sigd::v1::MESSAGE) {
        handled_.fetch_add(1, std::memory_order_relaxed);
        std::string text = TextOfMessage(event.data().message_json());
        if (std::optional<Payload> payload = ParsePayload(text)) {
          event_latency_.Record(NowNs() - payload->send_ns);
        }
        auto* answer = new Answer;
        answer->request.set_text(std::move(text));
        answer->request.set_client_id(event.client().id());
        answer->context.set_deadline(DeadlineIn(10));
        answer->reader = stub_->PrepareAsyncSendSignal(&answer->context, answer->request, &cq);
        answer->reader->StartCall();
        answer->reader->Finish(&answer->response, &answer->status, answer);
        ++answers;
      }
      stream->Read(&event, &stream_read);
    } else if (tag == &stream_finished) {
      stream_open = false;
      if (!stream_status.ok() && stream_status.error_code() != grpc::StatusCode::CANCELLED) {
        RecordError("SubscribeSignals: " + stream_status.error_message());
      }
    } else {
      auto* answer = static_cast<Answer*>(tag);
      if (!answer->status.ok()) RecordError("SendSignal: " + answer->status.error_message());
      --answers;
      delete answer;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  handler_done_.store(true);
}

void GrpcDriver::Stop() {
  if (publisher_.joinable()) publisher_.join();  // ends with the publishing phase
  if (handler_.joinable()) {
    subscribe_context_.TryCancel();
    handler_.join();
  }
  // Let answers already sent finish, briefly.
  for (int i = 0; i < 200 && in_flight_.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace sigd::bench
