// HttpServer: asynchronous HTTP/1.1 (Boost.Beast on Asio, a few I/O threads) with routing,
// keep-alive, server-sent events, limits, timeouts and graceful drain. It knows nothing of the
// engine: handlers get a Request and a Responder that may be completed from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace minke {

struct HttpServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                      // 0: an ephemeral port; see HttpServer::port()
  int io_threads = 2;                     // connections are multiplexed; no thread per client
  size_t max_header_bytes = 16 * 1024;    // request line + headers; over it: 431 and close
  size_t max_body_bytes = 32u << 20;      // over it: 413 and close
  std::chrono::milliseconds read_timeout{30'000};   // a whole request (headers + body) must
                                                    // arrive within this, else the socket closes
  std::chrono::milliseconds idle_timeout{75'000};   // keep-alive wait for the next request
  // Slow readers. Bytes queued on a connection but not yet taken by its socket (the unwritten
  // part of the write in flight included) may not exceed this: past it the client is treated
  // as gone and the connection closes like a client disconnect (on_disconnect fires, later
  // sends return false). One message queued while nothing is pending is always taken, so a
  // plain response larger than this is still sent whole.
  size_t max_pending_write_bytes = 8u << 20;
  // A write that takes no bytes for this long (the client stopped reading and the kernel
  // buffers are full) closes the connection likewise. Progress means the kernel's send buffer
  // took bytes; it wakes the writer only once a good part of it has drained, so a client that
  // reads but only a trickle can time out too.
  std::chrono::milliseconds write_timeout{30'000};
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/v1/models?x=1"
  int version = 11;    // 10 or 11
  HttpHeaders headers;
  std::string body;

  std::string_view path() const;  // target without the query string
  // The first header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// A server-sent-events stream. All methods are thread-safe and never block: bytes are queued
// on the connection's strand in call order. After close() or a client disconnect, sends are
// dropped silently (they return false).
class SseStream {
 public:
  virtual ~SseStream() = default;
  // Sends "data: <line>\n" for each line of `data`, then "\n".
  virtual bool send_event(std::string_view data) = 0;
  // Sends raw SSE text as is (e.g. ": ping\n\n" or "event: x\ndata: y\n\n").
  virtual bool send_raw(std::string text) = 0;
  // Ends the response (the terminating chunk); the connection may then serve the next request.
  virtual void close() = 0;
  // Bytes sent on this stream (and the rest of its connection's queue) that the socket has not
  // taken yet; 0 once closed or disconnected. A producer that keeps this well below
  // HttpServerConfig::max_pending_write_bytes is never cut off as a slow client.
  virtual size_t buffered_bytes() const { return 0; }
};

namespace http_detail {
struct ResponderRef;
}

// The answer to one request; cheap to copy, thread-safe. Exactly one of send() or start_sse()
// takes effect; later calls return false / nullptr. If every copy of the Responder (and of its
// SseStream) is dropped without completing, the server answers 500 (or ends the stream).
class HttpResponder {
 public:
  explicit HttpResponder(std::shared_ptr<http_detail::ResponderRef> ref) : ref_(std::move(ref)) {}

  // Content-Length, Transfer-Encoding and Connection are managed by the server.
  bool send(int status, HttpHeaders headers, std::string body);
  bool send_json(int status, std::string json_body);
  // OpenAI's error shape: {"error": {"message", "type", "param", "code"}}.
  bool send_error(int status, std::string_view message, std::string_view type,
                  std::string_view code = {}, std::string_view param = {});
  // Starts a chunked text/event-stream response; nullptr if already answered or disconnected.
  std::shared_ptr<SseStream> start_sse(HttpHeaders headers = {});
  // Called once, from an I/O thread, if the connection dies (client gone, stop()) before the
  // response was fully written. Registered after the fact: called at once on this thread.
  void on_disconnect(std::function<void()> callback);
  // True once the client is gone or the server closed the connection.
  bool disconnected() const;

 private:
  std::shared_ptr<http_detail::ResponderRef> ref_;
};

// Runs on an I/O thread: must not block (hand work to another thread and answer later).
using HttpHandler = std::function<void(HttpRequest request, HttpResponder responder)>;

struct HttpServerStats {
  int64_t connections_accepted = 0;
  int64_t connections_open = 0;
  int64_t requests = 0;             // parsed requests, routed or not
  int64_t responses_in_flight = 0;  // routed requests whose response is not fully written
  int64_t active_streams = 0;       // SSE responses in progress
  int64_t client_disconnects = 0;   // in-flight responses aborted by a closed connection
  int64_t rejected = 0;             // answered by the server itself (400/404/405/413/431/503)
  int64_t slow_client_closes = 0;   // connections closed because the client did not read:
                                    // over max_pending_write_bytes or past write_timeout
  int64_t write_timeouts = 0;       // of those, closed by write_timeout
};

// {"error": {"message": ..., "type": ..., "param": ..., "code": ...}} (empty -> null).
std::string http_error_json(std::string_view message, std::string_view type,
                            std::string_view code = {}, std::string_view param = {});

class HttpServer {
 public:
  explicit HttpServer(HttpServerConfig config);
  ~HttpServer();  // stop(0s)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register before start(). `path` matches the target without its query string, exactly.
  void route(std::string method, std::string path, HttpHandler handler);

  // Binds, listens and starts the I/O threads. Errors: bad host, port in use, ...
  Status start();
  uint16_t port() const;  // the bound port (valid after start())

  // Stops accepting connections; requests arriving on kept-alive connections get 503 and
  // idle connections close. In-flight responses continue.
  void begin_drain();
  // begin_drain(), waits up to `timeout` for in-flight responses, closes whatever remains
  // (firing their on_disconnect hooks) and joins the I/O threads. Idempotent.
  void stop(std::chrono::milliseconds timeout);

  int64_t active_streams() const;
  HttpServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace minke
