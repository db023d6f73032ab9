#include "server/rpc/completion_queue.h"

#include <thread>

#include "server/util/thread_name.h"

namespace sigd::rpc {

CompletionQueueThread::CompletionQueueThread(std::unique_ptr<grpc::ServerCompletionQueue> cq)
    : cq_(std::move(cq)) {}

CompletionQueueThread::~CompletionQueueThread() { Stop(); }

void CompletionQueueThread::Run() {
  thread_ = std::thread([this] { Poll(); });
  util::NameThread(thread_, "sigd-grpc");
}

void CompletionQueueThread::Poll() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Complete(ok);
}

void CompletionQueueThread::Start(CqTag* tag, absl::FunctionRef<void()> start) {
  starting_.fetch_add(1);
  if (!closing_.load()) {
    start();
    starting_.fetch_sub(1);
    return;
  }
  starting_.fetch_sub(1);
  tag->Complete(false);
}

void CompletionQueueThread::Stop() {
  if (closing_.exchange(true)) return;
  while (starting_.load() > 0) std::this_thread::yield();  // an operation being started
  cq_->Shutdown();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    Poll();  // never ran: drain here
  }
}

}  // namespace sigd::rpc
