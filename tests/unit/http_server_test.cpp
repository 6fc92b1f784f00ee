// HttpServer over loopback with a tiny POSIX-socket client: routing, keep-alive, limits,
// malformed input, SSE from other threads, disconnects, 500 concurrent streams, drain, timeouts,
// clients that stop reading (backlog cap, write timeout) and a fast 20 MB stream.
#include "server/http_server.h"
#include "http_test_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

namespace minke {
namespace {

using namespace std::chrono_literals;
using namespace test_http;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerConfig cfg = {}) {
    server_ = std::make_unique<HttpServer>(cfg);
    server_->route("GET", "/hello", [](HttpRequest req, HttpResponder r) {
      r.send_json(200, nlohmann::json{{"hello", "world"}, {"q", req.target}}.dump());
    });
    server_->route("POST", "/echo", [](HttpRequest req, HttpResponder r) {
      r.send(200, {{"Content-Type", "text/plain"}}, req.body);
    });
    server_->route("GET", "/drop", [](HttpRequest, HttpResponder) {});
    for (auto& [m, p, h] : extra_routes_) server_->route(m, p, h);
    ASSERT_TRUE(server_->start().is_ok());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->stop(1s);
    for (auto& t : threads_) t.join();
  }
  void add_route(std::string m, std::string p, HttpHandler h) {
    extra_routes_.emplace_back(std::move(m), std::move(p), std::move(h));
  }

  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::vector<std::tuple<std::string, std::string, HttpHandler>> extra_routes_;
  std::vector<std::thread> threads_;
};

TEST_F(HttpServerTest, JsonRouteAndKeepAlive) {
  start();
  Conn c(port_);
  ASSERT_GE(c.fd, 0);
  ASSERT_TRUE(send_all(c.fd, get("/hello?x=1")));
  Response r = read_response(c);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["hello"], "world");
  EXPECT_EQ(j["q"], "/hello?x=1");
  for (std::string body : {std::string("one"), std::string(), std::string(100000, 'z')}) {
    ASSERT_TRUE(send_all(c.fd, post("/echo", body)));
    Response e = read_response(c);
    EXPECT_EQ(e.status, 200);
    EXPECT_EQ(e.body, body);
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1);
  EXPECT_EQ(server_->stats().requests, 4);
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowed) {
  start();
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, get("/nope")));
  Response r = read_response(c);
  EXPECT_EQ(r.status, 404);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_TRUE(j["error"].contains("message") && j["error"].contains("type") &&
              j["error"].contains("param") && j["error"].contains("code"));
  ASSERT_TRUE(send_all(c.fd, post("/hello", "x")));  // still alive after the 404
  r = read_response(c);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET");
  EXPECT_TRUE(nlohmann::json::parse(r.body)["error"]["message"].is_string());
}

TEST_F(HttpServerTest, BodyTooLargeIs413) {
  HttpServerConfig cfg;
  cfg.max_body_bytes = 1 << 20;
  start(cfg);
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2097152\r\n\r\n" +
                                 std::string(65536, 'a')));
  Response r = read_response(c);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(nlohmann::json::parse(r.body)["error"]["message"].is_string());
}

TEST_F(HttpServerTest, HugeHeaderIs431) {
  start();
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, get("/hello", "X-Big: " + std::string(20000, 'b') + "\r\n")));
  EXPECT_EQ(read_response(c).status, 431);
}

TEST_F(HttpServerTest, MalformedInputNeverCrashes) {
  start();
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST /echo HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                          "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    Conn c(port_);
    ASSERT_TRUE(send_all(c.fd, bad));
    EXPECT_EQ(read_response(c).status, 400) << bad;
  }
  {  // truncated body, then the client leaves
    Conn c(port_);
    ASSERT_TRUE(send_all(c.fd, "POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));
  }
  {  // disconnect mid-headers
    Conn c(port_);
    ASSERT_TRUE(send_all(c.fd, "GET /hel"));
  }
  Conn c(port_);  // still serving
  ASSERT_TRUE(send_all(c.fd, get("/hello")));
  EXPECT_EQ(read_response(c).status, 200);
  EXPECT_TRUE(eventually([&] { return server_->stats().connections_open == 1; }));
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  start();
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, get("/drop")));
  EXPECT_EQ(read_response(c).status, 500);
  ASSERT_TRUE(send_all(c.fd, get("/hello")));
  EXPECT_EQ(read_response(c).status, 200);
}

