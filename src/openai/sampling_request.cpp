// parse_sampling: field by field, type-checked, then SamplingParams::validate for the
// ranges; its message names the parameter, which becomes `param`.
#include "openai/sampling_request.h"

#include <fmt/format.h>

#include <cmath>

namespace minke {
namespace {

using Json = nlohmann::json;

// Reads body[key] into `out` when present and not null; a wrong type is an error.
template <class T>
std::optional<ApiError> read(const Json& body, const char* key, T& out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return ApiError::invalid(key, fmt::format("'{}' must be a boolean", key));
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer() && !(it->is_number_float() && std::floor(it->get<double>()) == it->get<double>()))
      return ApiError::invalid(key, fmt::format("'{}' must be an integer", key));
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!it->is_number()) return ApiError::invalid(key, fmt::format("'{}' must be a number", key));
  }
  out = it->get<T>();
  return std::nullopt;
}

// The parameter a SamplingParams::validate message is about: its first word.
std::string param_of(const std::string& message) {
  const size_t end = message.find_first_of(" :[");
  return message.substr(0, end);
}

}  // namespace

std::variant<SamplingRequest, ApiError> parse_sampling(const Json& body, Endpoint endpoint,
                                                       int64_t vocab_size) {
  if (!body.is_object()) return ApiError::invalid("body", "the request body must be a JSON object");
  SamplingRequest r;
  SamplingParams& p = r.params;
#define MINKE_READ(key, field) \
  if (auto e = read(body, key, field)) return *e;
  MINKE_READ("temperature", p.temperature)
  MINKE_READ("top_p", p.top_p)
  MINKE_READ("top_k", p.top_k)
  MINKE_READ("min_p", p.min_p)
  MINKE_READ("presence_penalty", p.presence_penalty)
  MINKE_READ("frequency_penalty", p.frequency_penalty)
  MINKE_READ("repetition_penalty", p.repetition_penalty)
  MINKE_READ("min_tokens", p.min_tokens)
  MINKE_READ("ignore_eos", p.ignore_eos)
  MINKE_READ("include_stop_str_in_output", p.include_stop_str_in_output)
  MINKE_READ("skip_special_tokens", p.skip_special_tokens)
  MINKE_READ("n", p.n)
  MINKE_READ("stream", r.stream)
#undef MINKE_READ
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    int value = 0;
    if (auto e = read(body, key, value)) return *e;
    if (body.contains(key) && !body[key].is_null()) {
      if (value < 1) return ApiError::invalid(key, fmt::format("'{}' must be >= 1, got {}", key, value));
      p.max_tokens = value;
    }
  }
  if (auto it = body.find("seed"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer()) return ApiError::invalid("seed", "'seed' must be an integer");
    p.seed = it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t(it->get<int64_t>());
  }
  if (auto it = body.find("stop"); it != body.end() && !it->is_null()) {
    if (it->is_string()) {
      p.stop = {it->get<std::string>()};
    } else if (it->is_array() && it->size() <= 4 + 252) {
      for (const auto& s : *it) {
        if (!s.is_string()) return ApiError::invalid("stop", "'stop' must be a string or a list of strings");
        p.stop.push_back(s.get<std::string>());
      }
    } else {
      return ApiError::invalid("stop", "'stop' must be a string or a list of strings");
    }
  }
  if (auto it = body.find("stop_token_ids"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return ApiError::invalid("stop_token_ids", "'stop_token_ids' must be a list of integers");
    for (const auto& t : *it) {
      if (!t.is_number_integer()) return ApiError::invalid("stop_token_ids", "'stop_token_ids' must be a list of integers");
      p.stop_token_ids.push_back(t.get<int32_t>());
    }
  }
  if (auto it = body.find("logit_bias"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return ApiError::invalid("logit_bias", "'logit_bias' must map token ids to numbers");
    for (const auto& [key, value] : it->items()) {
      char* end = nullptr;
      const long id = std::strtol(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || !value.is_number())
        return ApiError::invalid("logit_bias", fmt::format("'logit_bias' key '{}' must be a token id with a number", key));
      p.logit_bias[int32_t(id)] = value.get<float>();
    }
  }
  // logprobs: an integer on /v1/completions; a boolean plus top_logprobs on chat.
  if (endpoint == Endpoint::kCompletions) {
    int logprobs = -1;
    if (auto e = read(body, "logprobs", logprobs)) return *e;
    if (logprobs >= 0) p.logprobs = logprobs;
    if (body.contains("echo") && body["echo"] == true) return ApiError::invalid("echo", "'echo' is not supported");
    if (body.contains("suffix") && !body["suffix"].is_null()) return ApiError::invalid("suffix", "'suffix' is not supported");
  } else {
    bool logprobs = false;
    int top = 0;
    if (auto e = read(body, "logprobs", logprobs)) return *e;
    if (auto e = read(body, "top_logprobs", top)) return *e;
    if (body.contains("top_logprobs") && !body["top_logprobs"].is_null() && !logprobs)
      return ApiError::invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    if (top < 0 || top > 20) return ApiError::invalid("top_logprobs", fmt::format("'top_logprobs' must be in [0, 20], got {}", top));
    if (logprobs) p.logprobs = top;
  }
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return ApiError::invalid("stream_options", "'stream_options' must be an object");
    if (!r.stream) return ApiError::invalid("stream_options", "'stream_options' is only allowed with 'stream': true");
    if (auto e = read(*it, "include_usage", r.include_usage)) return ApiError::invalid("stream_options.include_usage", e->message);
  }
  if (const Status st = p.validate(vocab_size); !st.is_ok())
    return ApiError::invalid(param_of(st.message()), st.message());
  return r;
}

}  // namespace minke
