// sigd_relay_floor: what this machine's scheduler allows a round trip with
// route-rtt's shape to cost when nothing is done along the way.
//
// route-rtt's path crosses four sockets and, inside sigd, one thread
// hand-off: client -> sigd's I/O thread -> backend -> sigd's gRPC thread ->
// (post) sigd's I/O thread -> client. This program builds that path from
// bare sockets (three processes, 64-byte messages, no parsing, no gRPC) and
// measures its round trip at a fixed rate, so a route-rtt figure can be read
// against the floor of the machine it ran on. Shapes, one JSON line each:
//
//   pingpong  client <-> echo process (two hops)
//   posted    route-rtt's shape, with the hand-off through an eventfd
//   direct    the same without the hand-off (the relay's second thread
//             answers the client itself)
//   single    the same with one relay thread polling both sides: the least
//             any server with a backend process in the loop can do
//
// Usage: sigd_relay_floor [--rate 100] [--count 1000] [--run N]
// (loopback only; --run is copied into the report, as the generator's is)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr size_t kMessage = 64;

double NowUs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

void Die(const char* what) {
  perror(what);
  _exit(1);
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// A listening socket on 127.0.0.1, port 0; sets *port.
int Listen(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = Loopback(0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4) != 0) {
    Die("listen");
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = Loopback(port);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("connect");
  NoDelay(fd);
  return fd;
}

int Accept(int listener) {
  int fd = accept(listener, nullptr, nullptr);
  if (fd < 0) Die("accept");
  NoDelay(fd);
  return fd;
}

// Reads exactly one message; exits the process when the peer is gone.
void ReadMessage(int fd, char* buf) {
  size_t got = 0;
  while (got < kMessage) {
    ssize_t n = read(fd, buf + got, kMessage - got);
    if (n <= 0) _exit(0);
    got += static_cast<size_t>(n);
  }
}

void WriteMessage(int fd, const char* buf) {
  if (write(fd, buf, kMessage) != static_cast<ssize_t>(kMessage)) _exit(0);
}

// The relay ("sigd"): an I/O thread that forwards the client's message to
// the backend and, when posted to, answers the client; an answer thread that
// reads the backend's answer and posts it (or, direct, answers itself).
struct Relay {
  int client, to_backend, from_backend, posted;
  bool direct;
};

void* RelayIo(void* arg) {
  auto* r = static_cast<Relay*>(arg);
  int ep = epoll_create1(0);
  for (int fd : {r->client, r->posted}) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  }
  char buf[kMessage] = {};
  for (;;) {
    epoll_event ready[2];
    int n = epoll_wait(ep, ready, 2, -1);
    for (int i = 0; i < n; ++i) {
      if (ready[i].data.fd == r->client) {
        ReadMessage(r->client, buf);
        WriteMessage(r->to_backend, buf);
      } else {
        uint64_t count;
        if (read(r->posted, &count, sizeof count) != sizeof count) _exit(0);
        for (uint64_t k = 0; k < count; ++k) WriteMessage(r->client, buf);
      }
    }
  }
}

void* RelayAnswer(void* arg) {
  auto* r = static_cast<Relay*>(arg);
  char buf[kMessage];
  for (;;) {
    ReadMessage(r->from_backend, buf);
    if (r->direct) {
      WriteMessage(r->client, buf);
    } else {
      uint64_t one = 1;
      if (write(r->posted, &one, sizeof one) != sizeof one) _exit(0);
    }
  }
}

// One thread for both sides: the client's message goes to the backend, the
// backend's answer to the client.
void* RelaySingle(void* arg) {
  auto* r = static_cast<Relay*>(arg);
  int ep = epoll_create1(0);
  for (int fd : {r->client, r->from_backend}) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  }
  char buf[kMessage];
  for (;;) {
    epoll_event ready[2];
    int n = epoll_wait(ep, ready, 2, -1);
    for (int i = 0; i < n; ++i) {
      const bool from_client = ready[i].data.fd == r->client;
      ReadMessage(from_client ? r->client : r->from_backend, buf);
      WriteMessage(from_client ? r->to_backend : r->client, buf);
    }
  }
}

enum class Shape { kPosted, kDirect, kSingle };

struct Result {
  double p50, p90, p99, p999;
};