TEST_F(HttpServerTest, SseFromAnotherThread) {
  add_route("GET", "/stream", [this](HttpRequest, HttpResponder r) {
    auto sse = r.start_sse();
    threads_.emplace_back([sse] {  // handler runs on an I/O thread; test threads are joined
      for (int i = 0; i < 5; ++i) sse->send_event("{\"i\":" + std::to_string(i) + "}");
      sse->close();
      EXPECT_FALSE(sse->send_event("late"));
    });
  });
  start();
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, get("/stream")));
  Response r = read_response(c);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  std::string expected;
  for (int i = 0; i < 5; ++i) expected += "data: {\"i\":" + std::to_string(i) + "}\n\n";
  EXPECT_EQ(r.body, expected);
  ASSERT_TRUE(send_all(c.fd, get("/hello")));  // keep-alive after a stream
  EXPECT_EQ(read_response(c).status, 200);
  EXPECT_TRUE(eventually([&] { return server_->active_streams() == 0; }));
}

TEST_F(HttpServerTest, ClientDisconnectMidStream) {
  std::promise<void> disconnected;
  std::shared_ptr<SseStream> stream;
  std::mutex mu;
  add_route("GET", "/stream", [&](HttpRequest, HttpResponder r) {
    r.on_disconnect([&] { disconnected.set_value(); });
    auto sse = r.start_sse();
    sse->send_event("first");
    std::lock_guard lock(mu);
    stream = sse;
  });
  start();
  {
    Conn c(port_);
    ASSERT_TRUE(send_all(c.fd, get("/stream")));
    ASSERT_EQ(read_response(c, /*head_only=*/true).status, 200);
    EXPECT_EQ(read_chunk(c), "data: first\n\n");
    EXPECT_EQ(server_->active_streams(), 1);
  }  // the client closes
  ASSERT_EQ(disconnected.get_future().wait_for(10s), std::future_status::ready);
  std::lock_guard lock(mu);
  EXPECT_FALSE(stream->send_event("dropped"));
  stream->close();  // harmless
  EXPECT_EQ(server_->active_streams(), 0);
  EXPECT_EQ(server_->stats().client_disconnects, 1);
}

