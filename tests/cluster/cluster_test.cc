// Cluster mode end to end: a real nats-server, three real sigd processes
// joined with --nats, real WebSocket clients and gRPC stubs. Checks that the
// nodes behave as one server (signals, browser messages, listings,
// disconnects, server info) and what happens when a node dies or NATS
// restarts. Every wait is a condition with a deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <optional>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "gtest/gtest.h"
#include "cluster.pb.h"
#include "signal.grpc.pb.h"
#include "tests/cluster/nats_server.h"
#include "tests/process/sigd_process.h"
#include "tests/support/http_fetch.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 20s;

struct Node {
  std::string id;
  uint16_t admin_port = 0;
  std::unique_ptr<SigdProcess> process;
  std::unique_ptr<sigd::v1::SignalService::Stub> stub;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(NatsServer::Available()) << "nats-server is not installed (scripts/deps installs it)";
    ASSERT_TRUE(nats_.Start().ok());
    for (const char* id : {"node-a", "node-b", "node-c"}) StartNode(id);
    WaitForMembers(3);
  }

  void StartNode(const std::string& id) {
    absl::StatusOr<std::unique_ptr<SigdProcess>> sigd =
        StartSigd({"--nats", nats_.url(), "--node-id", id, "--nats-prefix", "test.sigd",
                   "--admin-listen", "127.0.0.1:0", "--raw-path", "/raw/*"});
    ASSERT_TRUE(sigd.ok()) << sigd.status();
    Node node;
    node.id = id;
    node.process = *std::move(sigd);
    static const std::regex kAdmin(R"(admin http on [^\s:]+:(\d+))");
    std::vector<std::string> groups;
    ASSERT_TRUE(node.process->process.WaitForOutput(kAdmin, kWait, &groups));
    node.admin_port = static_cast<uint16_t>(std::stoi(groups[1]));
    node.stub = sigd::v1::SignalService::NewStub(grpc::CreateChannel(
        node.process->grpc_target(), grpc::InsecureChannelCredentials()));
    nodes_.push_back(std::move(node));
  }

  // Until every live node's GetServerInfo lists `count` nodes.
  void WaitForMembers(int count, std::chrono::milliseconds timeout = kWait) {
    for (Node& node : nodes_) {
      if (node.process == nullptr) continue;
      sigd::v1::ServerInfo info;
      EXPECT_TRUE(WaitFor([&] { return Info(node, &info).ok() && info.nodes_size() == count; },
                          timeout))
          << node.id << " knows " << info.nodes_size() << " node(s)";
    }
  }

  grpc::Status Info(Node& node, sigd::v1::ServerInfo* info) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    sigd::v1::GetServerInfoRequest request;
    return node.stub->GetServerInfo(&context, request, info);
  }

  grpc::Status Send(Node& node, const sigd::v1::SendSignalRequest& request,
                    sigd::v1::SendSignalResponse* response,
                    std::chrono::milliseconds deadline = 5s) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    return node.stub->SendSignal(&context, request, response);
  }

  grpc::Status List(Node& node, const sigd::v1::ListClientsRequest& request,
                    sigd::v1::ListClientsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    return node.stub->ListClients(&context, request, response);
  }

  static sigd::v1::SendSignalRequest Text(const std::string& text, const std::string& path = "",
                                          const std::string& client_id = "") {
    sigd::v1::SendSignalRequest request;
    request.set_text(text);
    request.set_path(path);
    request.set_client_id(client_id);
    return request;
  }

  std::unique_ptr<WsClient> Connect(const Node& node, const std::string& path) {
    auto client = std::make_unique<WsClient>();
    absl::Status s = client->Connect(node.process->ws_port, path);
    EXPECT_TRUE(s.ok()) << s;
    return client;
  }

  std::unique_ptr<Subscriber> Subscribe(Node& node, sigd::v1::SubscribeSignalsRequest request) {
    auto subscriber = std::make_unique<Subscriber>(
        grpc::CreateChannel(node.process->grpc_target(), grpc::InsecureChannelCredentials()),
        std::move(request));
    EXPECT_TRUE(subscriber->WaitSubscribed(kWait)) << "no SUBSCRIBED from " << node.id;
    return subscriber;
  }

  // The value of one line of the node's /metrics ("sigd_x" or
  // "sigd_x{label=\"v\"}"); -1 when the line is missing.
  double Metric(Node& node, const std::string& series) {
    HttpResponse metrics = Fetch(node.admin_port, boost::beast::http::verb::get, "/metrics");
    const std::string& body = metrics.body();
    const std::string key = absl::StrCat("\n", series, " ");
    const size_t at = body.find(key);
    if (at == std::string::npos) return -1;
    return std::stod(body.substr(at + key.size(), body.find('\n', at + 1) - at - key.size()));
  }

  // Until `node` routes to `count` subscriptions held on other nodes.
  bool WaitRemoteRoutes(Node& node, int count, std::chrono::milliseconds timeout = kWait) {
    return WaitFor([&] { return Metric(node, "sigd_cluster_remote_routes") == count; }, timeout);
  }

  // Publishes raw payloads straight to NATS, as a foreign client would
  // (nats-server speaks a text protocol; a TCP socket is enough).
  void PublishRaw(const std::vector<std::pair<std::string, std::string>>& messages,
                  const std::string& reply_subject = "") {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(nats_.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    std::string out = "CONNECT {\"verbose\":false}\r\n";
    for (const auto& [subject, payload] : messages) {
      absl::StrAppend(&out, "PUB ", subject, reply_subject.empty() ? "" : " ", reply_subject, " ",
                      payload.size(), "\r\n", payload, "\r\n");
    }
    out += "PING\r\n";
    ASSERT_EQ(write(fd, out.data(), out.size()), static_cast<ssize_t>(out.size()));
    close(fd);
  }

  NatsServer nats_;
  std::vector<Node> nodes_;
};

