// The serving benchmark's HTTP client: OpenAI streaming requests sent at scheduled times over
// Boost.Beast on one io_context run by the calling thread (optionally a few I/O threads; never a
// thread per request), at most max_concurrency in flight, each response's SSE parsed
// incrementally into a RequestResult with vLLM's timing rules
// (vllm/benchmarks/lib/endpoint_request_func.py). Plain http only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/request_result.h"
#include "bench/sse_parser.h"
#include "core/status.h"

namespace minke::bench {

struct ClientOptions {
  std::string base_url;         // "http://host[:port][/prefix]"; https is refused
  std::string api_key;          // sent as "Authorization: Bearer <key>" when not empty
  int64_t max_concurrency = 0;  // requests in flight at most; 0: unlimited (vLLM's semaphore)
  std::chrono::seconds timeout{6 * 3600};  // per request, connect to last byte (vLLM: 6 h)
  // 1: everything on the calling thread. n > 1: the calling thread schedules and n threads run
  // the connections (requests dealt round-robin; each thread keeps its own kept-alive pool).
  int io_threads = 1;
  // Which chunks carry tokens (for TTFT, ITL and token_times). false: a chunk whose
  // choices[0] has text (text, delta/message content or reasoning) or tool-call deltas.
  // true: vLLM's rule, any chunk with a non-empty "choices" (counts a chat stream's
  // {"role": "assistant", "content": ""} opener and text-less finish chunks).
  bool count_textless_chunks = false;
};

struct ClientRequest {
  std::string path;        // appended to the base URL's prefix: "/v1/completions"
  std::string body;        // JSON, sent as is (the caller sets "stream": true, stream_options)
  double send_at = 0;      // seconds from the start of run_requests()
  bool chat = false;       // informational: both response shapes are always understood
  int64_t prompt_len = 0;  // copied to the result (usage.prompt_tokens overrides, as in vLLM)
};

// What the client itself spent, for its self-benchmark and the report.
struct ClientStats {
  double wall_s = 0;              // from the schedule's origin (send_at 0) to the last completion
  double cpu_s = 0;               // CPU time of the client's threads (CLOCK_THREAD_CPUTIME_ID)
  int64_t connections_opened = 0; // new TCP connections (the rest reused a kept-alive one)
  int64_t bytes_received = 0;     // response body bytes (after chunked decoding)
  int64_t events = 0;             // SSE events parsed
  int64_t token_events = 0;       // of those, the ones that carried tokens
  int64_t peak_in_flight = 0;
};

using ProgressFn = std::function<void(int64_t done, int64_t total)>;

// Sends every request at start + send_at (queued in send order while max_concurrency are in
// flight; a request's `start` is when it left the queue) and returns one result per request,
// in input order. A failed request is a result with success = false and an error, never a
// Status; the Status is for what stops the whole run (a malformed base URL, an unresolvable
// host). `progress` runs on the calling thread after each completion. Times in the results
// (start, token_times) are seconds from the schedule's origin, the time send_at counts from.
//
// Per request: ttft = first token-carrying chunk - start; itl = gaps between token-carrying
// chunks; token_times = their times; latency = [DONE] (or the end of a non-streamed body) -
// start; output_tokens = usage.completion_tokens when a chunk carries usage. It fails on a
// non-2xx status (status and body excerpt), a connection that fails or closes before the end,
// a chunk that is not JSON, an {"error": ...} chunk, a stream without [DONE] or without any
// token-carrying chunk. A JSON (non-SSE) 2xx response counts as one chunk.
Result<std::vector<RequestResult>> run_requests(const ClientOptions& options,
                                                const std::vector<ClientRequest>& requests,
                                                ProgressFn progress = nullptr,
                                                ClientStats* stats = nullptr);

// One-shot requests for the CLI (GET /v1/models, POST /tokenize): the body of a 2xx response,
// else an error naming the status and the start of the body. `url` is a full http:// URL.
Result<std::string> http_get(const std::string& url, const std::string& api_key = {},
                             std::chrono::seconds timeout = std::chrono::seconds(60));
Result<std::string> http_post(const std::string& url, const std::string& body,
                              const std::string& api_key = {},
                              std::chrono::seconds timeout = std::chrono::seconds(60));

// --- The pieces, exposed for tests and the self-benchmark ----------------------------------

struct ParsedUrl {
  std::string host;    // without IPv6 brackets
  std::string port;    // "80" when absent
  std::string prefix;  // path without a trailing '/', "" for none
};
// "http://host[:port][/prefix]"; a missing scheme means http; https and others are errors.
Result<ParsedUrl> parse_http_url(std::string_view url);

}  // namespace minke::bench
