// MockServer: an OpenAI-compatible streaming server with scripted timing, on minke's HttpServer
// (ephemeral port), for testing and self-benchmarking the benchmark client. One timer thread
// (or a few, each with its own streams) drives every stream from a heap of due events; handlers
// never block. Serves POST /v1/completions and /v1/chat/completions (SSE when "stream": true,
// else one JSON body), GET /v1/models and POST /tokenize (whitespace tokens).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"

namespace minke::bench {

enum class MockFault {
  kNone,
  kHttp500,     // answer 500 with an OpenAI error body at once
  kDrop,        // close the connection after fault_after_tokens tokens (no terminating chunk)
  kErrorEvent,  // after fault_after_tokens tokens: data: {"error": ...}, then [DONE]
  kNoDone,      // end the stream normally but without data: [DONE]
};

struct MockServerOptions {
  double ttft = 0;        // seconds from the request's arrival to its first token
  double itl = 0;         // seconds between tokens
  int64_t tokens = 0;     // tokens per request; 0: the request's max_tokens /
                          // max_completion_tokens (16 when it has neither)
  std::string token_text = "tok ";  // the text of every token chunk
  // The usage chunk (choices [], usage {...}) before [DONE]: when the request asks for it
  // (stream_options.include_usage), or always / never.
  enum class Usage { kAsRequested, kAlways, kNever } usage = Usage::kAsRequested;
  std::string api_key;    // when set, requests without "Authorization: Bearer <key>" get 401
  // The fault of the k-th request (0-based, in arrival order); null: none. Called on I/O
  // threads. A request body may also pick one: "mock_fault": "http_500" | "drop" |
  // "error_event" | "no_done".
  std::function<MockFault(int64_t request_index)> fault;
  int64_t fault_after_tokens = 1;
  int io_threads = 2;
  int timer_threads = 1;  // streams are spread over this many timer threads (one heap each)
  // HttpServer's per-connection write backlog cap. kDrop relies on it: minke's HttpServer has
  // no call that aborts one connection, so a drop queues a padding comment several times
  // this size and the server closes the connection as a slow client's.
  size_t write_cap_bytes = 512 * 1024;
};

struct MockServerStats {
  int64_t requests = 0;        // completions and chat requests received
  int64_t in_flight = 0;       // requests received whose response is not finished
  int64_t peak_in_flight = 0;
  int64_t completed = 0;       // responses finished (any outcome)
  int64_t tokens_sent = 0;     // token chunks sent
  int64_t disconnects = 0;     // streams whose client went away first
  double max_lag_s = 0;        // the timer threads' worst lateness: above ~ms it, not the
                               // client, is what limits a benchmark
};

class MockServer {
 public:
  static Result<std::unique_ptr<MockServer>> start(MockServerOptions options);
  ~MockServer();  // stop()
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"
  MockServerStats stats() const;
  // Ends open streams abruptly (their connections close) and joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit MockServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace minke::bench