sigd::v1::SubscribeSignalsRequest Lifecycle(const std::string& route) {
  sigd::v1::SubscribeSignalsRequest request;
  request.add_routes(route);
  request.add_kinds(sigd::v1::CONNECT);
  request.add_kinds(sigd::v1::DISCONNECT);
  return request;
}

TEST_F(ClusterTest, ServerInfoListsEveryNodeAndSumsClients) {
  auto a = Connect(nodes_[0], "/x");
  auto c = Connect(nodes_[2], "/x");
  sigd::v1::ServerInfo info;
  ASSERT_TRUE(Info(nodes_[1], &info).ok());
  EXPECT_EQ(info.node_id(), "node-b");
  std::set<std::string> ids(info.nodes().begin(), info.nodes().end());
  EXPECT_EQ(ids, (std::set<std::string>{"node-a", "node-b", "node-c"}));
  EXPECT_EQ(info.nodes(0), "node-b");
  EXPECT_EQ(info.clients(), 2u);
}

TEST_F(ClusterTest, SendSignalReachesClientsOnEveryNode) {
  std::vector<std::unique_ptr<WsClient>> chat;
  for (Node& node : nodes_) chat.push_back(Connect(node, "/chat"));
  auto other = Connect(nodes_[2], "/other");

  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(Send(nodes_[0], Text("to chat", "/chat"), &response).ok());
  EXPECT_EQ(response.delivered(), 3u);
  EXPECT_EQ(response.nodes(), 3u);
  for (auto& c : chat) EXPECT_EQ(c->Read().value_or(""), "to chat");

  ASSERT_TRUE(Send(nodes_[1], Text("to all"), &response).ok());
  EXPECT_EQ(response.delivered(), 4u);
  EXPECT_EQ(response.nodes(), 3u);
  for (auto& c : chat) EXPECT_EQ(c->Read().value_or(""), "to all");
  EXPECT_EQ(other->Read().value_or(""), "to all");

  // A client id on node C, sent from node A.
  ASSERT_TRUE(Send(nodes_[0], Text("just you", "", other->client_id()), &response).ok());
  EXPECT_EQ(response.delivered(), 1u);
  EXPECT_EQ(response.nodes(), 3u);
  EXPECT_EQ(other->Read().value_or(""), "just you");

  grpc::Status missing = Send(nodes_[0], Text("nobody", "", "no-such-client"), &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND) << missing.error_message();
}

TEST_F(ClusterTest, BrowserMessagesUseDefaultHandlingAcrossNodes) {
  auto sender = Connect(nodes_[0], "/room");
  auto same_path = Connect(nodes_[1], "/room");
  auto elsewhere = Connect(nodes_[2], "/lobby");

  // Everyone, on every node.
  ASSERT_TRUE(sender->Send(R"({"message":"hello all"})").ok());
  EXPECT_EQ(sender->Read().value_or(""), "hello all");
  EXPECT_EQ(same_path->Read().value_or(""), "hello all");
  EXPECT_EQ(elsewhere->Read().value_or(""), "hello all");

  // A path: only /lobby, which lives on node C.
  ASSERT_TRUE(sender->Send(R"({"message":"to lobby","path":"/lobby"})").ok());
  EXPECT_EQ(elsewhere->Read().value_or(""), "to lobby");

  // A client id on another node is never unknown_client.
  ASSERT_TRUE(sender->Send(absl::StrCat(R"({"message":"psst","clientId":")",
                                        same_path->client_id(), R"("})"))
                  .ok());
  EXPECT_EQ(same_path->Read().value_or(""), "psst");

  // Frames arrive in order: the next frame each client sees proves the
  // earlier messages reached nobody else.
  ASSERT_TRUE(sender->Send(R"({"message":"marker"})").ok());
  EXPECT_EQ(sender->Read().value_or(""), "marker");
  EXPECT_EQ(same_path->Read().value_or(""), "marker");
  EXPECT_EQ(elsewhere->Read().value_or(""), "marker");

  // An id connected nowhere: the sender alone hears about it.
  ASSERT_TRUE(sender->Send(R"({"message":"lost","clientId":"nobody-here"})").ok());
  absl::StatusOr<std::string> error = sender->Read();
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_TRUE(absl::StrContains(*error, "unknown_client")) << *error;
}

