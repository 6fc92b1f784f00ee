// Reading OpenAI streaming responses: an incremental text/event-stream parser and a single-pass
// scanner that pulls what the benchmark needs out of one chunk's JSON (no DOM: measured 5-10x
// cheaper than nlohmann::json, see `minke bench client`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace minke::bench {

// Incremental text/event-stream parser (WHATWG "interpreting an event stream", the data field
// only): lines end with \n, \r\n or \r; "data:" lines (one optional space after the colon)
// accumulate, joined by \n; a blank line dispatches; comments (":...") and other fields are
// skipped. Bytes may be split anywhere between feed() calls, \r\n included.
class SseParser {
 public:
  void feed(std::string_view bytes);
  // The next complete event's data, or nullopt when more bytes are needed. The view is valid
  // until the next call on this parser.
  std::optional<std::string_view> next();
  // At the end of the stream: a last line without its newline is taken as a line and a
  // pending event without its blank line is dispatched (lenient, as vLLM's handler is).
  std::optional<std::string_view> finish();

 private:
  std::optional<std::string_view> take_line(std::string_view line);

  std::string buf_;  // fed bytes; [pos_, size) not yet consumed
  size_t pos_ = 0;
  size_t scan_ = 0;  // [pos_, scan_) holds no line end: a partial line is not searched twice
  bool skip_lf_ = false;  // the last line ended with \r: a \n that follows belongs to it
  std::string data_;      // the pending event's data
  bool has_data_ = false;
  std::string event_;     // the event handed out by next()
};

// What the benchmark needs from one chunk of an OpenAI completions or chat completions
// response (streamed or not).
struct ChunkInfo {
  int64_t choices = 0;            // elements of "choices" (0 when absent or null)
  std::string text;               // choices[0]: "text", or delta/message reasoning then content
  bool tool_call_delta = false;   // choices[0].delta/message has a non-empty "tool_calls"
  bool has_usage = false;         // "usage" is an object with completion_tokens
  int64_t completion_tokens = 0;
  int64_t prompt_tokens = -1;     // -1: absent
  bool is_error = false;          // an "error" member that is not null
  std::string error_message;      // error.message, or the error value's JSON text
};

// A single pass over the JSON that extracts ChunkInfo and validates the syntax (no DOM; the
// self-benchmark compares it with nlohmann::json). Error: not one well-formed JSON object.
Status scan_chunk(std::string_view json, ChunkInfo& out);

}  // namespace minke::bench
