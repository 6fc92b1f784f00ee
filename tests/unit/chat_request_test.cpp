// parse_chat_request (every malformed field is a 400 naming it) and render_chat_prompt
// (tools in or out per tool_choice, forced tool-call openings, <think> detection, kwargs).
#include <gtest/gtest.h>

#include "openai/chat_request.h"

namespace minke {
namespace {

using OJson = nlohmann::ordered_json;

OJson body(const char* text) { return OJson::parse(text); }

ChatRequest ok(const std::variant<ChatRequest, ApiError>& v) {
  if (auto* e = std::get_if<ApiError>(&v)) ADD_FAILURE() << e->message;
  return std::get<ChatRequest>(v);
}

std::string param_of(const std::variant<ChatRequest, ApiError>& v) {
  auto* e = std::get_if<ApiError>(&v);
  if (!e) return "(accepted)";
  EXPECT_EQ(e->status, 400);
  return e->param.value_or("(none)");
}

constexpr const char* kTools =
    R"([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])";

TEST(ChatRequest, NormalizesContentAndDefaultsToolChoice) {
  const ChatRequest r = ok(parse_chat_request(body(
      R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                       {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {"x": 1}}}]},
                       {"role": "tool", "content": "42", "tool_call_id": "c1"}]})")));
  EXPECT_EQ(r.messages[0]["content"], "a\nb");
  EXPECT_EQ(r.messages[1]["tool_calls"][0]["function"]["arguments"], R"({"x":1})");
  EXPECT_EQ(r.messages[1]["tool_calls"][0]["type"], "function");
  EXPECT_EQ(r.tool_choice, ToolChoiceKind::kNone);  // no tools
  auto with_tools = body(R"({"messages": [{"role": "user", "content": "hi"}]})");
  with_tools["tools"] = OJson::parse(kTools);
  EXPECT_EQ(ok(parse_chat_request(with_tools)).tool_choice, ToolChoiceKind::kAuto);
  with_tools["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  const ChatRequest named = ok(parse_chat_request(with_tools));
  EXPECT_EQ(named.tool_choice, ToolChoiceKind::kNamed);
  EXPECT_EQ(named.tool_choice_name, "get_weather");
}

TEST(ChatRequest, EveryMalformedFieldNamesItsParam) {
  EXPECT_EQ(param_of(parse_chat_request(body(R"({})"))), "messages");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": []})"))), "messages");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": [{"role": "wizard", "content": "x"}]})"))), "messages[0].role");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": [{"role": "user"}]})"))), "messages[0].content");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": [{"role": "user", "content": 5}]})"))), "messages[0].content");
  EXPECT_EQ(param_of(parse_chat_request(body(
                R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})"))),
            "messages[0].content");
  EXPECT_EQ(param_of(parse_chat_request(body(
                R"({"messages": [{"role": "assistant", "content": null, "tool_calls": [{"function": {}}]}]})"))),
            "messages[0].tool_calls");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": [{"role": "user", "content": "x"}], "tools": {}})"))), "tools");
  EXPECT_EQ(param_of(parse_chat_request(body(
                R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": ""}}]})"))),
            "tools[0]");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"})"))),
            "tool_choice");
  auto b = body(R"({"messages": [{"role": "user", "content": "x"}]})");
  b["tools"] = OJson::parse(kTools);
  b["tool_choice"] = {{"type", "function"}, {"function", {{"name", "nope"}}}};
  EXPECT_EQ(param_of(parse_chat_request(b)), "tool_choice");
  b["tool_choice"] = "sometimes";
  EXPECT_EQ(param_of(parse_chat_request(b)), "tool_choice");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": [{"role": "user", "content": "x"}], "chat_template_kwargs": 3})"))),
            "chat_template_kwargs");
  EXPECT_EQ(param_of(parse_chat_request(body(
                R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})"))),
            "response_format");
  EXPECT_EQ(param_of(parse_chat_request(body(R"({"messages": [{"role": "user", "content": "x"}], "add_generation_prompt": "yes"})"))),
            "add_generation_prompt");
}