// A raw relay path spans the cluster: text and binary frames reach every
// client on the path, on every node, verbatim; other paths get nothing.
TEST_F(ClusterTest, RawPathRelaysTextAndBinaryFramesToEveryNode) {
  auto a = Connect(nodes_[0], "/raw/room");
  auto b = Connect(nodes_[1], "/raw/room");
  auto c = Connect(nodes_[2], "/raw/room");
  auto elsewhere = Connect(nodes_[2], "/raw/other");
  const std::string binary("\x00\xff\x01sigd", 7);
  ASSERT_TRUE(a->Send(R"(not json, relayed as it is)").ok());
  ASSERT_TRUE(a->SendBinary(binary).ok());
  for (WsClient* client : {a.get(), b.get(), c.get()}) {
    absl::StatusOr<std::string> text = client->Read();
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, "not json, relayed as it is");
    EXPECT_FALSE(client->last_was_binary());
    absl::StatusOr<std::string> bytes = client->Read();
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(*bytes, binary);
    EXPECT_TRUE(client->last_was_binary());
  }
  // The other path's first frame is a later signal, not a relayed one.
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(Send(nodes_[0], Text("marker", "/raw/other"), &response).ok());
  absl::StatusOr<std::string> first = elsewhere->Read();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "marker");
}

TEST_F(ClusterTest, ListClientsPagesOverTheClusterAndDisconnectReachesAnyNode) {
  std::vector<std::unique_ptr<WsClient>> clients;
  for (Node& node : nodes_) {
    clients.push_back(Connect(node, "/p"));
    clients.push_back(Connect(node, "/p"));
  }
  std::set<std::string> seen;
  std::set<std::string> node_names;
  sigd::v1::ListClientsRequest request;
  request.set_page_size(4);
  sigd::v1::ListClientsResponse page;
  ASSERT_TRUE(List(nodes_[0], request, &page).ok());
  EXPECT_EQ(page.clients_size(), 4);
  EXPECT_EQ(page.total(), 6u);
  EXPECT_EQ(page.nodes(), 3u);
  ASSERT_FALSE(page.next_page_token().empty());
  for (const auto& c : page.clients()) {
    seen.insert(c.id());
    node_names.insert(c.node());
  }
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(List(nodes_[0], request, &page).ok());
  EXPECT_EQ(page.clients_size(), 2);
  EXPECT_TRUE(page.next_page_token().empty());
  for (const auto& c : page.clients()) {
    seen.insert(c.id());
    node_names.insert(c.node());
  }
  std::set<std::string> expected;
  for (auto& c : clients) expected.insert(c->client_id());
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(node_names, (std::set<std::string>{"node-a", "node-b", "node-c"}));

  // The admin API's /v1/clients answers for the cluster too.
  HttpResponse listed = Fetch(nodes_[1].admin_port, boost::beast::http::verb::get, "/v1/clients");
  ASSERT_EQ(listed.result(), boost::beast::http::status::ok) << listed.body();
  const nlohmann::json body = nlohmann::json::parse(listed.body());
  EXPECT_EQ(body.value("nodes", 0), 3) << body;
  std::set<std::string> listed_ids;
  for (const auto& c : body.at("clients")) listed_ids.insert(c.at("id").get<std::string>());
  EXPECT_EQ(listed_ids, seen);

  // Disconnect a client of node C through node A.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  sigd::v1::DisconnectClientRequest disconnect;
  disconnect.set_client_id(clients[5]->client_id());
  disconnect.set_code(4000);
  sigd::v1::DisconnectClientResponse done;
  ASSERT_TRUE(nodes_[0].stub->DisconnectClient(&context, disconnect, &done).ok());
  EXPECT_TRUE(done.disconnected());
  absl::StatusOr<uint16_t> code = clients[5]->WaitForClose();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 4000);

  grpc::ClientContext again;
  disconnect.set_client_id("no-such-client");
  ASSERT_TRUE(nodes_[0].stub->DisconnectClient(&again, disconnect, &done).ok());
  EXPECT_FALSE(done.disconnected());
}

// Two nodes with one name cannot be told apart in listings: both say so.
TEST_F(ClusterTest, ANodeIdUsedTwiceIsReported) {
  absl::StatusOr<std::unique_ptr<SigdProcess>> twin = StartSigd(
      {"--nats", nats_.url(), "--node-id", "node-a", "--nats-prefix", "test.sigd"});
  ASSERT_TRUE(twin.ok()) << twin.status();
  const std::regex kTwin("another node \\(instance [0-9a-f]+\\) also calls itself node-a");
  EXPECT_TRUE((*twin)->process.WaitForOutput(kTwin, kWait));
  EXPECT_TRUE(nodes_[0].process->process.WaitForOutput(kTwin, kWait));
}

