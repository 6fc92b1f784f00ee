// parse_chat_request and render_chat_prompt: OpenAI's message and tool shapes checked field
// by field (vLLM's extensions: chat_template_kwargs, add_generation_prompt,
// include_reasoning), then the template rendered as transformers' apply_chat_template would.
#include "openai/chat_request.h"

#include <fmt/format.h>

namespace minke {
namespace {

using OJson = nlohmann::ordered_json;

bool is_role(const std::string& role) {
  return role == "system" || role == "developer" || role == "user" || role == "assistant" || role == "tool";
}

// A message's content as the DeepSeek templates expect it: a string (text parts joined by
// "\n", as vLLM does), or null for an assistant turn that only calls tools.
std::optional<ApiError> normalize_content(OJson& message, size_t i) {
  const std::string param = fmt::format("messages[{}].content", i);
  if (!message.contains("content") || message["content"].is_null()) {
    const bool calls = message.contains("tool_calls") && message["tool_calls"].is_array();
    if (message["role"] == "assistant" && calls) return std::nullopt;
    return ApiError::invalid(param, fmt::format("'{}' is required", param));
  }
  OJson& content = message["content"];
  if (content.is_string()) return std::nullopt;
  if (!content.is_array()) return ApiError::invalid(param, fmt::format("'{}' must be a string or a list of parts", param));
  std::string text;
  for (size_t k = 0; k < content.size(); ++k) {
    const OJson& part = content[k];
    const std::string type = part.is_object() && part.contains("type") && part["type"].is_string()
                                 ? part["type"].get<std::string>() : "";
    if (type != "text" || !part.contains("text") || !part["text"].is_string())
      return ApiError::invalid(param, fmt::format("'{}[{}]': only text parts {{\"type\": \"text\", \"text\": ...}} are "
                                                  "supported (this model reads text only)", param, k));
    if (k > 0) text += "\n";
    text += part["text"].get<std::string>();
  }
  content = text;
  return std::nullopt;
}

std::optional<ApiError> check_tool_calls(OJson& message, size_t i) {
  if (!message.contains("tool_calls") || message["tool_calls"].is_null()) return std::nullopt;
  const std::string param = fmt::format("messages[{}].tool_calls", i);
  OJson& calls = message["tool_calls"];
  if (!calls.is_array()) return ApiError::invalid(param, fmt::format("'{}' must be a list", param));
  for (auto& call : calls) {
    if (!call.is_object() || !call.contains("function") || !call["function"].is_object() ||
        !call["function"].contains("name") || !call["function"]["name"].is_string())
      return ApiError::invalid(param, fmt::format("each of '{}' needs function.name", param));
    OJson& args = call["function"]["arguments"];
    if (args.is_null()) args = "{}";
    if (!args.is_string()) args = args.dump();  // the templates concatenate it as a string
    if (!call.contains("type")) call["type"] = "function";
  }
  return std::nullopt;
}

std::optional<ApiError> check_tools(const OJson& tools) {
  if (!tools.is_array()) return ApiError::invalid("tools", "'tools' must be a list");
  for (size_t i = 0; i < tools.size(); ++i) {
    const OJson& t = tools[i];
    const bool ok = t.is_object() && (!t.contains("type") || t["type"] == "function") && t.contains("function") &&
                    t["function"].is_object() && t["function"].contains("name") &&
                    t["function"]["name"].is_string() && !t["function"]["name"].get<std::string>().empty() &&
                    (!t["function"].contains("parameters") || t["function"]["parameters"].is_object() ||
                     t["function"]["parameters"].is_null());
    if (!ok)
      return ApiError::invalid(fmt::format("tools[{}]", i),
                               fmt::format("'tools[{}]' must be {{\"type\": \"function\", \"function\": {{\"name\": "
                                           "non-empty string, \"parameters\": object}}}}", i));
  }
  return std::nullopt;
}

bool has_tool(const OJson& tools, const std::string& name) {
  for (const auto& t : tools)
    if (t["function"]["name"] == name) return true;
  return false;
}

std::optional<ApiError> read_bool(const OJson& body, const char* key, bool& out) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  if (!body[key].is_boolean()) return ApiError::invalid(key, fmt::format("'{}' must be a boolean", key));
  out = body[key].get<bool>();
  return std::nullopt;
}

}  // namespace

