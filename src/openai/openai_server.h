// OpenAiServer: the OpenAI-compatible HTTP API over an Engine (vLLM's routes and shapes):
// /v1/completions, /v1/chat/completions, /v1/models, /tokenize, /detokenize, /version,
// /health and /metrics. It starts in the loading state (/health 503) until serve() hands it
// a model, and talks to the engine only through submit() and the request streams.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "engine/engine.h"
#include "openai/api_call.h"
#include "openai/api_error.h"
#include "openai/chat_request.h"
#include "openai/sampling_request.h"
#include "server/http_server.h"

namespace minke {

struct OpenAiServerConfig {
  std::string served_model_name = "default";
  std::string api_key;            // empty: no authentication
  int64_t max_num_waiting = 0;    // waiting requests at most; more get 503 + Retry-After (0: no limit)
  std::optional<ToolCallFormat> tool_call_parser;
  bool reasoning_parser = false;  // deepseek_r1
};

// What serves requests once loading is done; everything must outlive the server.
struct ServedModel {
  Engine* engine = nullptr;
  const Tokenizer* tokenizer = nullptr;
  int64_t max_model_len = 0;
  int64_t vocab_size = 0;
  std::optional<ChatTemplate> chat_template;  // none: /v1/chat/completions answers 400
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();
};

class OpenAiServer {
 public:
  explicit OpenAiServer(OpenAiServerConfig config);

  // Registers every route on `http` (before http.start()); `http` must outlive the routes' use.
  void install(HttpServer& http);
  // Loading is done: from now on requests are served.
  void set_ready(ServedModel model);
  // SIGTERM: /health turns 503 and new requests get 503 (the HTTP layer stops accepting).
  void begin_drain() { draining_ = true; }
  // Aborts every request in flight: each ends with finish_reason "abort".
  void abort_all();
  size_t calls_in_flight() const;

 private:
  bool authorized(const HttpRequest& q, HttpResponder& r) const;
  // 503 unless ready (loading, draining or after an engine fault).
  bool available(HttpResponder& r) const;
  // The model check, the sampling fields and the call's common fields; or nullopt, answered.
  struct Prepared {
    SamplingRequest sampling;
    CallSpec spec;
  };
  std::optional<Prepared> prepare(const nlohmann::json& body, ApiKind kind,
                                  std::chrono::steady_clock::time_point arrival, HttpResponder& r) const;
  void completions(const HttpRequest& q, HttpResponder& r);
  void chat_completions(const HttpRequest& q, HttpResponder& r);
  void tokenize(const HttpRequest& q, HttpResponder& r);
  std::string metrics_text() const;
  // Submits one engine request per prompt and starts the call; errors answer `r`.
  void run(std::vector<std::vector<int32_t>> prompts, const SamplingParams& params, CallSpec spec,
           HttpResponder& r);

  OpenAiServerConfig config_;
  std::atomic<bool> ready_{false}, draining_{false};
  ServedModel model_;  // written once by set_ready, before ready_ is set
  HttpServer* http_ = nullptr;
  ServerMetrics metrics_;
  int64_t started_;
  mutable std::mutex calls_mu_;
  std::unordered_map<ApiCall*, std::shared_ptr<ApiCall>> calls_;
};

}  // namespace minke
