// The chat-specific fields of a /v1/chat/completions body (messages, tools, tool_choice,
// chat_template_kwargs, ...), validated into a ChatRequest, and its rendering into a prompt
// with the chat template. Every malformed field is a 400 ApiError naming it.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "openai/api_error.h"
#include "openai/tool_parser.h"

namespace minke {

enum class ToolChoiceKind { kNone, kAuto, kRequired, kNamed };

struct ChatRequest {
  nlohmann::ordered_json messages;        // content parts joined into strings
  nlohmann::ordered_json tools;           // null, or the request's list as given
  ToolChoiceKind tool_choice = ToolChoiceKind::kNone;  // OpenAI default: auto with tools, else none
  std::string tool_choice_name;           // kNamed
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();
  bool add_generation_prompt = true;
  bool include_reasoning = true;          // vLLM: false drops reasoning_content
};

std::variant<ChatRequest, ApiError> parse_chat_request(const nlohmann::ordered_json& body);

// What the server runs for one chat request.
struct ChatPrompt {
  std::string text;               // the rendered prompt (the template writes BOS itself)
  bool starts_in_reasoning = false;  // it ends with `<think>`: output begins as reasoning
  // tool_choice required/named: the start of a tool-call block appended to the prompt, so
  // the model must call (named: that) tool; the tool parser is fed it before the output.
  std::string forced_tool_prefix;
  bool parse_tools = false;       // run the tool parser on the content
};

struct ChatServing {
  const ChatTemplate* chat_template = nullptr;
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();  // bos_token, ...
  std::optional<ToolCallFormat> tool_format;  // --tool-call-parser
  bool reasoning = false;                     // --reasoning-parser deepseek_r1
};

// Renders the prompt. tool_choice none leaves the tools out of the prompt; auto, required and
// named need a --tool-call-parser. Template errors (raise_exception included) are 400s.
std::variant<ChatPrompt, ApiError> render_chat_prompt(const ChatServing& serving, const ChatRequest& request);

}  // namespace minke
