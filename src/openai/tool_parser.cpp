// ToolCallParser: one buffer, one cursor, a five-state machine (content / between calls /
// header / argument lead / arguments). Each byte is scanned O(1) times plus marker compares
// at '<', and consumed text is compacted away, so a whole stream costs O(n).
#include "openai/tool_parser.h"

#include <array>

namespace minke {
namespace {

constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";
constexpr std::string_view kFence = "```";
constexpr std::string_view kJson = "json";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<ToolCallFormat> tool_call_format_from_name(std::string_view name) {
  if (name == "deepseek_v3" || name == "deepseek_r1") return ToolCallFormat::kDeepSeekV3;
  if (name == "deepseek_v31") return ToolCallFormat::kDeepSeekV31;
  return std::nullopt;
}

std::string tool_call_opening(ToolCallFormat format, std::optional<std::string_view> name) {
  std::string out = std::string(kCallsBegin) + std::string(kCallBegin);
  if (format == ToolCallFormat::kDeepSeekV3) {
    out += "function" + std::string(kSep);
    if (name) out += std::string(*name) + "\n```json\n";
  } else if (name) {
    out += std::string(*name) + std::string(kSep);
  }
  return out;
}

void append_tool_delta(ToolParseResult& result, const ToolDelta& delta) {
  if (delta.is_content()) {
    result.content += delta.text;
    return;
  }
  auto index = static_cast<std::size_t>(delta.index);
  if (result.calls.size() <= index) result.calls.resize(index + 1);
  if (delta.name) result.calls[index].name = *delta.name;
  result.calls[index].arguments += delta.text;
}

std::vector<ToolDelta> ToolCallParser::feed(std::string_view delta) {
  compact();
  buf_.append(delta);
  run(false);
  return std::move(out_);
}

std::vector<ToolDelta> ToolCallParser::finish() {
  run(true);
  buf_.clear();
  pos_ = mark_ = 0;
  return std::move(out_);
}

ToolParseResult ToolCallParser::parse(std::string_view text, ToolCallFormat format) {
  ToolCallParser parser(format);
  ToolParseResult result;
  for (const ToolDelta& d : parser.feed(text)) append_tool_delta(result, d);
  for (const ToolDelta& d : parser.finish()) append_tool_delta(result, d);
  return result;
}

void ToolCallParser::compact() {
  if (mark_ == 0 || mark_ < buf_.size() / 2) return;  // amortized: erase only half or more
  buf_.erase(0, mark_);
  pos_ -= mark_;
  header_start_ = header_start_ >= mark_ ? header_start_ - mark_ : 0;
  if (sep_end_ != std::string::npos) sep_end_ -= mark_;
  mark_ = 0;
}

void ToolCallParser::run(bool eof) {
  out_.clear();
  bool progress = true;
  while (progress) {
    switch (state_) {
      case State::kContent: progress = scan_content(eof); break;
      case State::kBlock: progress = scan_block(eof); break;
      case State::kHeader: progress = scan_header(eof); break;
      case State::kArgsLead: progress = scan_args_lead(eof); break;
      case State::kArgs: progress = scan_args(eof); break;
    }
  }
}

ToolCallParser::Match ToolCallParser::match_at(std::size_t at, std::string_view marker) {
  std::size_t n = 0;
  while (n < marker.size() && at + n < buf_.size()) {
    ++examined_;
    if (buf_[at + n] != marker[n]) return Match::kNo;
    ++n;
  }
  return n == marker.size() ? Match::kFull : Match::kPartial;
}

ToolCallParser::Match ToolCallParser::structural_at(std::size_t at, std::string_view* which) {
  static constexpr std::array<std::string_view, 4> kMarkers = {kCallBegin, kCallEnd, kCallsEnd,
                                                               kCallsBegin};
  Match best = Match::kNo;
  for (std::string_view m : kMarkers) {
    Match r = match_at(at, m);
    if (r == Match::kFull) {
      *which = m;
      return r;
    }
    if (r == Match::kPartial) best = r;
  }
  return best;
}

bool ToolCallParser::scan_content(bool eof) {
  while (pos_ < buf_.size()) {
    ++examined_;
    if (buf_[pos_] != '<') {
      ++pos_;
      continue;
    }
    Match m = match_at(pos_, kCallsBegin);
    if (m == Match::kFull) {
      emit_content(std::string_view(buf_).substr(mark_, pos_ - mark_));
      pos_ += kCallsBegin.size();
      mark_ = pos_;
      state_ = State::kBlock;
      return true;
    }
    if (m == Match::kPartial && !eof) break;  // hold the possible marker prefix
    ++pos_;
  }
  emit_content(std::string_view(buf_).substr(mark_, pos_ - mark_));
  mark_ = pos_;
  return false;
}

bool ToolCallParser::scan_block(bool eof) {
  while (pos_ < buf_.size() && is_space(buf_[pos_])) {
    ++examined_;
    ++pos_;
  }
  if (pos_ == buf_.size()) {
    if (eof) mark_ = pos_;  // unterminated block: its trailing whitespace is dropped
    return false;
  }
  Match cb = match_at(pos_, kCallBegin);
  if (cb == Match::kFull) {
    start_header(pos_);
    return true;
  }
  Match e = match_at(pos_, kCallsEnd);
  if (e == Match::kFull) {
    pos_ += kCallsEnd.size();
    mark_ = pos_;
    state_ = State::kContent;
    return true;
  }
  if ((cb == Match::kPartial || e == Match::kPartial) && !eof) return false;
  // Anything else ends the block: re-read it, whitespace included, as content.
  pos_ = mark_;
  state_ = State::kContent;
  return true;
}

void ToolCallParser::start_header(std::size_t cb_at) {
  mark_ = cb_at;
  pos_ = cb_at + kCallBegin.size();
  header_start_ = pos_;
  sep_end_ = std::string::npos;
  state_ = State::kHeader;
}

void ToolCallParser::degrade_header(std::size_t upto) {
  emit_content(std::string_view(buf_).substr(mark_, upto - mark_));
  mark_ = pos_ = upto;
  sep_end_ = std::string::npos;
  state_ = State::kBlock;
}

bool ToolCallParser::scan_header(bool eof) {
  bool v3 = format_ == ToolCallFormat::kDeepSeekV3;
  while (pos_ < buf_.size()) {
    ++examined_;
    char c = buf_[pos_];
    if (v3 && sep_end_ != std::string::npos && c == '\n') {
      std::string_view name = std::string_view(buf_).substr(sep_end_, pos_ - sep_end_);
      if (trim(name).empty()) break;  // malformed; handled below like a marker
      ++pos_;
      commit_call(name);
      return true;
    }
    if (c != '<') {
      ++pos_;
      continue;
    }
    if (sep_end_ == std::string::npos) {
      Match s = match_at(pos_, kSep);
      if (s == Match::kFull) {
        std::string_view before = std::string_view(buf_).substr(header_start_, pos_ - header_start_);
        pos_ += kSep.size();
        if (v3) {
          sep_end_ = pos_;
          continue;
        }
        if (trim(before).empty()) {
          pos_ -= kSep.size();
          break;
        }
        commit_call(before);
        return true;
      }
      if (s == Match::kPartial && !eof) return false;
    }
    std::string_view which;
    Match m = structural_at(pos_, &which);
    if (m == Match::kFull) break;
    if (m == Match::kPartial && !eof) return false;
    ++pos_;
  }
  if (pos_ < buf_.size()) {  // stopped at a marker (or an empty name): malformed call
    degrade_header(pos_);
    return true;
  }
  if (eof) {  // the stream ended inside the header
    degrade_header(buf_.size());
    return false;
  }
  return false;
}

void ToolCallParser::commit_call(std::string_view raw_name) {
  ToolDelta d;
  d.index = calls_++;
  d.name = std::string(trim(raw_name));
  out_.push_back(std::move(d));
  sep_end_ = std::string::npos;
  fence_done_ = false;
  mark_ = pos_;
  state_ = State::kArgsLead;
}

bool ToolCallParser::scan_args_lead(bool eof) {
  while (pos_ < buf_.size() && is_space(buf_[pos_])) {
    ++examined_;
    ++pos_;
  }
  mark_ = pos_;
  if (pos_ == buf_.size() && !eof) return false;
  if (format_ == ToolCallFormat::kDeepSeekV3 && !fence_done_ && pos_ < buf_.size()) {
    Match f = match_at(pos_, kFence);
    if (f == Match::kPartial && !eof) return false;
    if (f == Match::kFull) {
      Match j = match_at(pos_ + kFence.size(), kJson);
      if (j == Match::kPartial && !eof) return false;
      pos_ += kFence.size() + (j == Match::kFull ? kJson.size() : 0);
      fence_done_ = true;
      return true;  // skip the whitespace after the fence
    }
  }
  state_ = State::kArgs;
  return true;
}

bool ToolCallParser::scan_args(bool eof) {
  // Invariant: buf_[mark_, pos_) is a run of whitespace / backticks not yet emitted (it may be
  // the closing fence); `safe` is where that run starts.
  std::size_t safe = mark_;
  while (pos_ < buf_.size()) {
    ++examined_;
    char c = buf_[pos_];
    if (is_space(c) || c == '`') {
      ++pos_;
      continue;
    }
    if (c == '<') {
      std::string_view which;
      Match m = structural_at(pos_, &which);
      if (m == Match::kFull && which != kCallsBegin) {
        emit_args(std::string_view(buf_).substr(mark_, safe - mark_));
        end_call(std::string_view(buf_).substr(safe, pos_ - safe));
        if (which == kCallBegin) {
          start_header(pos_);
        } else {
          pos_ += which.size();
          mark_ = pos_;
          state_ = which == kCallEnd ? State::kBlock : State::kContent;
        }
        return true;
      }
      if (m == Match::kPartial && !eof) break;
    }
    safe = ++pos_;
  }
  emit_args(std::string_view(buf_).substr(mark_, safe - mark_));
  mark_ = safe;
  if (eof) {  // the stream ended inside the arguments: keep the call as written
    end_call(std::string_view(buf_).substr(safe, buf_.size() - safe));
    mark_ = pos_ = buf_.size();
    state_ = State::kContent;
  }
  return false;
}

void ToolCallParser::end_call(std::string_view tail) {
  while (!tail.empty() && is_space(tail.back())) tail.remove_suffix(1);
  if (format_ == ToolCallFormat::kDeepSeekV3 && tail.size() >= kFence.size() &&
      tail.substr(tail.size() - kFence.size()) == kFence) {
    tail.remove_suffix(kFence.size());
    while (!tail.empty() && is_space(tail.back())) tail.remove_suffix(1);
  }
  emit_args(tail);
}

void ToolCallParser::emit_content(std::string_view text) {
  if (text.empty()) return;
  if (!out_.empty() && out_.back().is_content()) {
    out_.back().text.append(text);
    return;
  }
  out_.push_back(ToolDelta{-1, std::nullopt, std::string(text)});
}

void ToolCallParser::emit_args(std::string_view text) {
  if (text.empty()) return;
  int index = calls_ - 1;
  if (!out_.empty() && out_.back().index == index) {
    out_.back().text.append(text);
    return;
  }
  out_.push_back(ToolDelta{index, std::nullopt, std::string(text)});
}

}  // namespace minke
