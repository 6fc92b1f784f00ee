// OpenAiServer: request parsing and validation per route, then ApiCall for the response.
// Errors are OpenAI-shaped and sent before any stream starts; nothing here blocks.
#include "openai/openai_server.h"

#include <ctime>

#include "openai/response_json.h"
#include "openai/sampling_request.h"

namespace minke {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

void send_api_error(HttpResponder& r, const ApiError& e) { r.send_json(e.status, dump_json(e.to_json())); }

ApiError unavailable_error(std::string message) {
  return ApiError{503, std::move(message), "service_unavailable", std::nullopt, std::nullopt};
}

void send_unavailable(HttpResponder& r, const std::string& message) {
  r.send(503, {{"Content-Type", "application/json"}, {"Retry-After", "1"}},
         dump_json(unavailable_error(message).to_json()));
}

// body[key] as a boolean (default when absent or null); nullopt when it is not one.
template <class J>
std::optional<bool> bool_field(const J& body, const char* key, bool default_value) {
  if (!body.contains(key) || body[key].is_null()) return default_value;
  if (!body[key].is_boolean()) return std::nullopt;
  return body[key].template get<bool>();
}

// Whether JSON text nests arrays/objects deeper than `limit` (a linear scan, before parsing:
// the template engine and serializers recurse over values, so depth is bounded first).
bool nests_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// A body that parses as a JSON object, or a 400.
template <class J>
std::optional<J> parse_body(const HttpRequest& q, HttpResponder& r) {
  constexpr int kMaxDepth = 100;
  if (nests_deeper_than(q.body, kMaxDepth)) {
    send_api_error(r, ApiError::invalid("body", "the request body nests deeper than 100 levels"));
    return std::nullopt;
  }
  J body = J::parse(q.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    send_api_error(r, ApiError::invalid("body", "the request body must be a JSON object"));
    return std::nullopt;
  }
  return body;
}

// /v1/completions "prompt": a string, a list of strings, a list of token ids or a list of
// lists of token ids. Text gets BOS per the tokenizer config (add_special_tokens).
std::variant<std::vector<std::vector<int32_t>>, ApiError> read_prompts(const Json& body, const Tokenizer& tok) {
  const ApiError bad = ApiError::invalid(
      "prompt", "'prompt' must be a string, a list of strings, a list of token ids or a list of lists of token ids");
  if (!body.contains("prompt")) return ApiError::invalid("prompt", "'prompt' is required");
  const Json& p = body["prompt"];
  const std::optional<bool> add_special_field = bool_field(body, "add_special_tokens", true);
  if (!add_special_field) return ApiError::invalid("add_special_tokens", "'add_special_tokens' must be a boolean");
  const bool add_special = *add_special_field;
  auto ids = [&](const Json& list) -> std::optional<std::vector<int32_t>> {
    std::vector<int32_t> out;
    for (const auto& t : list) {
      if (!t.is_number_integer()) return std::nullopt;
      const int64_t v = t.get<int64_t>();
      if (v < INT32_MIN || v > INT32_MAX) return std::nullopt;
      out.push_back(int32_t(v));
    }
    return out;
  };
  std::vector<std::vector<int32_t>> prompts;
  if (p.is_string()) return std::vector<std::vector<int32_t>>{tok.encode(p.get<std::string>(), add_special)};
  if (!p.is_array() || p.empty()) return bad;
  if (p[0].is_number_integer()) {
    auto one = ids(p);
    if (!one) return bad;
    return std::vector<std::vector<int32_t>>{std::move(*one)};
  }
  for (const auto& item : p) {
    if (item.is_string()) {
      prompts.push_back(tok.encode(item.get<std::string>(), add_special));
    } else if (item.is_array()) {
      auto one = ids(item);
      if (!one) return bad;
      prompts.push_back(std::move(*one));
    } else {
      return bad;
    }
  }
  return prompts;
}

}  // namespace

