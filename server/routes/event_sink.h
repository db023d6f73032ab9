// The route table's view of one subscriber: somewhere to offer events. The
// gRPC subscriber stream implements it; tests implement it with a vector.
#ifndef SIGD_SERVER_ROUTES_EVENT_SINK_H_
#define SIGD_SERVER_ROUTES_EVENT_SINK_H_

#include <memory>

#include "signal.pb.h"

namespace sigd::routes {

using EventPtr = std::shared_ptr<const sigd::v1::SignalEvent>;

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Queues the event unless the sink's bounded queue is full or the sink is
  // closing; returns whether it was queued. Called from any thread; must not
  // block.
  virtual bool Offer(EventPtr event) = 0;
};

}  // namespace sigd::routes

#endif  // SIGD_SERVER_ROUTES_EVENT_SINK_H_
