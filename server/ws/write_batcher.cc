#include "server/ws/write_batcher.h"

#include <utility>
#include <vector>

namespace sigd::ws {

namespace {

thread_local std::vector<std::shared_ptr<WriteBatcher::Writer>>* deferred = nullptr;
thread_local std::vector<std::function<void()>>* after_flush = nullptr;

}  // namespace

void WriteBatcher::Run(boost::asio::io_context& context) {
  std::vector<std::shared_ptr<Writer>> list;
  std::vector<std::shared_ptr<Writer>> flushing;
  std::vector<std::function<void()>> after;
  std::vector<std::function<void()>> running;
  deferred = &list;
  after_flush = &after;
  // The completions of the previous flush's writes come back as one handler
  // each; they must not use up the burst, or the messages read behind them
  // would be written one per write again.
  size_t last_flush = 0;
  while (true) {
    // Block only when nothing waits for a flush: a writer deferred by the
    // previous flush must not wait for an unrelated event (a write that
    // completes at once posts no completion).
    size_t n = 0;
    if (list.empty() && after.empty()) {
      if (context.run_one() == 0) break;
      n = 1;
    } else if (context.stopped()) {
      break;
    }
    const size_t burst = kBurst + last_flush;
    for (; n < burst && context.poll_one() > 0; ++n) {
    }
    // A writer deferred by a FlushWrites call below waits for the next burst.
    flushing.swap(list);
    last_flush = flushing.size();
    for (const std::shared_ptr<Writer>& writer : flushing) writer->FlushWrites();
    flushing.clear();
    // Likewise, work queued by these waits for the next burst.
    running.swap(after);
    for (std::function<void()>& fn : running) fn();
    running.clear();
  }
  deferred = nullptr;
  after_flush = nullptr;
  // Stopped: what still waits runs now rather than being lost.
  for (std::function<void()>& fn : after) fn();
}

bool WriteBatcher::Defer(std::shared_ptr<Writer> writer) {
  if (deferred == nullptr) return false;
  deferred->push_back(std::move(writer));
  return true;
}

void WriteBatcher::AfterFlush(std::function<void()> fn) {
  if (after_flush == nullptr) {
    fn();
    return;
  }
  after_flush->push_back(std::move(fn));
}

}  // namespace sigd::ws