std::variant<ChatRequest, ApiError> parse_chat_request(const OJson& body) {
  ChatRequest r;
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    return ApiError::invalid("messages", "'messages' must be a non-empty list");
  r.messages = body["messages"];
  for (size_t i = 0; i < r.messages.size(); ++i) {
    OJson& m = r.messages[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !is_role(m["role"].get<std::string>()))
      return ApiError::invalid(fmt::format("messages[{}].role", i),
                               fmt::format("'messages[{}].role' must be one of system, developer, user, assistant, tool", i));
    if (auto e = normalize_content(m, i)) return *e;
    if (auto e = check_tool_calls(m, i)) return *e;
  }
  if (body.contains("tools") && !body["tools"].is_null()) {
    if (auto e = check_tools(body["tools"])) return *e;
    if (!body["tools"].empty()) r.tools = body["tools"];
  }
  r.tool_choice = r.tools.is_null() ? ToolChoiceKind::kNone : ToolChoiceKind::kAuto;
  if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
    const OJson& c = body["tool_choice"];
    if (c == "none") {
      r.tool_choice = ToolChoiceKind::kNone;
    } else if (c == "auto" || c == "required") {
      if (r.tools.is_null())
        return ApiError::invalid("tool_choice", fmt::format("tool_choice '{}' needs 'tools'", c.get<std::string>()));
      r.tool_choice = c == "auto" ? ToolChoiceKind::kAuto : ToolChoiceKind::kRequired;
    } else if (c.is_object() && c.contains("type") && c["type"] == "function" && c.contains("function") &&
               c["function"].is_object() && c["function"].contains("name") && c["function"]["name"].is_string()) {
      r.tool_choice_name = c["function"]["name"].get<std::string>();
      if (r.tools.is_null() || !has_tool(r.tools, r.tool_choice_name))
        return ApiError::invalid("tool_choice", fmt::format("tool_choice names '{}', which is not in 'tools'", r.tool_choice_name));
      r.tool_choice = ToolChoiceKind::kNamed;
    } else {
      return ApiError::invalid("tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or "
                                              "{\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
  }
  if (body.contains("chat_template_kwargs") && !body["chat_template_kwargs"].is_null()) {
    if (!body["chat_template_kwargs"].is_object())
      return ApiError::invalid("chat_template_kwargs", "'chat_template_kwargs' must be an object");
    r.template_kwargs = body["chat_template_kwargs"];
  }
  if (auto e = read_bool(body, "add_generation_prompt", r.add_generation_prompt)) return *e;
  if (auto e = read_bool(body, "include_reasoning", r.include_reasoning)) return *e;
  bool continue_final = false;
  if (auto e = read_bool(body, "continue_final_message", continue_final)) return *e;
  if (continue_final) return ApiError::invalid("continue_final_message", "'continue_final_message' is not supported");
  if (body.contains("response_format") && !body["response_format"].is_null()) {
    const OJson& f = body["response_format"];
    if (!f.is_object() || !f.contains("type") || f["type"] != "text")
      return ApiError::invalid("response_format", "only response_format {\"type\": \"text\"} is supported "
                                                  "(structured output is not implemented)");
  }
  return r;
}

std::variant<ChatPrompt, ApiError> render_chat_prompt(const ChatServing& serving, const ChatRequest& request) {
  if (request.tool_choice != ToolChoiceKind::kNone && !serving.tool_format)
    return ApiError::invalid("tool_choice", "tool calling needs the server to run with --tool-call-parser "
                                            "(deepseek_v3 for V3/R1, deepseek_v31 for V3.1); or send tool_choice \"none\"");
  OJson kwargs = serving.special_tokens;
  for (const auto& [key, value] : request.template_kwargs.items())
    if (key != "messages" && key != "tools" && key != "add_generation_prompt") kwargs[key] = value;
  const OJson tools = request.tool_choice == ToolChoiceKind::kNone ? OJson() : request.tools;
  Result<std::string> text = serving.chat_template->render(request.messages, tools, request.add_generation_prompt, kwargs);
  if (!text.is_ok()) return ApiError::invalid("messages", "the chat template failed: " + text.status().message());
  ChatPrompt p;
  p.text = std::move(*text);
  const size_t end = p.text.find_last_not_of(" \t\r\n");
  const bool ends_in_think = end != std::string::npos && end + 1 >= 7 && p.text.compare(end + 1 - 7, 7, "<think>") == 0;
  p.starts_in_reasoning = serving.reasoning && ends_in_think;
  p.parse_tools = request.tool_choice != ToolChoiceKind::kNone;
  if (request.tool_choice == ToolChoiceKind::kRequired || request.tool_choice == ToolChoiceKind::kNamed) {
    // Forcing a call skips the thinking phase: close an opened <think> first.
    if (ends_in_think) p.text += "</think>";
    p.starts_in_reasoning = false;
    p.forced_tool_prefix = tool_call_opening(
        *serving.tool_format,
        request.tool_choice == ToolChoiceKind::kNamed ? std::optional<std::string_view>(request.tool_choice_name)
                                                      : std::nullopt);
    p.text += p.forced_tool_prefix;
  }
  return p;
}

}  // namespace minke