TEST_F(HttpServerTest, FiveHundredConcurrentStreams) {
  constexpr int kClients = 500;
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 2 * kClients + 64) {
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 2 * kClients + 256);
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < 2 * kClients + 64) GTEST_SKIP() << "not enough file descriptors";
  }
  std::mutex mu;
  std::vector<std::shared_ptr<SseStream>> streams;
  add_route("GET", "/stream", [&](HttpRequest, HttpResponder r) {
    auto sse = r.start_sse();
    sse->send_event("hi");
    std::lock_guard lock(mu);
    streams.push_back(sse);
  });
  HttpServerConfig cfg;
  cfg.io_threads = 2;
  start(cfg);
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < kClients; ++i) {
    conns.push_back(std::make_unique<Conn>(port_));
    ASSERT_GE(conns.back()->fd, 0);
    ASSERT_TRUE(send_all(conns.back()->fd, get("/stream")));
  }
  // Wait (poll) until every client has its first event; all are held open at once.
  const std::string want = "\r\n\r\na\r\ndata: hi\n\n\r\n";
  std::vector<pollfd> fds(kClients);
  int done = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::vector<bool> finished(kClients, false);
  while (done < kClients && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < kClients; ++i) fds[i] = {finished[i] ? -1 : conns[i]->fd, POLLIN, 0};
    ASSERT_GE(::poll(fds.data(), fds.size(), 1000), 0);
    for (int i = 0; i < kClients; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ASSERT_TRUE(conns[i]->fill());
      if (conns[i]->buf.find(want) != std::string::npos) finished[i] = true, ++done;
    }
  }
  EXPECT_EQ(done, kClients);
  EXPECT_EQ(server_->active_streams(), kClients);
  EXPECT_EQ(server_->stats().connections_open, kClients);
  {
    std::lock_guard lock(mu);
    for (auto& s : streams) s->close();
  }
  EXPECT_TRUE(eventually([&] { return server_->active_streams() == 0; }));
  conns.clear();
  EXPECT_TRUE(eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, DrainRejectsNewRequestsAndStopAbortsSlowStreams) {
  std::promise<void> disconnected;
  std::shared_ptr<SseStream> stream;
  add_route("GET", "/slow", [&](HttpRequest, HttpResponder r) {
    r.on_disconnect([&] { disconnected.set_value(); });
    stream = r.start_sse();  // never closed: only stop() ends it
    stream->send_event("started");
  });
  start();
  Conn kept(port_);
  ASSERT_TRUE(send_all(kept.fd, get("/hello")));
  ASSERT_EQ(read_response(kept).status, 200);
  Conn slow(port_);
  ASSERT_TRUE(send_all(slow.fd, get("/slow")));
  ASSERT_EQ(read_response(slow, true).status, 200);
  EXPECT_EQ(read_chunk(slow), "data: started\n\n");

  server_->begin_drain();
  // The kept-alive connection was idle, so it is closed; a request racing that close gets 503.
  if (send_all(kept.fd, get("/hello"))) {
    Response r = read_response(kept);
    EXPECT_TRUE(r.status == 0 || r.status == 503) << r.status;
  }
  EXPECT_TRUE(eventually([&] { return server_->stats().connections_open == 1; }));  // idle one closed

  auto t0 = std::chrono::steady_clock::now();
  server_->stop(200ms);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 190ms);
  EXPECT_EQ(disconnected.get_future().wait_for(0s), std::future_status::ready);
  EXPECT_FALSE(stream->send_event("after stop"));
  EXPECT_EQ(server_->active_streams(), 0);
  EXPECT_EQ(read_chunk(slow), std::nullopt);  // the stream was cut, not ended
  EXPECT_LT(connect_to(port_), 0);
}

TEST_F(HttpServerTest, DrainLetsStreamsFinishThenCloses) {
  std::shared_ptr<SseStream> stream;
  add_route("GET", "/stream", [&](HttpRequest, HttpResponder r) { stream = r.start_sse(); });
  start();
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, get("/stream")));
  ASSERT_EQ(read_response(c, true).status, 200);
  server_->begin_drain();
  stream->send_event("x");
  stream->close();  // an in-flight stream completes normally during the drain...
  EXPECT_EQ(read_chunk(c), "data: x\n\n");
  EXPECT_EQ(read_chunk(c), "");
  EXPECT_EQ(read_chunk(c), std::nullopt);  // ...and then the connection closes
}

TEST_F(HttpServerTest, DrainAnswers503ToRequestsInProgress) {
  start();
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, "GET /hello HTTP/1.1\r\n"));
  ASSERT_TRUE(eventually([&] { return server_->stats().connections_open == 1; }));
  server_->begin_drain();
  ASSERT_TRUE(send_all(c.fd, "Host: t\r\n\r\n"));
  Response r = read_response(c);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["connection"], "close");
}

TEST_F(HttpServerTest, SlowClientIsClosedAfterReadTimeout) {
  HttpServerConfig cfg;
  cfg.read_timeout = 200ms;
  start(cfg);
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, "GET /hello HTTP/1.1\r\nHost: t\r\n"));  // half the headers
  auto t0 = std::chrono::steady_clock::now();
  char byte;
  EXPECT_EQ(::recv(c.fd, &byte, 1, 0), 0);  // EOF, well before the 10 s receive timeout
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
  EXPECT_TRUE(eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, IdleKeepAliveTimesOut) {
  HttpServerConfig cfg;
  cfg.idle_timeout = 200ms;
  start(cfg);
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, get("/hello")));
  ASSERT_EQ(read_response(c).status, 200);
  char byte;
  EXPECT_EQ(::recv(c.fd, &byte, 1, 0), 0);
}

