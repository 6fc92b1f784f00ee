// Split(Isolated) sequences over PCRE2. Each level matches inside one piece of the level above
// (the piece is the whole subject, so lookarounds cannot see past it, as in HF where each piece
// is its own string). Matching uses JIT when available; a JIT stack overflow (deep backtracking
// on a huge piece) retries with a large JIT stack, then with the interpreter.
#include "tokenizer/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/onig_regex.h"
#include "core/utf8.h"

namespace minke {

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Regex() { pcre2_code_free(code); }
};

namespace {

struct MatchData {
  explicit MatchData(const pcre2_code* code) : md(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(md); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* md;
};

// The per-call state of one split(): match data per level, and a big JIT stack made on demand.
struct SplitState {
  std::vector<std::unique_ptr<MatchData>> md;
  pcre2_jit_stack* big_stack = nullptr;
  pcre2_match_context* big_context = nullptr;
  ~SplitState() {
    pcre2_match_context_free(big_context);
    pcre2_jit_stack_free(big_stack);
  }
};

// Finds the first match at or after `start`; false when there is none.
bool find(const PreTokenizer::Piece& piece, const char* text, size_t start, pcre2_code* code,
          bool jit, pcre2_match_data* md, SplitState& st, size_t* ms, size_t* me) {
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text + piece.begin);
  const size_t len = piece.end - piece.begin;
  int rc = jit ? pcre2_jit_match(code, subject, len, start, 0, md, nullptr)
               : pcre2_match(code, subject, len, start, PCRE2_NO_UTF_CHECK, md, nullptr);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    if (!st.big_stack) {
      st.big_stack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
      st.big_context = pcre2_match_context_create(nullptr);
      pcre2_jit_stack_assign(st.big_context, nullptr, st.big_stack);
    }
    rc = pcre2_jit_match(code, subject, len, start, 0, md, st.big_context);
  }
  if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)  // still failing: the interpreter keeps frames on the heap
    rc = pcre2_match(code, subject, len, start, PCRE2_NO_UTF_CHECK, md, nullptr);
  // A pattern that cannot finish here (heap limit) leaves the rest of the piece unsplit.
  if (rc < 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  *ms = ov[0];
  *me = ov[1];
  return true;
}

void split_level(const std::vector<std::unique_ptr<PreTokenizer::Regex>>& regexes, size_t level,
                 const char* text, PreTokenizer::Piece piece, SplitState& st,
                 std::vector<PreTokenizer::Piece>& out) {
  if (piece.end == piece.begin) return;  // HF drops empty splits
  if (level == regexes.size()) {
    out.push_back(piece);
    return;
  }
  const PreTokenizer::Regex& re = *regexes[level];
  pcre2_match_data* md = st.md[level]->md;
  const size_t len = piece.end - piece.begin;
  size_t prev = 0, search = 0, ms, me;
  while (search <= len && find(piece, text, search, re.code, re.jit, md, st, &ms, &me)) {
    split_level(regexes, level + 1, text, {piece.begin + uint32_t(prev), piece.begin + uint32_t(ms)}, st, out);
    split_level(regexes, level + 1, text, {piece.begin + uint32_t(ms), piece.begin + uint32_t(me)}, st, out);
    prev = me;
    search = me;
    if (me == ms) {  // an empty match: search again one character further, as Oniguruma does
      if (me >= len) break;
      const int n = utf8::sequence_length(uint8_t(text[piece.begin + me]));
      search = me + size_t(n > 0 ? n : 1);
    }
  }
  split_level(regexes, level + 1, text, {piece.begin + uint32_t(prev), piece.end}, st, out);
}

}  // namespace

Result<PreTokenizer> PreTokenizer::build(const std::vector<std::string>& patterns) {
  PreTokenizer pt;
  for (const std::string& onig : patterns) {
    MINKE_ASSIGN_OR_RETURN(const std::string pattern, onig_to_pcre2(onig));
    auto re = std::make_unique<Regex>();
    int err = 0;
    PCRE2_SIZE offset = 0;
    re->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (!re->code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return invalid_argument("regex {:?} does not compile at offset {}: {}", onig, offset,
                              reinterpret_cast<const char*>(msg));
    }
    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
    pt.regexes_.push_back(std::move(re));
  }
  return pt;
}

PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::split(std::string_view text, std::vector<Piece>& out) const {
  SplitState st;
  for (const auto& re : regexes_) st.md.push_back(std::make_unique<MatchData>(re->code));
  split_level(regexes_, 0, text.data(), {0, uint32_t(text.size())}, st, out);
}

}  // namespace minke
