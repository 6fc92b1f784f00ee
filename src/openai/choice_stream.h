// ChoiceStream: one completion's text on its way to the client. It runs the reasoning parser
// (deepseek_r1) and then the tool-call parser on the content after the reasoning, and keeps
// the assembled result for non-streaming responses. Split-invariant, like both parsers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "openai/reasoning_parser.h"
#include "openai/tool_parser.h"

namespace minke {

struct ChoiceOptions {
  std::optional<ReasoningParserOptions> reasoning;  // --reasoning-parser given
  bool include_reasoning = true;                    // false: reasoning is dropped
  std::optional<ToolCallFormat> tools;              // parse tool calls in the content
  std::string forced_tool_prefix;                   // fed to the tool parser first (tool_choice)
};

struct ChoiceDelta {
  std::string reasoning;
  std::string content;
  std::vector<ToolDelta> calls;  // index >= 0; the first piece of a call has its name
  bool empty() const { return reasoning.empty() && content.empty() && calls.empty(); }
};

// Appends `from` to `into`, merging argument text of the same call into one piece.
void merge_delta(ChoiceDelta& into, ChoiceDelta&& from);

class ChoiceStream {
 public:
  explicit ChoiceStream(ChoiceOptions options);

  ChoiceDelta feed(std::string_view text);
  ChoiceDelta finish();  // once, at the end of the completion
  // What the forced tool-call prefix produced (the call's name), to send before any output;
  // otherwise it comes with the first feed().
  ChoiceDelta take_pending() { return std::exchange(pending_, {}); }

  // Everything so far, assembled.
  const std::string& reasoning() const { return reasoning_; }
  const ToolParseResult& result() const { return result_; }

 private:
  void add_content(std::string_view text, ChoiceDelta& out, bool eof);
  void record(const ChoiceDelta& d);

  ChoiceOptions options_;
  std::optional<ReasoningParser> reasoning_parser_;
  std::optional<ToolCallParser> tool_parser_;
  ChoiceDelta pending_;  // what the forced prefix produced, sent with the first delta
  std::string reasoning_;
  ToolParseResult result_;
};

}  // namespace minke