OpenAiServer::OpenAiServer(OpenAiServerConfig config)
    : config_(std::move(config)), started_(int64_t(std::time(nullptr))) {}

void OpenAiServer::set_ready(ServedModel model) {
  model_ = std::move(model);
  ready_ = true;
}

size_t OpenAiServer::calls_in_flight() const {
  std::lock_guard<std::mutex> lock(calls_mu_);
  return calls_.size();
}

void OpenAiServer::abort_all() {
  std::vector<std::shared_ptr<ApiCall>> calls;
  {
    std::lock_guard<std::mutex> lock(calls_mu_);
    for (auto& [p, c] : calls_) calls.push_back(c);
  }
  for (auto& c : calls) c->cancel();
}

bool OpenAiServer::authorized(const HttpRequest& q, HttpResponder& r) const {
  if (config_.api_key.empty()) return true;
  const std::string expected = "Bearer " + config_.api_key;
  const std::string got(q.header("Authorization").value_or(""));
  unsigned diff = got.size() != expected.size();  // constant time over the expected length
  for (size_t i = 0; i < expected.size(); ++i) diff |= unsigned(i < got.size() ? got[i] ^ expected[i] : 1);
  if (diff == 0) return true;
  send_api_error(r, ApiError{401, "invalid or missing API key ('Authorization: Bearer KEY')",
                             "authentication_error", std::nullopt, "invalid_api_key"});
  return false;
}

bool OpenAiServer::available(HttpResponder& r) const {
  if (!ready_) {
    send_unavailable(r, "the model is still loading");
    return false;
  }
  if (draining_) {
    send_unavailable(r, "the server is shutting down");
    return false;
  }
  if (const Status f = model_.engine->fault(); !f.is_ok()) {
    send_unavailable(r, "the engine failed: " + f.message());
    return false;
  }
  return true;
}

void OpenAiServer::install(HttpServer& http) {
  http_ = &http;
  http.route("GET", "/health", [this](HttpRequest, HttpResponder r) {
    if (available(r)) r.send(200, {}, "");
  });
  http.route("GET", "/metrics", [this](HttpRequest, HttpResponder r) {
    r.send(200, {{"Content-Type", std::string(kPrometheusContentType)}}, metrics_text());
  });
  http.route("GET", "/version", [](HttpRequest, HttpResponder r) { r.send_json(200, R"({"version":"0.1.0"})"); });
  http.route("GET", "/v1/models", [this](HttpRequest q, HttpResponder r) {
    if (!authorized(q, r) || !available(r)) return;
    r.send_json(200, dump_json({{"object", "list"},
                                {"data", {{{"id", config_.served_model_name}, {"object", "model"}, {"created", started_},
                                           {"owned_by", "minke"}, {"root", config_.served_model_name},
                                           {"max_model_len", model_.max_model_len}}}}}));
  });
  http.route("POST", "/tokenize", [this](HttpRequest q, HttpResponder r) {
    if (authorized(q, r) && available(r)) tokenize(q, r);
  });
  http.route("POST", "/detokenize", [this](HttpRequest q, HttpResponder r) {
    if (!authorized(q, r) || !available(r)) return;
    auto body = parse_body<Json>(q, r);
    if (!body) return;
    if (!body->contains("tokens") || !(*body)["tokens"].is_array())
      return send_api_error(r, ApiError::invalid("tokens", "'tokens' must be a list of token ids"));
    std::vector<int32_t> ids;
    for (const auto& t : (*body)["tokens"]) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= model_.vocab_size)
        return send_api_error(r, ApiError::invalid("tokens", "'tokens' must be token ids in the vocabulary"));
      ids.push_back(t.get<int32_t>());
    }
    r.send_json(200, dump_json({{"prompt", model_.tokenizer->decode(ids, false)}}));
  });
  http.route("POST", "/v1/completions", [this](HttpRequest q, HttpResponder r) {
    if (authorized(q, r) && available(r)) completions(q, r);
  });
  http.route("POST", "/v1/chat/completions", [this](HttpRequest q, HttpResponder r) {
    if (authorized(q, r) && available(r)) chat_completions(q, r);
  });
}