// sigctl says where each client is, and how many nodes a count covers.
TEST_F(ClusterTest, SigctlShowsNodesInACluster) {
  auto a = Connect(nodes_[0], "/s");
  auto c = Connect(nodes_[2], "/s");
  const std::string server = nodes_[0].process->grpc_target();
  ProcessResult listed = RunProcess({SIGCTL_BINARY, "--server", server, "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.out, "NODE")) << listed.out;
  for (const char* line_of : {"node-a", "node-c"}) {
    EXPECT_TRUE(absl::StrContains(listed.out, line_of)) << listed.out;
  }
  ProcessResult sent =
      RunProcess({SIGCTL_BINARY, "--server", server, "send", "--path", "/s", "--text", "hi"});
  EXPECT_EQ(sent.out, "delivered 2 (nodes answering: 3)\n") << sent.err;
  sent = RunProcess(
      {SIGCTL_BINARY, "--server", server, "--json", "send", "--path", "/s", "--text", "hi"});
  EXPECT_EQ(sent.out, "{\"delivered\":2,\"nodes\":3}\n") << sent.err;
}

TEST_F(ClusterTest, KilledNodeLosesOnlyItsOwnClientsAndIsDroppedWithin10s) {
  auto a = Connect(nodes_[0], "/k");
  auto b = Connect(nodes_[1], "/k");
  auto c = Connect(nodes_[2], "/k");
  nodes_[2].process->process.Kill();
  nodes_[2].process.reset();
  const auto killed = std::chrono::steady_clock::now();
  // Until the others notice, answers are partial (2 of 3, after the
  // timeout); then whole again for the two that remain.
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(Send(nodes_[0], Text("still here", "/k"), &response).ok());
  EXPECT_EQ(response.delivered(), 2u);
  EXPECT_EQ(response.nodes(), 2u);
  EXPECT_EQ(a->Read().value_or(""), "still here");
  EXPECT_EQ(b->Read().value_or(""), "still here");

  sigd::v1::SendSignalRequest probe = Text("probe", "/nobody");
  ASSERT_TRUE(WaitFor([&] {
    const auto start = std::chrono::steady_clock::now();
    return Send(nodes_[0], probe, &response).ok() && response.nodes() == 2 &&
           std::chrono::steady_clock::now() - start < 300ms;
  }, 15s));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 10s);
  WaitForMembers(2);
}

TEST_F(ClusterTest, StoppedNodeSaysGoodbye) {
  nodes_[2].process->process.Signal(SIGTERM);
  EXPECT_EQ(nodes_[2].process->process.Wait(10s), 0);
  nodes_[2].process.reset();
  // The goodbye drops it at once: no answer waits for it.
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(WaitFor([&] {
    const auto start = std::chrono::steady_clock::now();
    return Send(nodes_[0], Text("x", "/nobody"), &response).ok() && response.nodes() == 2 &&
           std::chrono::steady_clock::now() - start < 300ms;
  }, 3s));
}

TEST_F(ClusterTest, NatsRestartKeepsLocalServingAndHeals) {
  auto a = Connect(nodes_[0], "/n");
  auto b = Connect(nodes_[1], "/n");
  EXPECT_EQ(Metric(nodes_[0], "sigd_cluster_connected"), 1);
  EXPECT_EQ(Metric(nodes_[0], "sigd_cluster_nodes"), 3);
  nats_.Stop();
  // An operator sees the outage, and the membership running out, in the metrics.
  EXPECT_TRUE(WaitFor([&] { return Metric(nodes_[0], "sigd_cluster_connected") == 0; }));

  // Local clients keep being served; nothing waits past its deadline; a
  // client id elsewhere is reported as unavailable, not as unknown.
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(WaitFor([&] {
    return Send(nodes_[0], Text("local", "/n"), &response).ok() && response.nodes() == 1;
  }, 15s));
  EXPECT_EQ(response.delivered(), 1u);
  EXPECT_EQ(a->Read().value_or(""), "local");
  // Neither a backend nor a browser addressing that client is told that it
  // is unknown.
  auto expect_b_unavailable = [&] {
    grpc::Status unreachable = Send(nodes_[0], Text("x", "", b->client_id()), &response, 3s);
    EXPECT_EQ(unreachable.error_code(), grpc::StatusCode::UNAVAILABLE)
        << unreachable.error_message();
    ASSERT_TRUE(
        a->Send(absl::StrCat(R"({"message":"to b","clientId":")", b->client_id(), "\"}")).ok());
    const std::string refused = a->Read().value_or("");
    EXPECT_TRUE(absl::StrContains(refused, "cluster_unavailable")) << refused;
    EXPECT_TRUE(absl::StrContains(refused, "NATS is down")) << refused;
    EXPECT_EQ(Metric(nodes_[0], R"(sigd_rejected_messages_total{code="unknown_client"})"), 0);
  };
  expect_b_unavailable();
  ASSERT_TRUE(a->Send(R"({"message":"browser local"})").ok());
  EXPECT_EQ(a->Read().value_or(""), "browser local");
  // Still so once the silent nodes are forgotten (6 s into the outage): with
  // NATS down, "nowhere" cannot be known.
  ASSERT_TRUE(WaitFor([&] { return Metric(nodes_[0], "sigd_cluster_nodes") == 1; }, 15s));
  expect_b_unavailable();
  // What the other nodes could not be told is counted, not silently lost.
  EXPECT_TRUE(WaitFor([&] { return Metric(nodes_[0], "sigd_cluster_publish_failed_total") >= 1; }));

  ASSERT_TRUE(nats_.Restart().ok());
  const auto back = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] {
    return Send(nodes_[0], Text("healed", "/n"), &response).ok() && response.nodes() == 3;
  }, 15s));
  EXPECT_LT(std::chrono::steady_clock::now() - back, 10s);
  EXPECT_EQ(response.delivered(), 2u);
  EXPECT_EQ(a->ReadUntil([](const std::string& f) { return f == "healed"; }).value_or(""),
            "healed");
  EXPECT_EQ(b->ReadUntil([](const std::string& f) { return f == "healed"; }).value_or(""),
            "healed");
}

