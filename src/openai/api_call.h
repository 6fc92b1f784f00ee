// ApiCall: one /v1/completions or /v1/chat/completions request in flight. It owns the
// engine streams of its prompts, receives their events on the engine's thread (through the
// stream listeners, never blocking) and writes them to the client as SSE chunks or, at the
// end, one JSON body. It also records the request's latencies in ServerMetrics.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "openai/choice_stream.h"
#include "server/http_server.h"
#include "server/prometheus.h"

namespace minke {

// Request-level metrics the server exports (engine-level ones come from EngineStats).
struct ServerMetrics {
  Histogram ttft{Histogram::time_to_first_token_buckets()};
  Histogram itl{Histogram::inter_token_latency_buckets()};
  Histogram e2e{Histogram::e2e_request_latency_buckets()};
  std::atomic<int64_t> finished[4] = {0, 0, 0, 0};  // by FinishReason
  std::atomic<int64_t> rejected_queue_full{0};
};

enum class ApiKind { kCompletion, kChat };

struct CallSpec {
  ApiKind kind = ApiKind::kCompletion;
  bool stream = false;
  bool include_usage = false;
  std::string id, model;
  int64_t created = 0;
  int n = 1;                    // completions per prompt
  bool logprobs = false;        // return logprobs (engine computes them when requested)
  bool with_reasoning = false;  // chat: reasoning fields present (--reasoning-parser)
  ChoiceOptions choice;         // chat: parsers
  const Tokenizer* tokenizer = nullptr;  // token strings for logprobs
  std::chrono::steady_clock::time_point arrival;
};

class ApiCall : public std::enable_shared_from_this<ApiCall> {
 public:
  ApiCall(CallSpec spec, HttpResponder responder, ServerMetrics& metrics);
  ~ApiCall();

  // Runs once, after the response is complete (on the engine's thread). Set before start().
  void set_on_done(std::function<void()> on_done) { on_done_ = std::move(on_done); }
  // Takes the submitted streams (one per prompt), starts SSE if streaming and hooks the
  // listeners; a client disconnect cancels every stream.
  void start(std::vector<std::shared_ptr<RequestStream>> streams);
  // Aborts every stream: the engine finishes them with finish_reason "abort".
  void cancel();

 private:
  struct Choice;
  void on_events();
  void handle(size_t stream_index, RequestOutput& ev);
  void finish_response();
  nlohmann::json chunk(nlohmann::json choices) const;

  CallSpec spec_;
  HttpResponder responder_;
  ServerMetrics& metrics_;
  std::function<void()> on_done_;
  std::shared_ptr<SseStream> sse_;
  std::mutex mu_;
  std::vector<std::shared_ptr<RequestStream>> streams_;
  std::vector<Choice> choices_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  bool done_ = false;
  std::optional<std::string> error_;  // a completion failed (FinishReason::kError)
};

}  // namespace minke