// ---- clients that stop reading ----------------------------------------------------------------

// State shared with a producer thread, which may outlive the test body until TearDown joins it.
struct Flood {
  std::atomic<bool> disconnected{false};  // on_disconnect fired
  std::atomic<bool> refused{false};       // a send returned false
  std::atomic<int64_t> accepted{0};       // bytes of sends that returned true
  std::atomic<int64_t> buffered_after{-1};
};

TEST_F(HttpServerTest, SseClientThatStopsReadingIsCutAtTheBacklogCap) {
  auto flood = std::make_shared<Flood>();
  add_route("GET", "/flood", [this, flood](HttpRequest, HttpResponder r) {
    r.on_disconnect([flood] { flood->disconnected = true; });
    auto sse = r.start_sse();
    threads_.emplace_back([flood, sse] {  // as fast as it can, until the server refuses
      const std::string event(4096, 'x');
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (std::chrono::steady_clock::now() < deadline) {
        if (!sse->send_event(event)) {
          flood->refused = true;
          break;
        }
        flood->accepted += static_cast<int64_t>(event.size());
      }
      flood->buffered_after = static_cast<int64_t>(sse->buffered_bytes());
    });
  });
  HttpServerConfig cfg;
  cfg.max_pending_write_bytes = 64 << 10;
  start(cfg);
  Conn c(port_, /*rcvbuf=*/4096);
  ASSERT_TRUE(send_all(c.fd, get("/flood")));  // ...and never reads

  ASSERT_TRUE(eventually([&] { return flood->refused.load(); }, 20s));
  EXPECT_TRUE(eventually([&] { return flood->disconnected.load(); }));
  EXPECT_TRUE(eventually([&] { return flood->buffered_after.load() == 0; }));
  // Bounded: the kernel buffers (a few MB), the cap and what the strand had queued.
  EXPECT_LT(flood->accepted.load(), int64_t{256} << 20);
  const HttpServerStats st = server_->stats();
  EXPECT_EQ(st.slow_client_closes, 1);
  EXPECT_EQ(st.write_timeouts, 0);
  EXPECT_EQ(st.client_disconnects, 1);
  EXPECT_TRUE(eventually([&] { return server_->active_streams() == 0; }));
  EXPECT_TRUE(eventually([&] { return server_->stats().connections_open == 0; }));

  Conn other(port_);  // the server still serves
  ASSERT_TRUE(send_all(other.fd, get("/hello")));
  EXPECT_EQ(read_response(other).status, 200);
}

TEST_F(HttpServerTest, CapLetsOneLargeResponseThrough) {
  HttpServerConfig cfg;
  cfg.max_pending_write_bytes = 64 << 10;
  start(cfg);
  Conn c(port_);
  const std::string body(1 << 20, 'q');  // 16x the cap, but one message into an empty queue
  for (int i = 0; i < 2; ++i) {          // and keep-alive continues
    ASSERT_TRUE(send_all(c.fd, post("/echo", body)));
    Response r = read_response(c);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, body);
  }
  EXPECT_EQ(server_->stats().slow_client_closes, 0);
}

