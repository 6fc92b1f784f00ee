// ApiCall: engine events -> OpenAI chunks. Choice i of prompt k is choice k * n + i. A
// streamed chat choice opens with {"role": "assistant", "content": ""}; its last chunk carries
// finish_reason ("tool_calls" when it called tools and stopped on its own).
#include "openai/api_call.h"

#include "openai/response_json.h"

namespace minke {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct ApiCall::Choice {
  std::optional<ChoiceStream> parsed;  // chat
  std::string text;                    // completions: the text so far (non-streaming)
  Json logprobs;                       // accumulated (non-streaming)
  int64_t text_offset = 0;
  std::vector<std::string> tool_ids;
  Json finish_reason;
  Json stop_reason;
  bool role_sent = false;
  bool has_token = false;
  Clock::time_point last;
};

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

ApiCall::ApiCall(CallSpec spec, HttpResponder responder, ServerMetrics& metrics)
    : spec_(std::move(spec)), responder_(std::move(responder)), metrics_(metrics) {}

ApiCall::~ApiCall() = default;

void ApiCall::start(std::vector<std::shared_ptr<RequestStream>> streams) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams_ = std::move(streams);
    choices_.resize(streams_.size() * size_t(spec_.n));
    for (Choice& c : choices_)
      if (spec_.kind == ApiKind::kChat) c.parsed.emplace(spec_.choice);
    for (const auto& s : streams_) prompt_tokens_ += s->prompt_tokens();
    if (spec_.stream) sse_ = responder_.start_sse();
  }
  std::weak_ptr<ApiCall> weak = weak_from_this();
  responder_.on_disconnect([weak] {
    if (auto self = weak.lock()) self->cancel();
  });
  auto self = shared_from_this();
  for (const auto& s : streams_) s->set_listener([self] { self->on_events(); });
}

void ApiCall::cancel() {
  std::vector<std::shared_ptr<RequestStream>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams = streams_;
  }
  for (const auto& s : streams) s->cancel();
}

Json ApiCall::chunk(Json choices) const {
  Json c = {{"id", spec_.id},
            {"object", spec_.kind == ApiKind::kChat ? "chat.completion.chunk" : "text_completion"},
            {"created", spec_.created},
            {"model", spec_.model},
            {"choices", std::move(choices)}};
  if (spec_.include_usage) c["usage"] = nullptr;  // OpenAI: null on all but the usage chunk
  return c;
}

