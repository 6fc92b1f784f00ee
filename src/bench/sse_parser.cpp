// SseParser (WHATWG event-stream framing, data field only) and scan_chunk (one validating
// pass over a chunk's JSON).
#include "bench/sse_parser.h"

#include <cctype>
#include <charconv>
#include <cstring>

namespace minke::bench {

// ---------------------------------------------------------------------------- SSE

void SseParser::feed(std::string_view bytes) {
  if (pos_ > 0) {  // drop consumed bytes; the unconsumed tail is at most a partial line
    buf_.erase(0, pos_);
    scan_ = scan_ > pos_ ? scan_ - pos_ : 0;
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<std::string_view> SseParser::next() {
  while (pos_ < buf_.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (buf_[pos_] == '\n' && ++pos_ == buf_.size()) break;
    }
    const char* begin = buf_.data() + pos_;
    const char* end = buf_.data() + buf_.size();
    const char* eol = buf_.data() + std::max(pos_, scan_);  // a partial line is searched once
    while (eol != end && *eol != '\n' && *eol != '\r') ++eol;
    if (eol == end) {  // a partial line: wait for more bytes
      // A comment's text is never used: keep its ':' only, so a long one costs no memory.
      if (*begin == ':') buf_.resize(pos_ + 1);
      scan_ = buf_.size();
      return std::nullopt;
    }
    skip_lf_ = *eol == '\r';
    pos_ = scan_ = size_t(eol - buf_.data()) + 1;
    if (auto event = take_line(std::string_view(begin, size_t(eol - begin)))) return event;
  }
  return std::nullopt;
}

std::optional<std::string_view> SseParser::finish() {
  if (auto event = next()) return event;
  if (pos_ < buf_.size()) {  // a last line without its newline
    std::string_view line(buf_.data() + pos_, buf_.size() - pos_);
    pos_ = scan_ = buf_.size();
    if (auto event = take_line(line)) return event;
  }
  if (has_data_) return take_line({});
  return std::nullopt;
}

std::optional<std::string_view> SseParser::take_line(std::string_view line) {
  if (line.empty()) {  // dispatch
    if (!has_data_) return std::nullopt;
    has_data_ = false;
    event_.swap(data_);
    data_.clear();
    return std::string_view(event_);
  }
  if (line.front() == ':') return std::nullopt;  // a comment (keep-alive pings)
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  if (field != "data") return std::nullopt;  // event, id, retry: not used by OpenAI streams
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (has_data_) data_ += '\n';
  data_.append(value);
  has_data_ = true;
  return std::nullopt;
}

// ---------------------------------------------------------------------------- chunks

namespace {

// A forward-only JSON reader over one buffer: validates as it goes, extracts only what it is
// asked for, skips the rest without building anything.
class JsonScan {
 public:
  explicit JsonScan(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool ok() const { return ok_; }
  bool at_end() {
    ws();
    return p_ == end_;
  }
  bool fail() { return ok_ = false; }

  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  char peek() {
    ws();
    return p_ == end_ ? '\0' : *p_;
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++p_;
    return true;
  }
  bool literal(std::string_view word) {
    if (size_t(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return fail();
    p_ += word.size();
    return true;
  }
  bool null() {
    if (peek() != 'n') return false;
    return literal("null");
  }

  // A string; appended (unescaped, UTF-8) to `out` when given.
  bool string(std::string* out) {
    if (!consume('"')) return fail();
    while (true) {
      const char* run = p_;
      while (p_ != end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20)
        ++p_;
      if (out) out->append(run, size_t(p_ - run));
      if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return fail();
      if (*p_++ == '"') return true;
      if (p_ == end_) return fail();
      const char e = *p_++;
      char c;
      switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return fail();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a high surrogate: its low half must follow
            uint32_t lo;
            if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return fail();
            p_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return fail();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail();
          }
          if (out) append_utf8(*out, cp);
          continue;
        }
        default: return fail();
      }
      if (out) out->push_back(c);
    }
  }

  // A number; its integer part stored in `out` when given.
  bool number(int64_t* out) {
    ws();
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    const char* digits = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    if (p_ == digits) return fail();
    const char* int_end = p_;
    if (p_ != end_ && *p_ == '.') {
      const char* frac = ++p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == frac) return fail();
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* exp = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == exp) return fail();
    }
    if (out && std::from_chars(start, int_end, *out).ec != std::errc()) *out = 0;
    return true;
  }

  bool skip_value(int depth = 0) {
    if (depth > 64) return fail();
    switch (peek()) {
      case '"': return string(nullptr);
      case '{': return object([&](std::string_view) { return skip_value(depth + 1); });
      case '[': return array([&](int64_t) { return skip_value(depth + 1); });
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number(nullptr);
    }
  }

  // {"key": value, ...}: on_key(key) must read the value.
  template <class F>
  bool object(F&& on_key) {
    if (!consume('{')) return fail();
    if (consume('}')) return true;
    std::string escaped;
    do {
      if (peek() != '"') return fail();
      std::string_view key;
      const char* q = static_cast<const char*>(std::memchr(p_ + 1, '"', size_t(end_ - p_ - 1)));
      if (q && !std::memchr(p_ + 1, '\\', size_t(q - p_ - 1))) {
        key = std::string_view(p_ + 1, size_t(q - p_ - 1));
        p_ = q + 1;
      } else {
        escaped.clear();
        if (!string(&escaped)) return false;
        key = escaped;
      }
      if (!consume(':')) return fail();
      if (!on_key(key)) return fail();
    } while (consume(','));
    return consume('}') || fail();
  }

  // [value, ...]: on_element(index) must read the value.
  template <class F>
  bool array(F&& on_element) {
    if (!consume('[')) return fail();
    if (consume(']')) return true;
    int64_t i = 0;
    do {
      if (!on_element(i++)) return fail();
    } while (consume(','));
    return consume(']') || fail();
  }

  // The raw text of the next value, for error messages.
  std::string_view raw_value() {
    ws();
    const char* start = p_;
    if (!skip_value()) return {};
    return std::string_view(start, size_t(p_ - start));
  }

 private:
  bool hex4(uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(char(cp));
    } else if (cp < 0x800) {
      out.push_back(char(0xC0 | (cp >> 6)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(char(0xE0 | (cp >> 12)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(char(0xF0 | (cp >> 18)));
      out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

// A string or null into `out`; `present` set when it was a string.
bool opt_string(JsonScan& j, std::string& out, bool& present) {
  if (j.null()) return j.ok();
  present = true;
  return j.string(&out);
}

// choices[0].delta or choices[0].message: reasoning (reasoning_content, else reasoning), then
// content; tool_calls noted.
bool scan_message(JsonScan& j, ChunkInfo& out) {
  if (j.null()) return j.ok();
  std::string content, reasoning_content, reasoning;
  bool has_rc = false, unused = false;
  const bool ok = j.object([&](std::string_view key) {
    if (key == "content") return opt_string(j, content, unused);
    if (key == "reasoning_content") return opt_string(j, reasoning_content, has_rc);
    if (key == "reasoning") return opt_string(j, reasoning, unused);
    if (key == "tool_calls") {
      if (j.null()) return j.ok();
      return j.array([&](int64_t) {
        out.tool_call_delta = true;
        return j.skip_value(1);
      });
    }
    return j.skip_value(1);
  });
  out.text += has_rc ? reasoning_content : reasoning;
  out.text += content;
  return ok;
}

bool scan_choice0(JsonScan& j, ChunkInfo& out) {
  return j.object([&](std::string_view key) {
    bool unused = false;
    if (key == "text") return opt_string(j, out.text, unused);
    if (key == "delta" || key == "message") return scan_message(j, out);
    return j.skip_value(1);
  });
}

}  // namespace

Status scan_chunk(std::string_view json, ChunkInfo& out) {
  out.choices = 0;
  out.text.clear();
  out.tool_call_delta = out.has_usage = out.is_error = false;
  out.completion_tokens = 0;
  out.prompt_tokens = -1;
  out.error_message.clear();
  JsonScan j(json);
  const bool ok = j.object([&](std::string_view key) {
    if (key == "choices") {
      if (j.null()) return j.ok();
      return j.array([&](int64_t i) {
        ++out.choices;
        return i == 0 ? scan_choice0(j, out) : j.skip_value(1);
      });
    }
    if (key == "usage") {
      if (j.null()) return j.ok();
      return j.object([&](std::string_view k) {
        if (k == "completion_tokens") {
          if (j.null()) return j.ok();
          out.has_usage = true;
          return j.number(&out.completion_tokens);
        }
        if (k == "prompt_tokens") {
          if (j.null()) return j.ok();
          return j.number(&out.prompt_tokens);
        }
        return j.skip_value(1);
      });
    }
    if (key == "error") {
      if (j.null()) return j.ok();
      out.is_error = true;
      if (j.peek() == '{') {
        return j.object([&](std::string_view k) {
          bool unused = false;
          if (k == "message") {
            if (j.peek() == '"') return opt_string(j, out.error_message, unused);
            out.error_message = std::string(j.raw_value());
            return j.ok();
          }
          return j.skip_value(1);
        });
      }
      if (j.peek() == '"') return j.string(&out.error_message);
      out.error_message = std::string(j.raw_value());
      return j.ok();
    }
    return j.skip_value(1);
  });
  if (!ok || !j.ok() || !j.at_end())
    return corrupt("invalid JSON: {}", json.substr(0, 200));
  return Status::ok();
}

}  // namespace minke::bench
