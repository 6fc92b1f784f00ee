// OpenAI response pieces. Token strings for logprobs are single-token decodes (a token
// holding part of a UTF-8 character shows U+FFFD, as in vLLM); -inf logprobs become -9999.
#include "openai/response_json.h"

#include <cmath>
#include <random>

namespace minke {
namespace {

using Json = nlohmann::json;

double finite(float lp) { return std::isfinite(lp) ? double(lp) : -9999.0; }

Json bytes_of(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

}  // namespace

std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json completion_logprobs(const std::vector<TokenLogprobs>& lps, const Tokenizer& tok, int64_t& text_offset) {
  Json tokens = Json::array(), values = Json::array(), tops = Json::array(), offsets = Json::array();
  for (const TokenLogprobs& lp : lps) {
    const std::string s = tok.decode(std::span<const int32_t>(&lp.token, 1), false);
    tokens.push_back(s);
    values.push_back(finite(lp.logprob));
    Json top = Json::object();
    for (const auto& [id, v] : lp.top) top[tok.decode(std::span<const int32_t>(&id, 1), false)] = finite(v);
    tops.push_back(top);
    offsets.push_back(text_offset);
    for (unsigned char ch : s) text_offset += (ch & 0xC0) != 0x80;  // characters, as OpenAI counts
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

Json chat_logprobs(const std::vector<TokenLogprobs>& lps, const Tokenizer& tok) {
  Json content = Json::array();
  for (const TokenLogprobs& lp : lps) {
    const std::string s = tok.decode(std::span<const int32_t>(&lp.token, 1), false);
    Json top = Json::array();
    for (const auto& [id, v] : lp.top) {
      const std::string t = tok.decode(std::span<const int32_t>(&id, 1), false);
      top.push_back({{"token", t}, {"logprob", finite(v)}, {"bytes", bytes_of(t)}});
    }
    content.push_back({{"token", s}, {"logprob", finite(lp.logprob)}, {"bytes", bytes_of(s)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

void append_logprobs(Json& into, const Json& more) {
  if (into.is_null()) {
    into = more;
    return;
  }
  for (auto& [key, value] : more.items())
    for (const auto& v : value) into[key].push_back(v);
}

std::string new_tool_call_id() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

Json chat_delta(const ChoiceDelta& d, std::vector<std::string>& ids) {
  Json delta = Json::object();
  if (!d.reasoning.empty()) {
    delta["reasoning_content"] = d.reasoning;
    delta["reasoning"] = d.reasoning;
  }
  if (!d.content.empty()) delta["content"] = d.content;
  if (!d.calls.empty()) {
    Json calls = Json::array();
    for (const ToolDelta& c : d.calls) {
      Json call = {{"index", c.index}};
      if (c.name) {
        while (int(ids.size()) <= c.index) ids.push_back(new_tool_call_id());
        call["id"] = ids[size_t(c.index)];
        call["type"] = "function";
        call["function"] = {{"name", *c.name}, {"arguments", c.text}};
      } else {
        call["function"] = {{"arguments", c.text}};
      }
      calls.push_back(std::move(call));
    }
    delta["tool_calls"] = std::move(calls);
  }
  return delta;
}

Json chat_message(const ChoiceStream& s, const std::vector<std::string>& ids, bool with_reasoning) {
  const ToolParseResult& r = s.result();
  Json m = {{"role", "assistant"}};
  m["content"] = r.content.empty() && !r.calls.empty() ? Json(nullptr) : Json(r.content);
  if (with_reasoning) {
    const Json reasoning = s.reasoning().empty() ? Json(nullptr) : Json(s.reasoning());
    m["reasoning_content"] = reasoning;
    m["reasoning"] = reasoning;
  }
  if (!r.calls.empty()) {
    Json calls = Json::array();
    for (size_t i = 0; i < r.calls.size(); ++i)
      calls.push_back({{"id", i < ids.size() ? ids[i] : new_tool_call_id()},
                       {"type", "function"},
                       {"function", {{"name", r.calls[i].name}, {"arguments", r.calls[i].arguments}}}});
    m["tool_calls"] = std::move(calls);
  }
  return m;
}

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

}  // namespace minke
