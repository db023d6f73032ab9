// sigd's gRPC services run on gRPC's asynchronous API, on one completion
// queue polled by one thread of sigd's own.
//
// Why not the callback API: in gRPC 1.51 its completions are run by two
// "nexting" threads that pass the polling role between them on every event,
// which on a small machine cost more than the rest of a call (measured: a
// SendSignal round trip took 240 µs at the median through the callback API,
// 70 µs through a completion queue with one polling thread). Here the thread
// that reads a call is the one that runs its handler, and operations started
// from other threads (an I/O thread answering a SendSignal, or writing an
// event to a subscriber) are written inline by gRPC on that thread.
//
//   CompletionQueueThread queue(builder.AddCompletionQueue());
//   ... BuildAndStart, arm the first calls ...
//   queue.Run();
//   ... grpc::Server::Shutdown(), then queue.Stop();
#ifndef SIGD_SERVER_RPC_COMPLETION_QUEUE_H_
#define SIGD_SERVER_RPC_COMPLETION_QUEUE_H_

#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include <atomic>

#include "absl/functional/function_ref.h"
#include "grpcpp/grpcpp.h"

namespace sigd::rpc {

// What every tag handed to gRPC is: the queue's thread calls Complete.
class CqTag {
 public:
  virtual void Complete(bool ok) = 0;

 protected:
  ~CqTag() = default;
};

// A tag that calls a member of its owner; embedded in the owner, so
// starting an operation allocates nothing.
template <class Owner, void (Owner::*kOnComplete)(bool)>
class MemberTag final : public CqTag {
 public:
  explicit MemberTag(Owner* owner) : owner_(owner) {}
  void Complete(bool ok) override { (owner_->*kOnComplete)(ok); }

 private:
  Owner* owner_;
};

class CompletionQueueThread {
 public:
  explicit CompletionQueueThread(std::unique_ptr<grpc::ServerCompletionQueue> cq);
  ~CompletionQueueThread();

  CompletionQueueThread(const CompletionQueueThread&) = delete;
  CompletionQueueThread& operator=(const CompletionQueueThread&) = delete;

  grpc::ServerCompletionQueue* cq() const { return cq_.get(); }

  // Starts the thread that polls the queue.
  void Run();

  // Starts one operation whose completion is `tag`: runs `start` unless the
  // queue is closing, in which case `tag` completes at once, on this
  // thread, with ok = false (starting an operation on a shut-down queue is
  // an error in gRPC). Any thread.
  void Start(CqTag* tag, absl::FunctionRef<void()> start);

  // Call after grpc::Server::Shutdown has returned: refuses operations from
  // now on, shuts the queue down, runs what is still queued, joins.
  void Stop();

 private:
  void Poll();

  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  // A gate without a lock on the hot path: Start counts itself in, then
  // checks closing_; Stop sets closing_, then waits for the count to drain.
  std::atomic<bool> closing_{false};
  std::atomic<int> starting_{0};
  std::thread thread_;
};

// One unary method: how to ask gRPC for the next call, and what to do with
// it. The handler answers with UnaryCall::Finish, on any thread, later.
template <class Service, class Request, class Response>
class UnaryCall {
 public:
  using RequestFn = void (Service::*)(grpc::ServerContext*, Request*,
                                      grpc::ServerAsyncResponseWriter<Response>*,
                                      grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
  struct Method {
    Service* service;
    RequestFn request;
    CompletionQueueThread* queue;
    std::function<void(UnaryCall*)> handle;
  };

  // Waits for the next call of `method` (which must outlive the queue).
  static void Arm(const Method* method) {
    auto* call = new UnaryCall(method);
    grpc::ServerCompletionQueue* cq = method->queue->cq();
    method->queue->Start(&call->arrived_, [&] {
      (method->service->*method->request)(&call->context_, &call->request_, &call->writer_, cq,
                                          cq, &call->arrived_);
    });
  }

  grpc::ServerContext& context() { return context_; }
  const Request& request() const { return request_; }

  // Answers the call: `response` if `status` is OK, else the error. Once,
  // from any thread; the call is gone afterwards.
  void Finish(const Response& response, const grpc::Status& status) {
    method_->queue->Start(&finished_, [&] {
      if (status.ok()) {
        writer_.Finish(response, status, &finished_);
      } else {
        writer_.FinishWithError(status, &finished_);
      }
    });
  }

 private:
  explicit UnaryCall(const Method* method)
      : method_(method), writer_(&context_), arrived_(this), finished_(this) {}

  void OnArrived(bool ok) {
    if (!ok) {  // the server is shutting down: no call came
      delete this;
      return;
    }
    // The handler first: it usually hands the call to an I/O thread, and
    // arming the next call (a ServerContext, a request to gRPC) can wait
    // until that is on its way. Calls that arrive meanwhile queue in gRPC.
    // `this` may be gone after handle (a refused Finish completes inline).
    const Method* method = method_;
    method->handle(this);
    Arm(method);
  }
  void OnFinished(bool) { delete this; }

  const Method* method_;
  grpc::ServerContext context_;
  Request request_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  MemberTag<UnaryCall, &UnaryCall::OnArrived> arrived_;
  MemberTag<UnaryCall, &UnaryCall::OnFinished> finished_;
};

// One server-streaming call: the request arrives, the owner writes (one
// write at a time, from any thread) and finishes once. Deleted once both the
// done tag (the call is over) and the finish have completed: the done tag of
// a cancelled call may come first while another thread is about to start a
// write, and the finish, which comes after that write, keeps the call alive.
// Each hook runs with the call alive and holding a count of its own.
template <class Service, class Request, class Response>
class StreamCall {
 public:
  using RequestFn = void (Service::*)(grpc::ServerContext*, Request*,
                                      grpc::ServerAsyncWriter<Response>*, grpc::CompletionQueue*,
                                      grpc::ServerCompletionQueue*, void*);

