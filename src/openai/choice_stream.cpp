// ChoiceStream: reasoning parser -> tool parser, with the forced tool-call prefix primed.
#include "openai/choice_stream.h"

namespace minke {
namespace {

void push_call(std::vector<ToolDelta>& calls, ToolDelta d) {
  if (!calls.empty() && calls.back().index == d.index && !d.name)
    calls.back().text += d.text;  // one piece per call per delta
  else
    calls.push_back(std::move(d));
}

}  // namespace

void merge_delta(ChoiceDelta& into, ChoiceDelta&& from) {
  into.reasoning += from.reasoning;
  into.content += from.content;
  for (ToolDelta& d : from.calls) push_call(into.calls, std::move(d));
}

ChoiceStream::ChoiceStream(ChoiceOptions options) : options_(std::move(options)) {
  if (options_.reasoning) reasoning_parser_.emplace(*options_.reasoning);
  if (options_.tools) {
    tool_parser_.emplace(*options_.tools);
    if (!options_.forced_tool_prefix.empty()) {
      add_content(options_.forced_tool_prefix, pending_, false);
      record(pending_);
    }
  }
}

void ChoiceStream::add_content(std::string_view text, ChoiceDelta& out, bool eof) {
  if (!tool_parser_) {
    out.content += text;
    return;
  }
  std::vector<ToolDelta> pieces = tool_parser_->feed(text);
  if (eof) {
    std::vector<ToolDelta> tail = tool_parser_->finish();
    pieces.insert(pieces.end(), tail.begin(), tail.end());
  }
  for (ToolDelta& d : pieces) {
    if (d.is_content())
      out.content += d.text;
    else
      push_call(out.calls, std::move(d));
  }
}

void ChoiceStream::record(const ChoiceDelta& d) {
  reasoning_ += d.reasoning;
  if (!d.content.empty()) append_tool_delta(result_, ToolDelta{-1, std::nullopt, d.content});
  for (const ToolDelta& c : d.calls) append_tool_delta(result_, c);
}

ChoiceDelta ChoiceStream::feed(std::string_view text) {
  ChoiceDelta out = std::move(pending_);
  pending_ = {};
  ChoiceDelta fresh;
  if (reasoning_parser_) {
    ReasoningDelta r = reasoning_parser_->feed(text);
    if (options_.include_reasoning) fresh.reasoning = std::move(r.reasoning);
    add_content(r.content, fresh, false);
  } else {
    add_content(text, fresh, false);
  }
  record(fresh);
  merge_delta(out, std::move(fresh));
  return out;
}

ChoiceDelta ChoiceStream::finish() {
  ChoiceDelta out = std::move(pending_);
  pending_ = {};
  ChoiceDelta fresh;
  if (reasoning_parser_) {
    ReasoningDelta r = reasoning_parser_->finish();
    if (options_.include_reasoning) fresh.reasoning = std::move(r.reasoning);
    add_content(r.content, fresh, true);
  } else {
    add_content("", fresh, true);
  }
  record(fresh);
  merge_delta(out, std::move(fresh));
  return out;
}

}  // namespace minke
