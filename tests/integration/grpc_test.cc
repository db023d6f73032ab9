// The control plane, end to end: real gRPC stubs and real WebSocket clients
// against an in-process server.
#include <cctype>
#include <map>
#include <set>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"
#include "tests/support/ws_client.h"

namespace sigd::testing {
namespace {

sigd::v1::SendSignalRequest JsonSignal(std::string json_text, std::string path = {}) {
  sigd::v1::SendSignalRequest r;
  r.set_json(std::move(json_text));
  r.set_path(std::move(path));
  return r;
}

grpc::Status ListClients(TestServer& server, const sigd::v1::ListClientsRequest& request,
                         sigd::v1::ListClientsResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  return server.Stub()->ListClients(&context, request, response);
}

TEST(SendSignal, JsonStringGoesOutRawAndOtherJsonCompact) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(server.Send(JsonSignal(R"("hi there")")).ok());
  EXPECT_EQ(*c.Read(), "hi there");
  ASSERT_TRUE(server.Send(JsonSignal(R"( { "a" : 1 , "b" : [ true ] } )")).ok());
  EXPECT_EQ(*c.Read(), R"({"a":1,"b":[true]})");
}

TEST(SendSignal, StructuredDataGoesOutAsJson) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/").ok());
  sigd::v1::SendSignalRequest r;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({"x":[1,"two"]})",
                                                          r.mutable_data())
                  .ok());
  ASSERT_TRUE(server.Send(r).ok());
  EXPECT_EQ(*c.Read(), R"({"x":[1,"two"]})");
  r.mutable_data()->set_string_value("plain");
  ASSERT_TRUE(server.Send(r).ok());
  EXPECT_EQ(*c.Read(), "plain");
}

TEST(SendSignal, TextGoesOutVerbatim) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(server.Send(TextSignal("{not: json}")).ok());
  EXPECT_EQ(*c.Read(), "{not: json}");
}

sigd::v1::SendSignalRequest BinarySignal(std::string bytes, std::string path = {},
                                         std::string client_id = {}) {
  sigd::v1::SendSignalRequest r;
  r.set_binary(std::move(bytes));
  r.set_path(std::move(path));
  r.set_client_id(std::move(client_id));
  return r;
}

TEST(SendSignal, BinaryGoesOutAsOneBinaryFrameWithTheExactBytes) {
  TestServer server([](config::Config& c) { c.max_message_bytes = 2 * 1024 * 1024; });
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/b").ok());
  const std::string small("\x00\x01\xff\x00{\"not\":\"text\"}\xc3\x28", 20);

  // To everyone.
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(server.Send(BinarySignal(small), &response).ok());
  EXPECT_EQ(response.delivered(), 2u);
  for (WsClient* c : {&a, &b}) {
    auto frame = c->Read();
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(*frame, small);
    EXPECT_TRUE(c->last_was_binary());
  }
  // To one path: only zero bytes.
  const std::string zeros(1000, '\0');
  ASSERT_TRUE(server.Send(BinarySignal(zeros, "/b"), &response).ok());
  EXPECT_EQ(response.delivered(), 1u);
  EXPECT_EQ(*b.Read(), zeros);
  EXPECT_TRUE(b.last_was_binary());
  // To one client: 1 MiB of every byte value.
  std::string big(1024 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 9));
  ASSERT_TRUE(server.Send(BinarySignal(big, "", a.client_id()), &response).ok());
  EXPECT_EQ(response.delivered(), 1u);
  auto frame = a.Read();
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_TRUE(*frame == big) << "1 MiB binary signal arrived altered, size " << frame->size();
  EXPECT_TRUE(a.last_was_binary());
  // An empty binary value is still a (zero-length) binary frame.
  ASSERT_TRUE(server.Send(BinarySignal(""), &response).ok());
  EXPECT_EQ(*a.Read(), "");
  EXPECT_TRUE(a.last_was_binary());
  EXPECT_EQ(*b.Read(), "");
  // Text signals after binary ones are text frames again.
  ASSERT_TRUE(server.Send(TextSignal("text again")).ok());
  EXPECT_EQ(*a.Read(), "text again");
  EXPECT_FALSE(a.last_was_binary());
  EXPECT_EQ(*b.Read(), "text again");
  EXPECT_FALSE(b.last_was_binary());
}

