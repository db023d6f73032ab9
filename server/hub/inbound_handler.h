// What happens to a frame a client sends: parse it, offer it to the signal
// routes, and otherwise apply Pode's default handling (direct -> clientId ->
// path -> everyone). Bad input costs only the sender: an error frame, and the
// connection stays open. Also announces CONNECT / DISCONNECT to subscribers
// that asked for them.
//
// Runs on the sender's shard thread; never blocks.
#ifndef SIGD_SERVER_HUB_INBOUND_HANDLER_H_
#define SIGD_SERVER_HUB_INBOUND_HANDLER_H_

#include <string>
#include <string_view>

#include "server/cluster/cluster.h"
#include "server/config/config.h"
#include "server/hub/client.h"
#include "server/hub/hub.h"
#include "server/metrics.h"
#include "server/protocol/default_target.h"
#include "server/protocol/inbound_message.h"
#include "server/routes/route_table.h"

namespace sigd::hub {

class InboundHandler {
 public:
  InboundHandler(Hub& hub, const routes::RouteTable& routes, Metrics& metrics,
                 const config::Config& config, std::string node_id);

  // Cluster mode: default handling reaches clients on every node. Set
  // before clients connect; null (the default) keeps it local.
  void SetCluster(cluster::Cluster* cluster) { cluster_ = cluster; }

  void OnMessage(Client& sender, std::string_view data, bool is_text);
  void OnConnect(const Client& client);
  void OnDisconnect(const Client& client);

  // A browser message from another node, for this node's clients. `done`
  // (may be null) gets the count and whether the addressed client is here.
  void DeliverFromCluster(const cluster::ClientMessage& message,
                          cluster::LocalNode::DeliveryDone done);

  // An event of a client of this node that a route on another node did not
  // accept in time: counted like a full local subscriber, and for a HANDLE
  // message the sender (if still here) gets route_busy. Any thread.
  void OnRemoteEventRejected(const sigd::v1::SignalEvent& event, bool observe);

 private:
  void HandleRaw(Client& sender, std::string_view data, bool is_text);
  void HandleDefault(Client& sender, protocol::InboundMessage message);
  // A client id not connected here: asks the other nodes; the sender gets
  // unknown_client when none has it.
  void SendToRemoteClient(const Client& sender, std::string client_id, std::string path,
                          Frame frame);
  // Applies --client-targeting; tells the sender when it refuses.
  bool TargetAllowed(Client& sender, const protocol::DefaultTarget& target);
  // Applies the sender's JWT "send" claim; tells the sender when it refuses.
  bool SendClaimAllows(Client& sender, const protocol::DefaultTarget& target);
  void SendError(Client& client, std::string_view code, std::string_view message);
  routes::EventPtr MakeEvent(sigd::v1::EventKind kind, const Client& client,
                             const protocol::InboundMessage* message,
                             const std::string& route) const;

  Hub& hub_;
  const routes::RouteTable& routes_;
  Metrics& metrics_;
  const config::Config& config_;
  const std::string node_id_;
  cluster::Cluster* cluster_ = nullptr;
};

}  // namespace sigd::hub

#endif  // SIGD_SERVER_HUB_INBOUND_HANDLER_H_