TEST_F(ClusterTest, MalformedInterNodeMessagesAreDropped) {
  // Garbage on every cluster subject, straight from a raw NATS client, must
  // not disturb the nodes.
  std::vector<std::pair<std::string, std::string>> garbage;
  for (const char* subject : {"test.sigd.node.hello", "test.sigd.signal", "test.sigd.client.msg",
                              "test.sigd.rpc.list", "test.sigd.rpc.info"}) {
    garbage.emplace_back(subject, "\xff\x01gar");
  }
  PublishRaw(garbage, "test.sigd.reply.x.1");

  // Each node drops all five, counts them, and stays whole.
  for (Node& node : nodes_) {
    EXPECT_TRUE(WaitFor([&] {
      HttpResponse metrics = Fetch(node.admin_port, boost::beast::http::verb::get, "/metrics");
      return absl::StrContains(metrics.body(), "sigd_cluster_dropped_total 5\n");
    }, kWait)) << node.id;
  }
  auto a = Connect(nodes_[0], "/m");
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(Send(nodes_[1], Text("fine", "/m"), &response).ok());
  EXPECT_EQ(response.delivered(), 1u);
  EXPECT_EQ(response.nodes(), 3u);
  EXPECT_EQ(a->Read().value_or(""), "fine");
}

TEST_F(ClusterTest, RouteIsLiveOnEveryNodeWithin500msOfSubscribed) {
  auto backend = Subscribe(nodes_[1], Routes({"/live"}));
  const auto subscribed = std::chrono::steady_clock::now();
  EXPECT_TRUE(WaitRemoteRoutes(nodes_[0], 1, 500ms));
  EXPECT_TRUE(WaitRemoteRoutes(nodes_[2], 1, 500ms));
  EXPECT_LT(std::chrono::steady_clock::now() - subscribed, 500ms);
  EXPECT_EQ(Metric(nodes_[1], "sigd_cluster_remote_routes"), 0);  // its own route is local

  // Closing the stream takes the route off the other nodes too.
  backend.reset();
  EXPECT_TRUE(WaitRemoteRoutes(nodes_[0], 0, 500ms));
  EXPECT_TRUE(WaitRemoteRoutes(nodes_[2], 0, 500ms));
}

TEST_F(ClusterTest, HandleRouteOnAnotherNodeGetsTheMessageAndAnswersTheSender) {
  auto backend = Subscribe(nodes_[1], Routes({"/ask"}));
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 1));
  auto sender = Connect(nodes_[0], "/ask");
  auto neighbour = Connect(nodes_[0], "/ask");
  auto elsewhere = Connect(nodes_[2], "/lobby");

  ASSERT_TRUE(sender->Send(R"({"message":{"q":"time?"}})").ok());
  std::optional<sigd::v1::SignalEvent> event = backend->Next(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind(), sigd::v1::MESSAGE);
  EXPECT_EQ(event->data().message_json(), R"({"q":"time?"})");
  EXPECT_EQ(event->path(), "/ask");
  EXPECT_EQ(event->route(), "/ask");
  EXPECT_EQ(event->client().id(), sender->client_id());
  EXPECT_EQ(event->client().node(), "node-a");

  // The backend answers the sender through its own node.
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(Send(nodes_[1], Text("noon", "", event->client().id()), &response).ok());
  EXPECT_EQ(response.delivered(), 1u);
  EXPECT_EQ(sender->Read().value_or(""), "noon");

  // Nobody got the default broadcast: each client's next frame is a marker.
  ASSERT_TRUE(Send(nodes_[2], Text("marker"), &response).ok());
  EXPECT_EQ(sender->Read().value_or(""), "marker");
  EXPECT_EQ(neighbour->Read().value_or(""), "marker");
  EXPECT_EQ(elsewhere->Read().value_or(""), "marker");
}

TEST_F(ClusterTest, ObserveRouteOnAnotherNodeKeepsTheDefaultBroadcast) {
  auto observer = Subscribe(nodes_[1], Routes({"/watch/*"}, /*observe=*/true));
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 1));
  auto sender = Connect(nodes_[0], "/watch/room");
  auto other = Connect(nodes_[2], "/watch/room");

  ASSERT_TRUE(sender->Send(R"({"message":"seen"})").ok());
  EXPECT_EQ(sender->Read().value_or(""), "seen");
  EXPECT_EQ(other->Read().value_or(""), "seen");
  std::optional<sigd::v1::SignalEvent> event = observer->Next(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind(), sigd::v1::MESSAGE);
  EXPECT_EQ(event->route(), "/watch/*");
  EXPECT_EQ(event->client().id(), sender->client_id());
}