TEST(SendSignal, BinaryToAClientThatIsNotThereIsNotFound) {
  TestServer server;
  EXPECT_EQ(server.Send(BinarySignal("x", "", "nobody")).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(SendSignal, InvalidJsonIsInvalidArgument) {
  TestServer server;
  EXPECT_EQ(server.Send(JsonSignal("{oops")).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server.Send(sigd::v1::SendSignalRequest()).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(SendSignal, UnknownClientIdIsNotFound) {
  TestServer server;
  EXPECT_EQ(server.Send(TextSignal("x", "", "0123")).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(SendSignal, DeliveredCountsClientsInScope) {
  TestServer server;
  WsClient a1, a2, b;
  ASSERT_TRUE(a1.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(a2.Connect(server.ws_port(), "/a").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/b").ok());
  sigd::v1::SendSignalResponse response;
  ASSERT_TRUE(server.Send(TextSignal("all"), &response).ok());
  EXPECT_EQ(response.delivered(), 3u);
  ASSERT_TRUE(server.Send(TextSignal("a", "/a"), &response).ok());
  EXPECT_EQ(response.delivered(), 2u);
  ASSERT_TRUE(server.Send(TextSignal("none", "/nobody"), &response).ok());
  EXPECT_EQ(response.delivered(), 0u);
  ASSERT_TRUE(server.Send(TextSignal("one", "", b.client_id()), &response).ok());
  EXPECT_EQ(response.delivered(), 1u);
  // With a path as well, both must match.
  ASSERT_TRUE(server.Send(TextSignal("miss", "/a", b.client_id()), &response).ok());
  EXPECT_EQ(response.delivered(), 0u);
  EXPECT_EQ(*a1.Read(), "all");
  EXPECT_EQ(*a1.Read(), "a");
  EXPECT_EQ(*b.Read(), "all");
  EXPECT_EQ(*b.Read(), "one");
}

// Clients that send the same User-Agent, Origin or query share one stored
// copy of it (util::Interner): each must still be described by what it sent,
// including a client that left the details out and one that comes after the
// others have gone.
TEST(ListClients, DescribesClientsWhoseDetailsPartlyCoincide) {
  TestServer server;
  const std::vector<std::pair<std::string, std::string>> browser = {
      {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"}, {"Origin", "http://a.test"}};
  auto connect = [&](WsClient& c, const std::string& target,
                     std::vector<std::pair<std::string, std::string>> headers) {
    ASSERT_TRUE(c.Connect(server.ws_port(), target, std::move(headers)).ok());
  };
  auto described = [&] {
    sigd::v1::ListClientsResponse response;
    EXPECT_TRUE(ListClients(server, {}, &response).ok());
    std::map<std::string, sigd::v1::Client> by_id;
    for (const sigd::v1::Client& c : response.clients()) by_id[c.id()] = c;
    return by_id;
  };
  {
    WsClient a, b, c, d, e, f;
    connect(a, "/r?lang=en&x=1", browser);
    connect(b, "/r?lang=en&x=1", browser);
    connect(c, "/r?lang=en1&x=", {{"User-Agent", "curl/8.0"}, {"Origin", "http://b.test"}});
    connect(d, "/r", {{"User-Agent", ""}});
    // One pair whose value looks like two pairs, and those two pairs.
    connect(e, "/r?a=b%26c%3Dd", {});
    connect(f, "/r?a=b&c=d", {});
    std::map<std::string, sigd::v1::Client> by_id = described();
    ASSERT_EQ(by_id.size(), 6u);
    for (WsClient* same : {&a, &b}) {
      const sigd::v1::Client& client = by_id[same->client_id()];
      EXPECT_EQ(client.user_agent(), "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0");
      EXPECT_EQ(client.origin(), "http://a.test");
      EXPECT_EQ(client.query_size(), 2);
      EXPECT_EQ(client.query().at("lang"), "en");
      EXPECT_EQ(client.query().at("x"), "1");
    }
    const sigd::v1::Client& other = by_id[c.client_id()];
    EXPECT_EQ(other.user_agent(), "curl/8.0");
    EXPECT_EQ(other.origin(), "http://b.test");
    EXPECT_EQ(other.query_size(), 2);
    EXPECT_EQ(other.query().at("lang"), "en1");
    EXPECT_EQ(other.query().at("x"), "");
    const sigd::v1::Client& bare = by_id[d.client_id()];
    EXPECT_EQ(bare.user_agent(), "");
    EXPECT_EQ(bare.origin(), "");
    EXPECT_EQ(bare.query_size(), 0);
    const sigd::v1::Client& one_pair = by_id[e.client_id()];
    EXPECT_EQ(one_pair.query_size(), 1);
    EXPECT_EQ(one_pair.query().at("a"), "b&c=d");
    const sigd::v1::Client& two_pairs = by_id[f.client_id()];
    EXPECT_EQ(two_pairs.query_size(), 2);
    EXPECT_EQ(two_pairs.query().at("a"), "b");
    EXPECT_EQ(two_pairs.query().at("c"), "d");
  }
  ASSERT_TRUE(WaitFor([&] { return described().empty(); }));
  WsClient later;
  connect(later, "/r?lang=en&x=1", browser);
  const sigd::v1::Client client = described()[later.client_id()];
  EXPECT_EQ(client.user_agent(), "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0");
  EXPECT_EQ(client.query().at("x"), "1");
}

TEST(ListClients, DescribesEachClient) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/room?welcome=1&lang=en",
                        {{"User-Agent", "test-agent/1"}, {"Origin", "http://example.test"}})
                  .ok());
  ASSERT_TRUE(c.Read().ok());  // welcome
  ASSERT_TRUE(c.Send(R"({"message":"hi","direct":true})").ok());
  ASSERT_EQ(*c.Read(), "hi");
  sigd::v1::ListClientsResponse response;
  ASSERT_TRUE(ListClients(server, {}, &response).ok());
  ASSERT_EQ(response.clients_size(), 1);
  const sigd::v1::Client& client = response.clients(0);
  EXPECT_EQ(client.id(), c.client_id());
  EXPECT_EQ(client.path(), "/room");
  EXPECT_TRUE(client.remote_address().starts_with("127.0.0.1:"));
  EXPECT_EQ(client.protocol(), sigd::v1::WS);
  EXPECT_GT(client.connected_at().seconds(), 1700000000);
  EXPECT_EQ(client.query().at("lang"), "en");
  EXPECT_EQ(client.user_agent(), "test-agent/1");
  EXPECT_EQ(client.origin(), "http://example.test");
  EXPECT_EQ(client.messages_in(), 1u);
  EXPECT_TRUE(WaitFor([&] {
    sigd::v1::ListClientsResponse r;
    return ListClients(server, {}, &r).ok() && r.clients(0).messages_out() == 2;
  }));
  EXPECT_EQ(client.node(), "test-node");
  EXPECT_EQ(response.total(), 1u);
}

TEST(ListClients, PagesCoverEveryClientOnce) {
  TestServer server;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(clients.back()->Connect(server.ws_port(), i < 3 ? "/x" : "/y").ok());
  }
  std::set<std::string> seen;
  sigd::v1::ListClientsRequest request;
  request.set_page_size(2);
  int pages = 0;
  do {
    sigd::v1::ListClientsResponse response;
    ASSERT_TRUE(ListClients(server, request, &response).ok());
    EXPECT_EQ(response.total(), 5u);
    EXPECT_LE(response.clients_size(), 2);
    for (const auto& c : response.clients()) EXPECT_TRUE(seen.insert(c.id()).second);
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(pages, 3);

  sigd::v1::ListClientsRequest by_path;
  by_path.set_path("/x");
  sigd::v1::ListClientsResponse response;
  ASSERT_TRUE(ListClients(server, by_path, &response).ok());
  EXPECT_EQ(response.clients_size(), 3);
  EXPECT_EQ(response.total(), 3u);
}

// Tokens are keyset positions: one whose client has left still continues
// after it, and anything ListClients could not have handed out is refused
// rather than answered with the first page or an empty one.
TEST(ListClients, APageTokenThatIsNotAClientIdIsInvalid) {
  TestServer server;
  auto leaver = std::make_unique<WsClient>();
  WsClient stayer;
  ASSERT_TRUE(leaver->Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(stayer.Connect(server.ws_port(), "/").ok());
  const std::string left = leaver->client_id();
  leaver.reset();
  ASSERT_TRUE(WaitFor([&] {
    sigd::v1::ListClientsResponse r;
    return ListClients(server, {}, &r).ok() && r.total() == 1;
  }));
  sigd::v1::ListClientsRequest request;
  request.set_page_token(left);
  sigd::v1::ListClientsResponse response;
  ASSERT_TRUE(ListClients(server, request, &response).ok());
  EXPECT_EQ(response.clients_size(), stayer.client_id() > left ? 1 : 0);

  std::string upper = left;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& token : {std::string("garbage"), upper, left + "0"}) {
    request.set_page_token(token);
    grpc::Status status = ListClients(server, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_NE(status.error_message().find("page_token"), std::string::npos) << token;
  }
}

TEST(DisconnectClient, ClosesWithTheGivenCode) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/").ok());
  sigd::v1::DisconnectClientRequest request;
  request.set_client_id(c.client_id());
  request.set_code(4001);
  request.set_reason("bye");
  sigd::v1::DisconnectClientResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(server.Stub()->DisconnectClient(&context, request, &response).ok());
  EXPECT_TRUE(response.disconnected());
  auto code = c.WaitForClose();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 4001);
  EXPECT_TRUE(WaitFor([&] { return server.server().hub().size() == 0; }));
}

TEST(DisconnectClient, DefaultCodeIsNormalClosure) {
  TestServer server;
  WsClient c;
  ASSERT_TRUE(c.Connect(server.ws_port(), "/").ok());
  sigd::v1::DisconnectClientRequest request;
  request.set_client_id(c.client_id());
  sigd::v1::DisconnectClientResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(server.Stub()->DisconnectClient(&context, request, &response).ok());
  EXPECT_EQ(*c.WaitForClose(), 1000);
}

TEST(DisconnectClient, UnknownIdAndBadCode) {
  TestServer server;
  sigd::v1::DisconnectClientRequest request;
  request.set_client_id("nobody");
  sigd::v1::DisconnectClientResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(server.Stub()->DisconnectClient(&context, request, &response).ok());
    EXPECT_FALSE(response.disconnected());
  }
  request.set_code(1005);  // reserved: never sent on the wire
  grpc::ClientContext context;
  EXPECT_EQ(server.Stub()->DisconnectClient(&context, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(GetServerInfo, ReportsCounts) {
  TestServer server;
  WsClient a, b;
  ASSERT_TRUE(a.Connect(server.ws_port(), "/").ok());
  ASSERT_TRUE(b.Connect(server.ws_port(), "/").ok());
  Subscriber sub(server.channel(), Routes({"/r"}));
  ASSERT_TRUE(sub.WaitSubscribed());
  sigd::v1::ServerInfo info;
  grpc::ClientContext context;
  ASSERT_TRUE(server.Stub()->GetServerInfo(&context, {}, &info).ok());
  EXPECT_EQ(info.version(), SIGD_VERSION);
  EXPECT_EQ(info.node_id(), "test-node");
  EXPECT_EQ(info.clients(), 2u);
  EXPECT_EQ(info.subscribers(), 1u);
}

}  // namespace
}  // namespace sigd::testing