TEST_F(HttpServerTest, WriteWithoutProgressTimesOut) {
  auto flood = std::make_shared<Flood>();
  add_route("GET", "/big", [flood](HttpRequest, HttpResponder r) {
    r.on_disconnect([flood] { flood->disconnected = true; });
    r.send(200, {{"Content-Type", "application/octet-stream"}}, std::string(32 << 20, 'b'));
  });
  HttpServerConfig cfg;
  cfg.write_timeout = 300ms;  // the cap (8 MiB) never trips: the body is one message
  start(cfg);
  Conn c(port_, /*rcvbuf=*/4096);
  ASSERT_TRUE(send_all(c.fd, get("/big")));  // ...and never reads
  ASSERT_TRUE(eventually([&] { return flood->disconnected.load(); }, 20s));
  const HttpServerStats st = server_->stats();
  EXPECT_EQ(st.write_timeouts, 1);
  EXPECT_EQ(st.slow_client_closes, 1);
  EXPECT_EQ(st.client_disconnects, 1);
  EXPECT_TRUE(eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, StalledSseStreamTimesOut) {
  auto flood = std::make_shared<Flood>();
  std::shared_ptr<SseStream> stream;
  std::mutex mu;
  add_route("GET", "/stream", [&, flood](HttpRequest, HttpResponder r) {
    r.on_disconnect([flood] { flood->disconnected = true; });
    auto sse = r.start_sse();
    for (int i = 0; i < 32; ++i) sse->send_event(std::string(1 << 20, 's'));  // then quiet
    std::lock_guard lock(mu);
    stream = sse;
  });
  HttpServerConfig cfg;
  cfg.write_timeout = 300ms;
  cfg.max_pending_write_bytes = 64u << 20;  // only the timeout can end it
  start(cfg);
  Conn c(port_, /*rcvbuf=*/4096);
  ASSERT_TRUE(send_all(c.fd, get("/stream")));
  ASSERT_TRUE(eventually([&] { return flood->disconnected.load(); }, 20s));
  EXPECT_EQ(server_->stats().write_timeouts, 1);
  std::lock_guard lock(mu);
  ASSERT_TRUE(stream);
  EXPECT_FALSE(stream->send_event("late"));
  EXPECT_EQ(stream->buffered_bytes(), 0u);
  EXPECT_TRUE(eventually([&] { return server_->active_streams() == 0; }));
}

TEST_F(HttpServerTest, FastClientReadsA20MBStreamWithDefaultLimits) {
  constexpr int kEvents = 20'000;
  const std::string payload(1024 - 8, 'e');  // "data: " + payload + "\n\n" = 1 KB
  add_route("GET", "/big", [this, payload](HttpRequest, HttpResponder r) {
    auto sse = r.start_sse();
    threads_.emplace_back([sse, payload] {
      for (int i = 0; i < kEvents; ++i) {
        // A well-behaved producer: keeps its backlog far below the cap (8 MiB).
        while (sse->buffered_bytes() > (1u << 20)) std::this_thread::sleep_for(100us);
        if (!sse->send_event(payload)) return;
      }
      sse->close();
    });
  });
  start();
  Conn c(port_);
  ASSERT_TRUE(send_all(c.fd, get("/big")));
  Response r = read_response(c);
  ASSERT_EQ(r.status, 200);
  const std::string event = "data: " + payload + "\n\n";
  ASSERT_EQ(r.body.size(), event.size() * kEvents);
  EXPECT_EQ(r.body.substr(0, event.size()), event);
  EXPECT_EQ(r.body.substr(r.body.size() - event.size()), event);
  const HttpServerStats st = server_->stats();
  EXPECT_EQ(st.slow_client_closes, 0);
  EXPECT_EQ(st.client_disconnects, 0);
  ASSERT_TRUE(send_all(c.fd, get("/hello")));  // keep-alive after the stream
  EXPECT_EQ(read_response(c).status, 200);
}

TEST(HttpServer, WriteLimitsAreValidated) {
  HttpServerConfig cfg;
  cfg.write_timeout = 0ms;
  EXPECT_FALSE(HttpServer(cfg).start().is_ok());
  cfg = {};
  cfg.max_pending_write_bytes = 0;
  EXPECT_FALSE(HttpServer(cfg).start().is_ok());
}

TEST(HttpServer, PortInUseIsAStatus) {
  HttpServer a({});
  ASSERT_TRUE(a.start().is_ok());
  HttpServerConfig cfg;
  cfg.port = a.port();
  HttpServer b(cfg);
  Status s = b.start();
  EXPECT_FALSE(s.is_ok());
}

}  // namespace
}  // namespace minke
