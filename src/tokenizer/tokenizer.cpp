// Tokenizer: encode (added tokens -> pre-tokenizer -> BPE per piece -> post-processor ids) and
// decode (token bytes -> UTF-8 with U+FFFD), plus the vocabulary accessors.
#include "tokenizer/tokenizer.h"

#include "tokenizer/tokenizer_impl.h"
#include "core/utf8.h"

namespace minke {

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  MINKE_CHECK(text.size() < (size_t(1) << 32), "text of {} bytes is too long to encode", text.size());
  std::string sanitized;
  if (!utf8::is_valid(text)) {
    sanitized = utf8::sanitize(text);
    text = sanitized;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_special_tokens) ids = impl_->prefix;
  std::vector<AddedVocabulary::Segment> segments;
  impl_->added.split(text, segments);
  std::vector<PreTokenizer::Piece> pieces;
  for (const auto& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const std::string_view part = text.substr(seg.begin, seg.end - seg.begin);
    pieces.clear();
    impl_->pre.split(part, pieces);
    for (const auto& p : pieces) impl_->bpe.encode_word(part.substr(p.begin, p.end - p.begin), ids);
  }
  if (add_special_tokens) ids.insert(ids.end(), impl_->suffix.begin(), impl_->suffix.end());
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string bytes;
  for (const int32_t id : ids) {
    if (!is_token(id) || (skip_special_tokens && is_special(id))) continue;
    bytes += token_bytes(id);
  }
  return utf8::is_valid(bytes) ? bytes : utf8::sanitize(bytes);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const auto it = impl_->added_ids.find(token); it != impl_->added_ids.end()) return it->second;
  return impl_->bpe.token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  if (!is_token(id)) return std::nullopt;
  return impl_->tokens[size_t(id)];
}

int32_t Tokenizer::vocab_size() const { return int32_t(impl_->tokens.size()); }
std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }

bool Tokenizer::is_token(int32_t id) const {
  return id >= 0 && size_t(id) < impl_->flags.size() && (impl_->flags[size_t(id)] & Impl::kIsToken);
}

bool Tokenizer::is_special(int32_t id) const {
  return is_token(id) && (impl_->flags[size_t(id)] & Impl::kIsSpecial);
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (!is_token(id)) return {};
  const uint32_t b = impl_->bytes_offsets[size_t(id)], e = impl_->bytes_offsets[size_t(id) + 1];
  return std::string_view(impl_->bytes_arena).substr(b, e - b);
}

}  // namespace minke
