// AddedVocabulary over byte tries (HF builds Aho-Corasick automata with LeftmostLongest; at each
// position the longest token starting there, first position first, is the same match set).
// find_matches follows HF's added_vocabulary.rs find_matches step by step, quirks included: a
// single_word match that is discarded still consumes its bytes, and lstrip never reaches back
// past the previous match.
#include "tokenizer/added_tokens.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include "tokenizer/onig_regex.h"
#include "core/utf8.h"

namespace minke {

struct AddedVocabulary::Trie {
  struct Node {
    int32_t token = -1;  // index into tokens_ of the token ending here
    std::vector<std::pair<uint8_t, int32_t>> next;
  };
  std::vector<Node> nodes = std::vector<Node>(1);
  bool first[256] = {};
  bool empty = true;

  void insert(std::string_view s, int32_t token) {
    int32_t node = 0;
    for (const char c : s) {
      const uint8_t b = uint8_t(c);
      auto& next = nodes[node].next;
      auto it = std::find_if(next.begin(), next.end(), [b](const auto& e) { return e.first == b; });
      if (it == next.end()) {
        nodes.emplace_back();
        nodes[node].next.emplace_back(b, int32_t(nodes.size() - 1));
        node = int32_t(nodes.size() - 1);
      } else {
        node = it->second;
      }
    }
    nodes[node].token = token;  // a repeated content: the later token wins, as in HF's map
    first[uint8_t(s[0])] = true;
    empty = false;
  }

  // Length of the longest token starting at text[pos] (0 if none) and its index in `*token`.
  size_t longest(std::string_view text, size_t pos, int32_t* token) const {
    size_t best = 0;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const uint8_t b = uint8_t(text[i]);
      const auto& next = nodes[node].next;
      auto it = std::find_if(next.begin(), next.end(), [b](const auto& e) { return e.first == b; });
      if (it == next.end()) break;
      node = it->second;
      if (nodes[node].token >= 0) {
        best = i + 1 - pos;
        *token = nodes[node].token;
      }
    }
    return best;
  }
};

// Rust regex's Unicode \w (HF's single_word test): Alphabetic, M, Nd, Pc, Join_Control.
struct AddedVocabulary::WordClass {
  pcre2_code* code = nullptr;
  ~WordClass() { pcre2_code_free(code); }
};

AddedVocabulary::AddedVocabulary() = default;
AddedVocabulary::AddedVocabulary(AddedVocabulary&&) noexcept = default;
AddedVocabulary& AddedVocabulary::operator=(AddedVocabulary&&) noexcept = default;
AddedVocabulary::~AddedVocabulary() = default;

Result<AddedVocabulary> AddedVocabulary::build(std::vector<AddedToken> tokens) {
  AddedVocabulary v;
  v.raw_trie_ = std::make_unique<Trie>();
  v.normalized_trie_ = std::make_unique<Trie>();
  bool single_word = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const AddedToken& t = tokens[i];
    if (t.content.empty()) continue;  // HF ignores empty added tokens
    if (!utf8::is_valid(t.content)) return corrupt("added token {} is not valid UTF-8", t.id);
    (t.normalized ? *v.normalized_trie_ : *v.raw_trie_).insert(t.content, int32_t(i));
    single_word |= t.single_word;
  }
  if (single_word) {
    static constexpr char kWord[] = R"(^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}])";
    int err = 0;
    PCRE2_SIZE offset = 0;
    v.word_class_ = std::make_unique<WordClass>();
    v.word_class_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kWord), PCRE2_ZERO_TERMINATED,
                                        PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (!v.word_class_->code) return internal_error("PCRE2 lacks Unicode binary properties");
  }
  v.tokens_ = std::move(tokens);
  return v;
}

bool AddedVocabulary::is_word_char(uint32_t cp) const {
  std::string s;
  utf8::append(s, cp);
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  const int rc = pcre2_match(word_class_->code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(),
                             0, 0, md, nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}

void AddedVocabulary::find_matches(const Trie& trie, std::string_view text, uint32_t base,
                                   std::vector<Segment>& out) const {
  const size_t n = text.size();
  size_t start_offset = 0;
  for (size_t pos = 0; pos < n;) {
    int32_t index = -1;
    const size_t len = trie.first[uint8_t(text[pos])] ? trie.longest(text, pos, &index) : 0;
    if (len == 0) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + len;
    pos = stop;
    const AddedToken& t = tokens_[index];
    size_t cl;
    if (t.single_word) {
      const bool start_space =
          start == 0 || !is_word_char(utf8::decode_at(text, utf8::previous_boundary(text, start), &cl));
      const bool stop_space = stop == n || !is_word_char(utf8::decode_at(text, stop, &cl));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t s = start;
      while (s > 0) {
        const size_t b = utf8::previous_boundary(text, s);
        if (!is_white_space(utf8::decode_at(text, b, &cl))) break;
        s = b;
      }
      start = std::max(s, start_offset);
    }
    if (t.rstrip)
      while (stop < n && is_white_space(utf8::decode_at(text, stop, &cl))) stop += cl;
    if (start_offset < start) out.push_back({base + uint32_t(start_offset), base + uint32_t(start), -1});
    out.push_back({base + uint32_t(start), base + uint32_t(stop), t.id});
    start_offset = stop;
  }
  if (start_offset != n) out.push_back({base + uint32_t(start_offset), base + uint32_t(n), -1});
}

void AddedVocabulary::split(std::string_view text, std::vector<Segment>& out) const {
  if (text.empty()) return;
  std::vector<Segment> raw;
  if (raw_trie_->empty) raw.push_back({0, uint32_t(text.size()), -1});
  else find_matches(*raw_trie_, text, 0, raw);
  for (const Segment& s : raw) {
    if (s.id >= 0 || normalized_trie_->empty) out.push_back(s);
    else find_matches(*normalized_trie_, text.substr(s.begin, s.end - s.begin), s.begin, out);
  }
}

}  // namespace minke
