// ChoiceStream: reasoning then tool calls on one completion's text, split at every boundary
// (one and two cuts) assembles to the same result; the forced prefix's call name comes first.
#include <gtest/gtest.h>

#include "openai/choice_stream.h"

namespace minke {
namespace {

const std::string B = "<｜tool▁calls▁begin｜>", E = "<｜tool▁calls▁end｜>", CB = "<｜tool▁call▁begin｜>",
                  CE = "<｜tool▁call▁end｜>", SEP = "<｜tool▁sep｜>";

struct Assembled {
  std::string reasoning;
  ToolParseResult result;
  std::vector<std::string> names_in_order;
};

Assembled stream(const ChoiceOptions& o, const std::vector<std::string>& pieces) {
  ChoiceStream s(o);
  Assembled a;
  auto take = [&](ChoiceDelta d) {
    a.reasoning += d.reasoning;
    if (!d.content.empty()) append_tool_delta(a.result, {-1, std::nullopt, d.content});
    for (const auto& c : d.calls) {
      if (c.name) a.names_in_order.push_back(*c.name);
      append_tool_delta(a.result, c);
    }
  };
  for (const auto& p : pieces) take(s.feed(p));
  take(s.finish());
  EXPECT_EQ(a.reasoning, s.reasoning());  // the stream's own assembly agrees
  EXPECT_EQ(a.result.content, s.result().content);
  EXPECT_EQ(a.result.calls.size(), s.result().calls.size());
  return a;
}

void expect_split_invariant(const ChoiceOptions& o, const std::string& text, const Assembled& want) {
  auto same = [&](const Assembled& got, const std::string& where) {
    EXPECT_EQ(got.reasoning, want.reasoning) << where;
    EXPECT_EQ(got.result.content, want.result.content) << where;
    ASSERT_EQ(got.result.calls.size(), want.result.calls.size()) << where;
    for (size_t i = 0; i < want.result.calls.size(); ++i) {
      EXPECT_EQ(got.result.calls[i].name, want.result.calls[i].name) << where;
      EXPECT_EQ(got.result.calls[i].arguments, want.result.calls[i].arguments) << where;
    }
  };
  for (size_t i = 0; i <= text.size(); ++i) {
    same(stream(o, {text.substr(0, i), text.substr(i)}), "cut at " + std::to_string(i));
    for (size_t j = i; j <= text.size(); j += 7)
      same(stream(o, {text.substr(0, i), text.substr(i, j - i), text.substr(j)}),
           "cuts at " + std::to_string(i) + "," + std::to_string(j));
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  same(stream(o, bytes), "byte by byte");
}

TEST(ChoiceStream, ReasoningThenContentThenTwoCalls) {
  ChoiceOptions o;
  o.reasoning = ReasoningParserOptions{false};
  o.tools = ToolCallFormat::kDeepSeekV3;
  const std::string text = "<think>plan it</think>\n\nSure." + B + CB + "function" + SEP + "a\n```json\n{\"x\": 1}\n```" +
                           CE + CB + "function" + SEP + "b\n```json\n{}\n```" + CE + E;
  const Assembled whole = stream(o, {text});
  EXPECT_EQ(whole.reasoning, "plan it");
  EXPECT_EQ(whole.result.content, "\n\nSure.");
  ASSERT_EQ(whole.result.calls.size(), 2u);
  EXPECT_EQ(whole.result.calls[0].name, "a");
  EXPECT_EQ(whole.result.calls[0].arguments, "{\"x\": 1}");
  EXPECT_EQ(whole.result.calls[1].arguments, "{}");
  expect_split_invariant(o, text, whole);
}

TEST(ChoiceStream, MarkersInsideReasoningAreNotCalls) {
  ChoiceOptions o;
  o.reasoning = ReasoningParserOptions{true};  // the prompt ended with <think>
  o.tools = ToolCallFormat::kDeepSeekV31;
  const std::string text = "maybe " + B + CB + "f" + SEP + "{}" + CE + E + "</think>ok" + B + CB + "g" + SEP + "{\"y\":2}" + CE + E;
  const Assembled whole = stream(o, {text});
  EXPECT_EQ(whole.reasoning, "maybe " + B + CB + "f" + SEP + "{}" + CE + E);
  EXPECT_EQ(whole.result.content, "ok");
  ASSERT_EQ(whole.result.calls.size(), 1u);
  EXPECT_EQ(whole.result.calls[0].name, "g");
  expect_split_invariant(o, text, whole);
}

TEST(ChoiceStream, NoEndOfThinkingIsAllReasoningAndDroppedWhenExcluded) {
  ChoiceOptions o;
  o.reasoning = ReasoningParserOptions{true};
  EXPECT_EQ(stream(o, {"still ", "thinking"}).reasoning, "still thinking");
  EXPECT_EQ(stream(o, {"still ", "thinking"}).result.content, "");
  o.include_reasoning = false;
  const Assembled dropped = stream(o, {"a</thi", "nk>b"});
  EXPECT_EQ(dropped.reasoning, "");
  EXPECT_EQ(dropped.result.content, "b");
}

TEST(ChoiceStream, ForcedPrefixNamesTheCallFirst) {
  ChoiceOptions o;
  o.tools = ToolCallFormat::kDeepSeekV3;
  o.forced_tool_prefix = B + CB + "function" + SEP + "get_weather\n```json\n";
  ChoiceStream s(o);
  ChoiceDelta first = s.feed("{\"city\"");
  ASSERT_EQ(first.calls.size(), 1u);  // name and the first argument text merged into one piece
  EXPECT_EQ(first.calls[0].name, "get_weather");
  EXPECT_EQ(first.calls[0].text, "{\"city\"");
  s.feed(": \"Paris\"}\n```" + CE + E);
  s.finish();
  ASSERT_EQ(s.result().calls.size(), 1u);
  EXPECT_EQ(s.result().calls[0].arguments, "{\"city\": \"Paris\"}");
  EXPECT_EQ(s.result().content, "");
}

TEST(ChoiceStream, MalformedCallDegradesToContent) {
  ChoiceOptions o;
  o.tools = ToolCallFormat::kDeepSeekV3;
  const std::string text = "x" + B + CB + "function" + SEP + E + "y";
  const Assembled a = stream(o, {text});
  EXPECT_TRUE(a.result.calls.empty());
  EXPECT_NE(a.result.content.find("y"), std::string::npos);
  expect_split_invariant(o, text, a);
}

}  // namespace
}  // namespace minke