// A template that shows what it was given.
ChatTemplate show_template() {
  return *ChatTemplate::compile(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
      "{% if tools %}TOOLS={{ tools | length }}{% endif %}{% if flavor %}F={{ flavor }}{% endif %}"
      "{% if add_generation_prompt %}<A>{% if think %}<think>\n{% endif %}{% endif %}");
}

ChatPrompt render(const ChatServing& s, const OJson& b) {
  auto prompt = render_chat_prompt(s, ok(parse_chat_request(b)));
  if (auto* e = std::get_if<ApiError>(&prompt)) ADD_FAILURE() << e->message;
  return std::get<ChatPrompt>(prompt);
}

TEST(ChatPrompt, ToolChoiceDecidesToolsAndForcedOpening) {
  const ChatTemplate t = show_template();
  ChatServing s{&t, OJson{{"bos_token", "<B>"}}, ToolCallFormat::kDeepSeekV3, false};
  auto b = body(R"({"messages": [{"role": "user", "content": "hi"}], "chat_template_kwargs": {"flavor": "x"}})");
  b["tools"] = OJson::parse(kTools);
  ChatPrompt p = render(s, b);
  EXPECT_EQ(p.text, "<B>[user:hi]TOOLS=1F=x<A>");
  EXPECT_TRUE(p.parse_tools);
  EXPECT_EQ(p.forced_tool_prefix, "");
  b["tool_choice"] = "none";
  p = render(s, b);
  EXPECT_EQ(p.text, "<B>[user:hi]F=x<A>");
  EXPECT_FALSE(p.parse_tools);
  b["tool_choice"] = "required";
  p = render(s, b);
  EXPECT_EQ(p.forced_tool_prefix, "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>");
  EXPECT_EQ(p.text, "<B>[user:hi]TOOLS=1F=x<A>" + p.forced_tool_prefix);
  b["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  EXPECT_EQ(render(s, b).forced_tool_prefix,
            "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n");
  s.tool_format = ToolCallFormat::kDeepSeekV31;
  EXPECT_EQ(render(s, b).forced_tool_prefix, "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>");
  s.tool_format.reset();  // no --tool-call-parser: tools need tool_choice none
  b["tool_choice"] = "auto";
  auto refused = render_chat_prompt(s, ok(parse_chat_request(b)));
  ASSERT_TRUE(std::holds_alternative<ApiError>(refused));
  EXPECT_EQ(std::get<ApiError>(refused).param, "tool_choice");
}

TEST(ChatPrompt, ThinkingPromptsStartInReasoning) {
  const ChatTemplate t = show_template();
  ChatServing s{&t, OJson::object(), ToolCallFormat::kDeepSeekV3, true};
  auto b = body(R"({"messages": [{"role": "user", "content": "hi"}], "chat_template_kwargs": {"think": true}})");
  EXPECT_TRUE(render(s, b).starts_in_reasoning);
  b["chat_template_kwargs"]["think"] = false;
  EXPECT_FALSE(render(s, b).starts_in_reasoning);
  s.reasoning = false;  // no --reasoning-parser: nothing is reasoning
  b["chat_template_kwargs"]["think"] = true;
  EXPECT_FALSE(render(s, b).starts_in_reasoning);
  // Forcing a tool call closes the opened <think> first.
  s.reasoning = true;
  b["tools"] = OJson::parse(kTools);
  b["tool_choice"] = "required";
  const ChatPrompt p = render(s, b);
  EXPECT_FALSE(p.starts_in_reasoning);
  EXPECT_NE(p.text.find("<think>\n</think><｜tool▁calls▁begin｜>"), std::string::npos);
}

TEST(ChatPrompt, TemplateErrorsAre400s) {
  const ChatTemplate t = *ChatTemplate::compile("{{ raise_exception('roles must alternate') }}");
  ChatServing s{&t, OJson::object(), std::nullopt, false};
  auto prompt = render_chat_prompt(s, ok(parse_chat_request(body(R"({"messages": [{"role": "user", "content": "x"}]})"))));
  ASSERT_TRUE(std::holds_alternative<ApiError>(prompt));
  EXPECT_EQ(std::get<ApiError>(prompt).status, 400);
  EXPECT_NE(std::get<ApiError>(prompt).message.find("roles must alternate"), std::string::npos);
}

}  // namespace
}  // namespace minke