// Runs `count` round trips at `rate` per second on the connected client.
Result Measure(int client, double rate, int count) {
  std::vector<double> rtt;
  rtt.reserve(static_cast<size_t>(count));
  char buf[kMessage] = {};
  const double start = NowUs();
  for (int i = 0; i < count; ++i) {
    const double due = start + (i + 1) * 1e6 / rate;
    for (double now = NowUs(); now < due; now = NowUs()) {
      const double wait = due - now;
      timespec t{static_cast<time_t>(wait / 1e6), static_cast<long>(std::fmod(wait, 1e6) * 1e3)};
      nanosleep(&t, nullptr);
    }
    const double t0 = NowUs();
    WriteMessage(client, buf);
    ReadMessage(client, buf);
    rtt.push_back(NowUs() - t0);
  }
  std::sort(rtt.begin(), rtt.end());
  auto at = [&](double q) { return rtt[std::min(rtt.size() - 1, static_cast<size_t>(q * rtt.size()))]; };
  return {at(0.5), at(0.9), at(0.99), at(0.999)};
}

Result PingPong(double rate, int count) {
  uint16_t port;
  int listener = Listen(&port);
  pid_t echo = fork();
  if (echo == 0) {
    int fd = Accept(listener);
    char buf[kMessage];
    for (;;) {
      ReadMessage(fd, buf);
      WriteMessage(fd, buf);
    }
  }
  int client = Connect(port);
  Result r = Measure(client, rate, count);
  close(client);
  close(listener);
  kill(echo, SIGKILL);
  waitpid(echo, nullptr, 0);
  return r;
}

Result RouteShape(double rate, int count, Shape shape) {
  uint16_t client_port, out_port, back_port;
  int client_listener = Listen(&client_port);
  int out_listener = Listen(&out_port);
  int back_listener = Listen(&back_port);
  pid_t backend = fork();
  if (backend == 0) {  // reads an event, answers on its other connection
    int in = Connect(out_port);
    int out = Connect(back_port);
    char buf[kMessage];
    for (;;) {
      ReadMessage(in, buf);
      WriteMessage(out, buf);
    }
  }
  pid_t relay = fork();
  if (relay == 0) {
    static Relay r;
    r.client = Accept(client_listener);
    r.to_backend = Accept(out_listener);
    r.from_backend = Accept(back_listener);
    r.posted = eventfd(0, 0);
    r.direct = shape == Shape::kDirect;
    if (shape == Shape::kSingle) RelaySingle(&r);  // returns only by _exit
    pthread_t io, answer;
    pthread_create(&io, nullptr, RelayIo, &r);
    pthread_create(&answer, nullptr, RelayAnswer, &r);
    pthread_join(io, nullptr);
    _exit(0);
  }
  int client = Connect(client_port);
  Result r = Measure(client, rate, count);
  close(client);
  for (int fd : {client_listener, out_listener, back_listener}) close(fd);
  for (pid_t pid : {backend, relay}) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  return r;
}

void Print(const char* shape, double rate, int count, int run, const Result& r) {
  std::printf(
      "{\"scenario\":\"route-floor\",\"shape\":\"%s\",\"run\":%d,\"ok\":true,\"rate\":%.0f,"
      "\"count\":%d,\"rtt_us\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f}}\n",
      shape, run, rate, count, r.p50, r.p90, r.p99, r.p999);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  double rate = 100;
  int count = 1000;
  int run = 1;
  bool usage = argc % 2 == 0;  // options come in pairs
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rate") == 0) {
      rate = std::atof(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--count") == 0) {
      count = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--run") == 0) {
      run = std::atoi(argv[i + 1]);
    } else {
      usage = true;
    }
  }
  if (rate <= 0 || rate > 10000 || count < 10 || count > 100000 || usage) {
    std::fprintf(stderr, "usage: sigd_relay_floor [--rate 1..10000] [--count 10..100000] [--run N]\n");
    return 2;
  }
  Print("pingpong", rate, count, run, PingPong(rate, count));
  Print("posted", rate, count, run, RouteShape(rate, count, Shape::kPosted));
  Print("direct", rate, count, run, RouteShape(rate, count, Shape::kDirect));
  Print("single", rate, count, run, RouteShape(rate, count, Shape::kSingle));
  return 0;
}