void OpenAiServer::tokenize(const HttpRequest& q, HttpResponder& r) {
  auto body = parse_body<OJson>(q, r);
  if (!body) return;
  std::vector<int32_t> ids;
  const bool chat = body->contains("messages");
  const std::optional<bool> add_special = bool_field(*body, "add_special_tokens", !chat);
  if (!add_special) return send_api_error(r, ApiError::invalid("add_special_tokens", "'add_special_tokens' must be a boolean"));
  if (chat) {  // vLLM: tokenize a chat as the chat endpoint would render it
    if (!model_.chat_template) return send_api_error(r, ApiError::invalid("messages", "this model has no chat template"));
    auto chat = parse_chat_request(*body);
    if (auto* e = std::get_if<ApiError>(&chat)) return send_api_error(r, *e);
    auto prompt = render_chat_prompt({&*model_.chat_template, model_.special_tokens, config_.tool_call_parser,
                                      config_.reasoning_parser},
                                     std::get<ChatRequest>(chat));
    if (auto* e = std::get_if<ApiError>(&prompt)) return send_api_error(r, *e);
    ids = model_.tokenizer->encode(std::get<ChatPrompt>(prompt).text, *add_special);
  } else if (body->contains("prompt") && (*body)["prompt"].is_string()) {
    ids = model_.tokenizer->encode((*body)["prompt"].get<std::string>(), *add_special);
  } else {
    return send_api_error(r, ApiError::invalid("prompt", "'prompt' must be a string (or send 'messages')"));
  }
  r.send_json(200, dump_json({{"tokens", ids}, {"count", ids.size()}, {"max_model_len", model_.max_model_len}}));
}

void OpenAiServer::run(std::vector<std::vector<int32_t>> prompts, const SamplingParams& params, CallSpec spec,
                       HttpResponder& r) {
  Engine& engine = *model_.engine;
  if (config_.max_num_waiting > 0 &&
      engine.stats().num_waiting + int64_t(prompts.size()) > config_.max_num_waiting) {
    metrics_.rejected_queue_full.fetch_add(1, std::memory_order_relaxed);
    return send_unavailable(r, "the waiting queue is full (--max-num-waiting); retry later");
  }
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (auto& prompt : prompts) {
    EngineRequest req;
    req.prompt = std::move(prompt);
    req.params = params;
    auto submitted = engine.submit(std::move(req));
    if (!submitted.is_ok()) {  // dropping `streams` aborts the prompts already submitted
      const Status& st = submitted.status();
      if (st.code() == StatusCode::kUnavailable) return send_unavailable(r, st.message());
      ApiError e = ApiError::invalid("prompt", st.message());
      if (st.message().find("maximum context length") != std::string::npos) {
        e.code = "context_length_exceeded";
        e.param = "max_tokens";
        if (st.message().find("but the prompt has") != std::string::npos) e.param = "prompt";
      } else if (st.message().find("min_tokens") != std::string::npos) {
        e.param = "min_tokens";
      }
      return send_api_error(r, e);
    }
    streams.push_back(std::move(*submitted));
  }
  spec.id += std::to_string(streams.front()->id());
  spec.model = config_.served_model_name;
  spec.created = int64_t(std::time(nullptr));
  spec.tokenizer = model_.tokenizer;
  auto call = std::make_shared<ApiCall>(std::move(spec), r, metrics_);
  {
    std::lock_guard<std::mutex> lock(calls_mu_);
    calls_[call.get()] = call;
  }
  // Set after registration; the call may finish (and unregister) inside start().
  std::weak_ptr<ApiCall> weak = call;
  call->set_on_done([this, weak] {
    std::lock_guard<std::mutex> lock(calls_mu_);
    if (auto c = weak.lock()) calls_.erase(c.get());
  });
  call->start(std::move(streams));
}