  StreamCall(const StreamCall&) = delete;
  StreamCall& operator=(const StreamCall&) = delete;

  grpc::ServerContext& context() { return context_; }
  const Request& request() const { return request_; }

 protected:
  StreamCall(CompletionQueueThread* queue, Service* service, RequestFn request_fn)
      : queue_(queue), service_(service), request_fn_(request_fn), writer_(&context_),
        arrived_(this), wrote_(this), done_(this), finished_(this) {}
  virtual ~StreamCall() = default;

  // Waits for the next call of the method. (The lambdas capture pointers,
  // not `this`: GCC's -fsanitize=vptr misreads `this` captured in a lambda
  // of this template.)
  void Arm() {
    context_.AsyncNotifyWhenDone(&done_);
    grpc::ServerCompletionQueue* cq = queue_->cq();
    Service* service = service_;
    RequestFn request_fn = request_fn_;
    grpc::ServerContext* context = &context_;
    Request* request = &request_;
    grpc::ServerAsyncWriter<Response>* writer = &writer_;
    CqTag* tag = &arrived_;
    queue_->Start(tag, [=] { (service->*request_fn)(context, request, writer, cq, cq, tag); });
  }

  // `message` must live until OnWrote. Any thread; one write at a time.
  void Write(const Response& message) {
    pending_.fetch_add(1);
    grpc::ServerAsyncWriter<Response>* writer = &writer_;
    CqTag* tag = &wrote_;
    queue_->Start(tag, [writer, tag, &message] { writer->Write(message, tag); });
  }

  // Once, with no write in flight; the last operation on the call.
  void FinishCall(const grpc::Status& status) {
    grpc::ServerAsyncWriter<Response>* writer = &writer_;
    CqTag* tag = &finished_;
    queue_->Start(tag, [writer, tag, &status] { writer->Finish(status, tag); });
  }

  // On the queue's thread (or, for an operation refused at shutdown, inline
  // on the thread that started it).
  virtual void OnArrived() = 0;          // arm the next call here
  virtual void OnWrote(bool ok) = 0;
  virtual void OnDone() = 0;             // context().IsCancelled() tells how
  virtual void OnGone() {}               // just before deletion

 private:
  void Arrived(bool ok) {
    if (!ok) {  // shutting down: no call came, so no done tag will either
      delete this;
      return;
    }
    pending_.store(2);  // the done tag and the finish
    OnArrived();
  }
  void Wrote(bool ok) {
    OnWrote(ok);
    Release();
  }
  void Done(bool) {
    OnDone();
    Release();
  }
  void Finished(bool) { Release(); }
  void Release() {
    if (pending_.fetch_sub(1) != 1) return;
    OnGone();
    delete this;
  }

  CompletionQueueThread* queue_;
  Service* service_;
  RequestFn request_fn_;
  grpc::ServerContext context_;
  Request request_;
  grpc::ServerAsyncWriter<Response> writer_;
  MemberTag<StreamCall, &StreamCall::Arrived> arrived_;
  MemberTag<StreamCall, &StreamCall::Wrote> wrote_;
  MemberTag<StreamCall, &StreamCall::Done> done_;
  MemberTag<StreamCall, &StreamCall::Finished> finished_;
  std::atomic<int> pending_{0};
};

}  // namespace sigd::rpc

#endif  // SIGD_SERVER_RPC_COMPLETION_QUEUE_H_