TEST_F(ClusterTest, GroupMembersOnTwoNodesEachGetEveryEventOnce) {
  auto on_b = Subscribe(nodes_[1], Routes({"/work"}, false, "workers"));
  auto on_c = Subscribe(nodes_[2], Routes({"/work"}, false, "workers"));
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 2));
  auto sender = Connect(nodes_[0], "/work");
  constexpr int kMessages = 10;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(sender->Send(absl::StrCat(R"({"message":"job-)", i, R"("})")).ok());
  }
  std::multiset<std::string> got;
  int from_b = 0, from_c = 0;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (static_cast<int>(got.size()) < kMessages && std::chrono::steady_clock::now() < deadline) {
    if (auto e = on_b->Next(50ms)) {
      got.insert(e->data().message_json());
      ++from_b;
    }
    if (auto e = on_c->Next(50ms)) {
      got.insert(e->data().message_json());
      ++from_c;
    }
  }
  ASSERT_EQ(static_cast<int>(got.size()), kMessages);
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(got.count(absl::StrCat("\"job-", i, "\"")), 1u) << i;
  }
  // Round robin over the group's members, whichever node holds them.
  EXPECT_GT(from_b, 0);
  EXPECT_GT(from_c, 0);
  // HANDLE: no default broadcast; the sender's next frame is a marker.
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(Send(nodes_[0], Text("marker", "/work"), &response).ok());
  EXPECT_EQ(sender->Read().value_or(""), "marker");
}

TEST_F(ClusterTest, ConnectAndDisconnectOnOneNodeReachASubscriberOnAnother) {
  auto backend = Subscribe(nodes_[1], Lifecycle("/presence"));
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 1));
  auto client = Connect(nodes_[0], "/presence");
  const std::string id = client->client_id();

  std::optional<sigd::v1::SignalEvent> connect = backend->Next(kWait);
  ASSERT_TRUE(connect.has_value());
  EXPECT_EQ(connect->kind(), sigd::v1::CONNECT);
  EXPECT_EQ(connect->client().id(), id);
  EXPECT_EQ(connect->client().node(), "node-a");

  ASSERT_TRUE(client->Close().ok());
  std::optional<sigd::v1::SignalEvent> disconnect = backend->Next(kWait);
  ASSERT_TRUE(disconnect.has_value());
  EXPECT_EQ(disconnect->kind(), sigd::v1::DISCONNECT);
  EXPECT_EQ(disconnect->client().id(), id);
}

TEST_F(ClusterTest, RouteOfAKilledNodeGoesAwayWithin10sAndThePathFallsBack) {
  auto backend = Subscribe(nodes_[1], Routes({"/fallback"}));
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 1));
  auto sender = Connect(nodes_[0], "/fallback");
  auto other = Connect(nodes_[2], "/fallback");

  nodes_[1].process->process.Kill();
  nodes_[1].process.reset();
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 0, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 10s);

  // No handler anywhere now: default handling, on every node.
  ASSERT_TRUE(sender->Send(R"({"message":"anyone?"})").ok());
  EXPECT_EQ(sender->ReadUntil([](const std::string& f) { return f == "anyone?"; }).value_or(""),
            "anyone?");
  EXPECT_EQ(other->Read().value_or(""), "anyone?");
}

TEST_F(ClusterTest, HolderThatDoesNotAnswerInTimeGetsTheSenderRouteBusy) {
  auto backend = Subscribe(nodes_[1], Routes({"/stuck"}));
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 1));
  auto sender = Connect(nodes_[0], "/stuck");
  ASSERT_EQ(Metric(nodes_[0], "sigd_cluster_events_rejected_total"), 0);

  // A frozen node: NATS takes the event but nobody acknowledges it.
  nodes_[1].process->process.Signal(SIGSTOP);
  ASSERT_TRUE(sender->Send(R"({"message":"hello?"})").ok());
  absl::StatusOr<std::string> error = sender->Read(kWait);
  nodes_[1].process->process.Signal(SIGCONT);
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_TRUE(absl::StrContains(*error, "route_busy")) << *error;
  EXPECT_EQ(Metric(nodes_[0], "sigd_cluster_events_rejected_total"), 1);
  EXPECT_EQ(Metric(nodes_[0], R"(sigd_rejected_messages_total{code="route_busy"})"), 1);
  // Events are counted where a subscriber queues them, not where they are
  // offered: the sender's node queued none.
  EXPECT_EQ(Metric(nodes_[0], "sigd_route_events_total"), 0);
}

TEST_F(ClusterTest, EventForAKilledHolderIsRefusedAndNotCountedAsMalformed) {
  auto backend = Subscribe(nodes_[1], Routes({"/gone"}));
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 1));
  auto sender = Connect(nodes_[0], "/gone");
  nodes_[1].process->process.Kill();
  nodes_[1].process.reset();
  // Before node A drops B's route: NATS answers "no responders" for the
  // event, which is B's absence, not a malformed message.
  ASSERT_TRUE(sender->Send(R"({"message":"anyone?"})").ok());
  const std::string error = sender->Read(kWait).value_or("");
  EXPECT_TRUE(absl::StrContains(error, "route_busy")) << error;
  EXPECT_EQ(Metric(nodes_[0], "sigd_cluster_events_rejected_total"), 1);
  EXPECT_EQ(Metric(nodes_[0], "sigd_cluster_dropped_total"), 0);
}