std::optional<OpenAiServer::Prepared> OpenAiServer::prepare(const Json& body, ApiKind kind,
                                                            std::chrono::steady_clock::time_point arrival,
                                                            HttpResponder& r) const {
  if (body.contains("model") && body["model"] != config_.served_model_name) {
    send_api_error(r, ApiError{404, "the model " + body["model"].dump() + " does not exist", "not_found_error",
                               "model", "model_not_found"});
    return std::nullopt;
  }
  const Endpoint endpoint = kind == ApiKind::kChat ? Endpoint::kChatCompletions : Endpoint::kCompletions;
  auto parsed = parse_sampling(body, endpoint, model_.vocab_size);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    send_api_error(r, *e);
    return std::nullopt;
  }
  Prepared p{std::move(std::get<SamplingRequest>(parsed)), {}};
  p.spec.kind = kind;
  p.spec.stream = p.sampling.stream;
  p.spec.include_usage = p.sampling.include_usage;
  p.spec.id = kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-";
  p.spec.n = p.sampling.params.n;
  p.spec.logprobs = p.sampling.params.logprobs.has_value();
  p.spec.arrival = arrival;
  return p;
}

void OpenAiServer::completions(const HttpRequest& q, HttpResponder& r) {
  const auto arrival = std::chrono::steady_clock::now();
  auto body = parse_body<Json>(q, r);
  if (!body) return;
  auto p = prepare(*body, ApiKind::kCompletion, arrival, r);
  if (!p) return;
  if (!p->sampling.params.max_tokens) p->sampling.params.max_tokens = 16;  // OpenAI's default for completions
  auto prompts = read_prompts(*body, *model_.tokenizer);
  if (auto* e = std::get_if<ApiError>(&prompts)) return send_api_error(r, *e);
  run(std::move(std::get<0>(prompts)), p->sampling.params, std::move(p->spec), r);
}

void OpenAiServer::chat_completions(const HttpRequest& q, HttpResponder& r) {
  const auto arrival = std::chrono::steady_clock::now();
  auto body = parse_body<OJson>(q, r);  // ordered: tool schemas keep their key order in the prompt
  if (!body) return;
  auto p = prepare(Json(*body), ApiKind::kChat, arrival, r);
  if (!p) return;
  auto chat = parse_chat_request(*body);
  if (auto* e = std::get_if<ApiError>(&chat)) return send_api_error(r, *e);
  if (!model_.chat_template)
    return send_api_error(r, ApiError::invalid("messages", "this model has no chat template; start the server with --chat-template"));
  const ChatRequest& req = std::get<ChatRequest>(chat);
  auto rendered = render_chat_prompt({&*model_.chat_template, model_.special_tokens, config_.tool_call_parser,
                                      config_.reasoning_parser}, req);
  if (auto* e = std::get_if<ApiError>(&rendered)) return send_api_error(r, *e);
  const ChatPrompt& prompt = std::get<ChatPrompt>(rendered);
  CallSpec& spec = p->spec;
  spec.with_reasoning = config_.reasoning_parser;
  if (config_.reasoning_parser) spec.choice.reasoning = ReasoningParserOptions{prompt.starts_in_reasoning};
  spec.choice.include_reasoning = req.include_reasoning;
  if (prompt.parse_tools) spec.choice.tools = config_.tool_call_parser;
  spec.choice.forced_tool_prefix = prompt.forced_tool_prefix;
  if (prompt.parse_tools) p->sampling.params.skip_special_tokens = false;  // the parser needs the markers
  // The template writes BOS itself.
  std::vector<std::vector<int32_t>> prompts{model_.tokenizer->encode(prompt.text, /*add_special_tokens=*/false)};
  run(std::move(prompts), p->sampling.params, std::move(spec), r);
}

}  // namespace minke
