// The JSON pieces of OpenAI responses shared by streaming and non-streaming answers:
// logprobs in the completions and chat shapes, tool calls, messages, deltas and usage.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/logprobs.h"
#include "openai/choice_stream.h"
#include "tokenizer/tokenizer.h"

namespace minke {

// JSON text of `j`; invalid UTF-8 (never expected: text is decoded with replacement) is
// replaced rather than thrown on.
std::string dump_json(const nlohmann::json& j);

// /v1/completions "logprobs": {tokens, token_logprobs, top_logprobs, text_offset}.
// `text_offset` is where the next token starts in the choice's text, in characters (code
// points, as Python counts them); advanced.
nlohmann::json completion_logprobs(const std::vector<TokenLogprobs>& lps, const Tokenizer& tok,
                                   int64_t& text_offset);
// /v1/chat/completions "logprobs": {"content": [{token, logprob, bytes, top_logprobs}]}.
nlohmann::json chat_logprobs(const std::vector<TokenLogprobs>& lps, const Tokenizer& tok);
// Appends a later chunk's logprobs to an accumulated one of the same shape.
void append_logprobs(nlohmann::json& into, const nlohmann::json& more);

// Tool-call ids: "call_" + 24 random alphanumerics, as OpenAI writes them.
std::string new_tool_call_id();

// A streamed delta: reasoning_content (and vLLM's newer "reasoning"), content, tool_calls
// with {index, id, type, function{name, arguments}} on a call's first piece and
// {index, function{arguments}} after. `ids[i]` is call i's id; new calls get one here.
nlohmann::json chat_delta(const ChoiceDelta& d, std::vector<std::string>& ids);
// The assembled message: content (null when empty and there are calls), reasoning_content
// and reasoning (when `with_reasoning`), tool_calls (only when there are some).
nlohmann::json chat_message(const ChoiceStream& s, const std::vector<std::string>& ids, bool with_reasoning);

nlohmann::json usage_json(int64_t prompt_tokens, int64_t completion_tokens);

}  // namespace minke