// A node that does not answer in time may hold the client: neither
// "not found" nor "not disconnected" can be said, and it may act later.
TEST_F(ClusterTest, TargetOnANodeThatDoesNotAnswerIsNotReportedUnknown) {
  auto far = Connect(nodes_[1], "/far");
  auto sender = Connect(nodes_[0], "/near");
  const std::string far_id = far->client_id();
  nodes_[1].process->process.Signal(SIGSTOP);
  sigd::v1::SendSignalResponse response;
  grpc::Status sent = Send(nodes_[0], Text("late", "", far_id), &response);
  EXPECT_EQ(sent.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << sent.error_message();
  EXPECT_TRUE(absl::StrContains(sent.error_message(), "did not answer")) << sent.error_message();
  ASSERT_TRUE(
      sender->Send(absl::StrCat(R"({"message":"hi","clientId":")", far_id, "\"}")).ok());
  const std::string refused = sender->Read(kWait).value_or("");
  nodes_[1].process->process.Signal(SIGCONT);
  EXPECT_TRUE(absl::StrContains(refused, "cluster_unavailable")) << refused;
  EXPECT_EQ(Metric(nodes_[0], R"(sigd_rejected_messages_total{code="cluster_unavailable"})"), 1);
  // Caught up, B acts on what it was asked: the signal arrives.
  EXPECT_EQ(far->ReadUntil([](const std::string& f) { return f == "late"; }).value_or(""),
            "late");

  nodes_[1].process->process.Signal(SIGSTOP);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  sigd::v1::DisconnectClientRequest disconnect;
  disconnect.set_client_id(far_id);
  disconnect.set_code(4001);
  sigd::v1::DisconnectClientResponse done;
  grpc::Status closed = nodes_[0].stub->DisconnectClient(&context, disconnect, &done);
  nodes_[1].process->process.Signal(SIGCONT);
  EXPECT_EQ(closed.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << closed.error_message();
  absl::StatusOr<uint16_t> code = far->WaitForClose();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 4001);
}

TEST_F(ClusterTest, MalformedRouteAnnouncementsAreDroppedWhole) {
  auto hello = [](const std::string& instance, const std::string& pattern, uint64_t id) {
    sigd::cluster::Hello h;
    h.set_instance(instance);
    h.set_node_id("intruder");
    sigd::cluster::RouteAnnouncement* route = h.add_routes();
    route->set_id(id);
    route->add_patterns("/fine");
    route->add_patterns(pattern);
    route->set_message(true);
    return h.SerializeAsString();
  };
  PublishRaw({
      {"test.sigd.node.hello", hello("intruder1", "no-leading-slash", 1)},
      {"test.sigd.node.hello", hello("intruder2", "/a/*/b", 1)},
      {"test.sigd.node.hello", hello("intruder3", "/ok", 0)},              // id 0
      {"test.sigd.node.hello", hello("bad.instance", "/ok", 1)},           // not a subject token
      {"test.sigd.node.hello", hello("intruder4", std::string(5000, 'x'), 1)},
  });
  for (Node& node : nodes_) {
    EXPECT_TRUE(WaitFor([&] { return Metric(node, "sigd_cluster_dropped_total") == 5; }, kWait))
        << node.id;
    // Nothing of them was applied: no route, no member.
    EXPECT_EQ(Metric(node, "sigd_cluster_remote_routes"), 0) << node.id;
    sigd::v1::ServerInfo info;
    ASSERT_TRUE(Info(node, &info).ok());
    EXPECT_EQ(info.nodes_size(), 3) << node.id;
  }
  // A browser message on /fine still gets default handling.
  auto sender = Connect(nodes_[0], "/fine");
  ASSERT_TRUE(sender->Send(R"({"message":"ok"})").ok());
  EXPECT_EQ(sender->Read().value_or(""), "ok");
}

// The first hello of node `node_id` seen on NATS that lists a route, read
// with a raw NATS client (text protocol) within `timeout`.
std::optional<sigd::cluster::Hello> ReadHelloWithRoutes(uint16_t nats_port,
                                                        const std::string& node_id,
                                                        std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{0, 200'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(nats_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<sigd::cluster::Hello> found;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string sub = "CONNECT {\"verbose\":false}\r\nSUB test.sigd.node.hello 1\r\n";
    if (write(fd, sub.data(), sub.size()) == static_cast<ssize_t>(sub.size())) {
      std::string buffer;
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (!found && std::chrono::steady_clock::now() < deadline) {
        char chunk[4096];
        const ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
        // Consume complete protocol lines and MSG payloads.
        for (;;) {
          const size_t eol = buffer.find("\r\n");
          if (eol == std::string::npos) break;
          const std::string line = buffer.substr(0, eol);
          if (line.rfind("MSG ", 0) != 0) {
            buffer.erase(0, eol + 2);
            continue;
          }
          const size_t size = std::stoul(line.substr(line.rfind(' ') + 1));
          if (buffer.size() < eol + 2 + size + 2) break;
          sigd::cluster::Hello hello;
          if (hello.ParseFromString(buffer.substr(eol + 2, size)) && hello.node_id() == node_id &&
              hello.routes_size() > 0) {
            found = hello;
          }
          buffer.erase(0, eol + 2 + size + 2);
        }
      }
    }
  }
  close(fd);
  return found;
}

