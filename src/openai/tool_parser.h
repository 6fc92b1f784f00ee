// ToolCallParser: streaming and one-shot extraction of DeepSeek tool calls (vLLM's
// "deepseek_v3" and "deepseek_v31" formats) from model text. Split-invariant (any split into
// deltas assembles to parse(text)), linear time, and never fails: malformed calls become content.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minke {

// Markers (single tokens in the DeepSeek vocabulary):
//   B  = <｜tool▁calls▁begin｜>   E  = <｜tool▁calls▁end｜>
//   CB = <｜tool▁call▁begin｜>    CE = <｜tool▁call▁end｜>    SEP = <｜tool▁sep｜>
// kDeepSeekV3  (V3, R1):  B CB TYPE SEP NAME "\n```json\n" ARGS "\n```" CE ... E
//              (TYPE is ignored: usually "function"; the ```json fence is optional)
// kDeepSeekV31 (V3.1):    B CB NAME SEP ARGS CE ... E
enum class ToolCallFormat { kDeepSeekV3, kDeepSeekV31 };

// "deepseek_v3" / "deepseek_r1" -> kDeepSeekV3, "deepseek_v31" -> kDeepSeekV31.
std::optional<ToolCallFormat> tool_call_format_from_name(std::string_view name);

struct ToolCall {
  std::string name;       // trimmed
  std::string arguments;  // JSON exactly as written, trimmed (and for V3 without the fence)
};

struct ToolParseResult {
  std::string content;
  std::vector<ToolCall> calls;
};

// One piece of streamed output. index < 0: `text` is content. index >= 0: a piece of tool
// call `index`; the first piece of each call has `name` set (the server assigns the id then),
// later pieces only carry argument text. Calls are numbered 0, 1, 2, ... in order.
struct ToolDelta {
  int index = -1;
  std::optional<std::string> name;
  std::string text;
  bool is_content() const { return index < 0; }
};

// The text that opens a tool-call block and its first call: with `name`, up to where the
// arguments begin (a model continuing it writes the arguments); without, up to the name.
std::string tool_call_opening(ToolCallFormat format, std::optional<std::string_view> name);

// Adds one delta to an assembled result (the non-streaming view of a stream).
void append_tool_delta(ToolParseResult& result, const ToolDelta& delta);

// Grammar and degradation rules (the exact ones, shared by feed() and parse()):
//  - Content is all text outside tool-call blocks; a block opens at B. Text after E is content
//    again (vLLM drops it; we keep every byte), and a later B opens another block.
//  - Inside a block, whitespace before CB / E is dropped. Any other text there ends the block
//    implicitly: that text (with the whitespace before it) is content until the next B.
//  - A call is committed, and its name streamed, once its header is complete: V3.1 at SEP,
//    V3 at the newline after the name. Until then, a structural marker (B, E, CB, CE) or the
//    end of the stream makes it malformed: the text from its CB up to that marker becomes
//    content and parsing resumes at the marker as between calls. An empty name is malformed.
//  - Arguments run from the end of the header (leading whitespace and, for V3, a ```json
//    or ``` fence skipped) to CE; trailing whitespace and, for V3, one closing ``` fence are
//    trimmed. E or a new CB instead of CE also close the call (forgotten CE). If the stream
//    ends inside the arguments the call is kept with what was written (finish_reason tells).
//  - A lone B with no calls and an unterminated block lose only their markers.
// Output pieces are valid UTF-8 whenever the input deltas are (markers start with ASCII '<').
class ToolCallParser {
 public:
  explicit ToolCallParser(ToolCallFormat format) : format_(format) {}

  // Consumes one delta; returns the content / call pieces it made certain (adjacent pieces of
  // the same kind merged). Held back: only a possible marker prefix or trailing whitespace/``` .
  std::vector<ToolDelta> feed(std::string_view delta);
  // End of stream: flushes held text per the rules above. Call once; no feed() after it.
  std::vector<ToolDelta> finish();

  // Non-streaming: feed(text) + finish(), assembled.
  static ToolParseResult parse(std::string_view text, ToolCallFormat format);

  int calls_started() const { return calls_; }
  // Bytes examined so far, marker comparisons included (tests assert it is O(input)).
  std::size_t bytes_examined() const { return examined_; }

 private:
  enum class State { kContent, kBlock, kHeader, kArgsLead, kArgs };
  enum class Match { kNo, kPartial, kFull };

  void run(bool eof);
  bool scan_content(bool eof);
  bool scan_block(bool eof);
  bool scan_header(bool eof);
  bool scan_args_lead(bool eof);
  bool scan_args(bool eof);

  Match match_at(std::size_t at, std::string_view marker);
  // Which structural marker (B, E, CB, CE) starts at `at` (kFull sets *which).
  Match structural_at(std::size_t at, std::string_view* which);
  void start_header(std::size_t cb_at);
  void degrade_header(std::size_t upto);
  void commit_call(std::string_view raw_name);
  void end_call(std::string_view tail);
  void emit_content(std::string_view text);
  void emit_args(std::string_view text);
  void compact();

  ToolCallFormat format_;
  State state_ = State::kContent;
  std::string buf_;
  std::size_t pos_ = 0;           // scan cursor
  std::size_t mark_ = 0;          // start of text not yet emitted or dropped
  std::size_t header_start_ = 0;  // kHeader: first byte after CB
  std::size_t sep_end_ = std::string::npos;  // kHeader (V3): first byte after SEP
  bool fence_done_ = false;       // kArgsLead (V3): opening fence consumed
  int calls_ = 0;
  std::size_t examined_ = 0;
  std::vector<ToolDelta> out_;
};

}  // namespace minke