void ApiCall::handle(size_t k, RequestOutput& ev) {
  const size_t index = k * size_t(spec_.n) + size_t(ev.index);
  Choice& c = choices_[index];
  if (!ev.token_ids.empty()) {
    if (!c.has_token && ev.index == 0) metrics_.ttft.observe(seconds(ev.emitted - spec_.arrival));
    if (c.has_token) metrics_.itl.observe(seconds(ev.emitted - c.last));
    c.has_token = true;
    c.last = ev.emitted;
    completion_tokens_ += int64_t(ev.token_ids.size());
  }
  Json lp;
  if (spec_.logprobs && !ev.logprobs.empty())
    lp = spec_.kind == ApiKind::kChat ? chat_logprobs(ev.logprobs, *spec_.tokenizer)
                                      : completion_logprobs(ev.logprobs, *spec_.tokenizer, c.text_offset);
  ChoiceDelta delta, forced;
  // tool_choice required/named: the forced call's name is known before the first token;
  // streamed, it gets its own delta (arguments "") before the output's.
  if (c.parsed && sse_ && !c.role_sent) forced = c.parsed->take_pending();
  if (c.parsed) {
    delta = c.parsed->feed(ev.text);
    if (ev.finish) merge_delta(delta, c.parsed->finish());
  }
  if (ev.finish) {
    metrics_.finished[int(*ev.finish)].fetch_add(1, std::memory_order_relaxed);
    if (*ev.finish == FinishReason::kError && !error_) error_ = ev.error.message();
    const bool called = c.parsed && !c.parsed->result().calls.empty();
    c.finish_reason = *ev.finish == FinishReason::kStop && called ? "tool_calls" : std::string(finish_reason_name(*ev.finish));
    if (!ev.stop_reason.empty()) c.stop_reason = ev.stop_reason;
    if (ev.stop_token) c.stop_reason = *ev.stop_token;  // vLLM: the stop token id
  }
  if (!sse_) {
    c.text += ev.text;
    if (!lp.is_null()) append_logprobs(c.logprobs, lp);
    return;
  }
  if (spec_.kind == ApiKind::kCompletion) {
    if (ev.text.empty() && !ev.finish && lp.is_null()) return;
    sse_->send_event(dump_json(chunk(Json::array({{{"index", index}, {"text", ev.text}, {"logprobs", lp},
                                                    {"finish_reason", ev.finish ? c.finish_reason : Json()}}}))));
    return;
  }
  if (!c.role_sent) {
    c.role_sent = true;
    sse_->send_event(dump_json(chunk(Json::array({{{"index", index}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                                    {"logprobs", nullptr}, {"finish_reason", nullptr}}}))));
    if (!forced.empty())
      sse_->send_event(dump_json(chunk(Json::array({{{"index", index}, {"delta", chat_delta(forced, c.tool_ids)},
                                                      {"logprobs", nullptr}, {"finish_reason", nullptr}}}))));
  }
  if (delta.empty() && !ev.finish && lp.is_null()) return;
  sse_->send_event(dump_json(chunk(Json::array({{{"index", index}, {"delta", chat_delta(delta, c.tool_ids)},
                                                  {"logprobs", lp},
                                                  {"finish_reason", ev.finish ? c.finish_reason : Json()}}}))));
}

void ApiCall::on_events() {
  std::lock_guard<std::mutex> lock(mu_);
  if (done_) return;
  bool drained = true;
  for (size_t k = 0; k < streams_.size(); ++k) {
    while (auto ev = streams_[k]->try_next()) handle(k, *ev);
    drained = drained && streams_[k]->drained();
  }
  if (drained) finish_response();
}

void ApiCall::finish_response() {
  done_ = true;
  metrics_.e2e.observe(seconds(Clock::now() - spec_.arrival));
  const Json error = {{"error", {{"message", error_.value_or("")}, {"type", "internal_server_error"},
                                 {"param", nullptr}, {"code", 500}}}};
  if (sse_) {
    if (error_) sse_->send_event(dump_json(error));
    if (spec_.include_usage) {
      Json u = chunk(Json::array());
      u["usage"] = usage_json(prompt_tokens_, completion_tokens_);
      sse_->send_event(dump_json(u));
    }
    sse_->send_event("[DONE]");
    sse_->close();
  } else if (error_) {
    responder_.send_json(500, dump_json(error));
  } else {
    Json choices = Json::array();
    for (size_t i = 0; i < choices_.size(); ++i) {
      Choice& c = choices_[i];
      Json choice = {{"index", i}};
      if (c.parsed)
        choice["message"] = chat_message(*c.parsed, c.tool_ids, spec_.with_reasoning);
      else
        choice["text"] = c.text;
      choice["logprobs"] = c.logprobs;
      choice["finish_reason"] = c.finish_reason;
      choice["stop_reason"] = c.stop_reason;
      choices.push_back(std::move(choice));
    }
    responder_.send_json(200, dump_json({{"id", spec_.id},
                                         {"object", spec_.kind == ApiKind::kChat ? "chat.completion" : "text_completion"},
                                         {"created", spec_.created},
                                         {"model", spec_.model},
                                         {"choices", std::move(choices)},
                                         {"usage", usage_json(prompt_tokens_, completion_tokens_)}}));
  }
  for (const auto& s : streams_) s->set_listener(nullptr);  // breaks the stream -> listener -> call cycle
  if (on_done_) on_done_();
}

}  // namespace minke