TEST_F(ClusterTest, MalformedRouteEventsAreDroppedBeforeReachingABackend) {
  auto backend = Subscribe(nodes_[1], Routes({"/guarded"}));
  std::optional<sigd::cluster::Hello> hello = ReadHelloWithRoutes(nats_.port(), "node-b", kWait);
  ASSERT_TRUE(hello.has_value());
  const std::string subject = absl::StrCat("test.sigd.event.", hello->instance());
  auto event = [&](sigd::v1::EventKind kind, const std::string& route) {
    sigd::cluster::Request request;
    request.set_instance("intruder");
    request.mutable_route_event()->set_route_id(hello->routes(0).id());
    request.mutable_route_event()->mutable_event()->set_kind(kind);
    request.mutable_route_event()->mutable_event()->set_route(route);
    return request.SerializeAsString();
  };
  const double dropped_before = Metric(nodes_[1], "sigd_cluster_dropped_total");
  PublishRaw({
      {absl::StrCat(subject, " test.sigd.reply.x.1"), event(sigd::v1::SUBSCRIBED, "/guarded")},
      {absl::StrCat(subject, " test.sigd.reply.x.2"), event(sigd::v1::MESSAGE, "")},
      {absl::StrCat(subject, " test.sigd.reply.x.3"),
       event(sigd::v1::MESSAGE, std::string(5000, '/'))},
      {absl::StrCat(subject, " elsewhere.reply"), event(sigd::v1::MESSAGE, "/guarded")},
      {subject, "\xff\x01garbage"},
  });
  EXPECT_TRUE(WaitFor(
      [&] { return Metric(nodes_[1], "sigd_cluster_dropped_total") == dropped_before + 5; },
      kWait));
  // The backend's next event is a real browser's message: none of those got through.
  ASSERT_TRUE(WaitRemoteRoutes(nodes_[0], 1));
  auto sender = Connect(nodes_[0], "/guarded");
  ASSERT_TRUE(sender->Send(R"({"message":"real"})").ok());
  std::optional<sigd::v1::SignalEvent> next = backend->Next(kWait);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->data().message_json(), R"("real")");
}

// Wrong NATS credentials are a setting to fix: the start stops with NATS's
// reason instead of running as a lone node that says NATS is unreachable.
TEST(ClusterSettings, CredentialsNatsRefusesStopTheStart) {
  ASSERT_TRUE(NatsServer::Available());
  NatsServer nats;
  ASSERT_TRUE(nats.Start(-1, {"--auth", "s3cret"}).ok());
  ProcessResult refused = RunProcess({SIGD_BINARY, "--listen", "127.0.0.1:0", "--grpc-listen",
                                      "127.0.0.1:0", "--nats", nats.url(), "--nats-token",
                                      "wrong"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "refused this node")) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "--nats-token")) << refused.err;

  absl::StatusOr<std::unique_ptr<SigdProcess>> admitted =
      StartSigd({"--nats", nats.url(), "--nats-token", "s3cret"});
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_TRUE((*admitted)->process.WaitForOutput(std::regex("connected to NATS"), kWait));
}

// A NATS whose max_payload is below --max-message-bytes: said at connect,
// and a signal over it is reported as too large, not as NATS being down.
TEST(ClusterSettings, SignalOverNatsMaxPayloadIsReportedAsSuch) {
  ASSERT_TRUE(NatsServer::Available());
  TempDir dir;
  const std::string conf = (dir.path() / "nats.conf").string();
  std::ofstream(conf) << "max_payload: 8192\n";
  NatsServer nats;
  ASSERT_TRUE(nats.Start(-1, {"-c", conf}).ok());
  std::vector<std::unique_ptr<SigdProcess>> nodes;
  std::vector<std::unique_ptr<sigd::v1::SignalService::Stub>> stubs;
  for (const char* id : {"small-a", "small-b"}) {
    absl::StatusOr<std::unique_ptr<SigdProcess>> node =
        StartSigd({"--nats", nats.url(), "--node-id", id});
    ASSERT_TRUE(node.ok()) << node.status();
    EXPECT_TRUE((*node)->process.WaitForOutput(std::regex("max_payload \\(8192 bytes\\) is below"),
                                               kWait));
    stubs.push_back(sigd::v1::SignalService::NewStub(
        grpc::CreateChannel((*node)->grpc_target(), grpc::InsecureChannelCredentials())));
    nodes.push_back(*std::move(node));
  }
  WsClient far;
  ASSERT_TRUE(far.Connect(nodes[1]->ws_port, "/").ok());
  sigd::v1::SendSignalRequest request;
  request.set_text(std::string(20000, 'x'));
  request.set_client_id(far.client_id());
  grpc::Status status;
  // Until node A knows node B (before that, the id is simply not found).
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    sigd::v1::SendSignalResponse response;
    status = stubs[0]->SendSignal(&context, request, &response);
    return status.error_code() != grpc::StatusCode::NOT_FOUND;
  }, kWait));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "max_payload")) << status.error_message();
  EXPECT_TRUE(nodes[0]->process.WaitForOutput(std::regex("over the NATS server's max_payload"),
                                              kWait));
}

}  // namespace
}  // namespace sigd::testing
