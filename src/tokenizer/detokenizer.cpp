// IncrementalDetokenizer: appends each token's bytes to the <= 3 held bytes and emits the longest
// prefix that cannot grow into a character with what follows (utf8::complete_prefix). A lead
// byte always starts a new unit of the U+FFFD replacement, so replacing each emitted prefix on
// its own gives the same text as replacing the whole decode at once.
#include "tokenizer/detokenizer.h"

#include "core/utf8.h"

namespace minke {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDetokenizer::add(int32_t id) {
  if (!tokenizer_->is_token(id) || (skip_special_tokens_ && tokenizer_->is_special(id))) return {};
  pending_ += tokenizer_->token_bytes(id);
  const size_t n = utf8::complete_prefix(pending_);
  const std::string_view ready = std::string_view(pending_).substr(0, n);
  std::string out = utf8::is_valid(ready) ? std::string(ready) : utf8::sanitize(ready);
  pending_.erase(0, n);
  return out;
}

std::string IncrementalDetokenizer::finish() {
  std::string out = utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace minke
