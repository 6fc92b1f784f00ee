// BPE merge loop. Hugging Face's Word::merge_all pops (rank, position) from a heap; always
// merging the lowest-rank adjacent pair, leftmost first, is the same order, which the short-word
// path finds by scanning a rank array and the long-word path with a heap over a linked list.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <functional>
#include <queue>

#include "tokenizer/byte_level.h"
#include "core/utf8.h"

namespace minke {
namespace {

uint64_t mix(uint64_t key) {
  key ^= key >> 29;
  key *= 0xbf58476d1ce4e5b9ULL;
  key ^= key >> 32;
  return key;
}

uint64_t pair_key(int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); }

}  // namespace

Result<BpeModel> BpeModel::build(Vocab vocab,
                                 const std::vector<std::pair<std::string, std::string>>& merges,
                                 Options options) {
  BpeModel m;
  m.options_ = options;
  size_t cap = 16;
  while (cap < merges.size() * 2) cap *= 2;
  m.merges_.assign(cap, MergeSlot{kEmpty, 0});
  m.mask_ = cap - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab.find(a), ib = vocab.find(b), im = vocab.find(a + b);
    if (ia == vocab.end() || ib == vocab.end() || im == vocab.end())
      return corrupt("merge {} ({:?} {:?}) uses a token that is not in the vocabulary", rank, a, b);
    // A repeated pair keeps its first (lowest) rank, as HF's merge map does on load.
    if (m.lookup(ia->second, ib->second) == kNoMerge)
      m.insert_merge(ia->second, ib->second, uint64_t(rank) << 32 | uint32_t(im->second));
  }
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    utf8::append(ch, byte_level::byte_to_code_point(uint8_t(b)));
    const auto it = vocab.find(ch);
    m.byte_ids_[b] = it == vocab.end() ? -1 : it->second;
  }
  m.vocab_ = std::move(vocab);
  m.cache_ = std::make_unique<WordCache>(options.cache_capacity);
  return m;
}

uint64_t BpeModel::lookup(int32_t a, int32_t b) const {
  const uint64_t key = pair_key(a, b);
  for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    const MergeSlot& s = merges_[i];
    if (s.key == key) return s.value;
    if (s.key == kEmpty) return kNoMerge;
  }
}

void BpeModel::insert_merge(int32_t a, int32_t b, uint64_t value) {
  const uint64_t key = pair_key(a, b);
  uint64_t i = mix(key) & mask_;
  while (merges_[i].key != kEmpty) i = (i + 1) & mask_;
  merges_[i] = MergeSlot{key, value};
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() == 1) {  // nothing to merge: skip the cache (most punctuation and spaces)
    if (const int32_t id = byte_ids_[uint8_t(word[0])]; id >= 0) out.push_back(id);
    return;
  }
  if (options_.ignore_merges) {
    if (auto id = token_to_id(byte_level::encode(word))) {
      out.push_back(*id);
      return;
    }
  }
  // HF caches words shorter than 256 bytes too; longer ones are rare and cheap to recompute.
  const bool cacheable = word.size() < 256;
  if (cacheable && cache_->get(word, out)) return;
  const size_t start = out.size();
  merge_word(word, out);
  if (cacheable) cache_->put(word, std::span<const int32_t>(out).subspan(start));
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out,
                          size_t quadratic_limit) const {
  std::vector<int32_t> ids;
  ids.reserve(word.size());
  // A byte whose alphabet char is missing from the vocabulary is dropped (HF without unk_token).
  for (const char c : word)
    if (const int32_t id = byte_ids_[uint8_t(c)]; id >= 0) ids.push_back(id);
  if (ids.size() <= quadratic_limit) merge_quadratic(ids, out);
  else merge_heap(ids, out);
}

void BpeModel::merge_quadratic(std::vector<int32_t>& ids, std::vector<int32_t>& out) const {
  size_t n = ids.size();
  // ranks[i]: (rank << 32 | merged id) of the pair (ids[i], ids[i + 1]). Equal ranks mean the
  // same pair, so the first minimum is the leftmost lowest-rank merge.
  uint64_t ranks_small[kQuadraticLimit];
  std::vector<uint64_t> ranks_big;
  uint64_t* ranks = ranks_small;
  if (n > kQuadraticLimit) {
    ranks_big.resize(n);
    ranks = ranks_big.data();
  }
  for (size_t i = 0; i + 1 < n; ++i) ranks[i] = lookup(ids[i], ids[i + 1]);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (ranks[i] < ranks[best]) best = i;
    if (ranks[best] == kNoMerge) break;
    ids[best] = int32_t(uint32_t(ranks[best]));
    std::copy(ids.begin() + best + 2, ids.begin() + n, ids.begin() + best + 1);
    if (best + 2 < n) std::copy(ranks + best + 2, ranks + n - 1, ranks + best + 1);
    --n;
    if (best > 0) ranks[best - 1] = lookup(ids[best - 1], ids[best]);
    if (best + 1 < n) ranks[best] = lookup(ids[best], ids[best + 1]);
  }
  out.insert(out.end(), ids.begin(), ids.begin() + n);
}

void BpeModel::merge_heap(std::vector<int32_t>& ids, std::vector<int32_t>& out) const {
  const int32_t n = int32_t(ids.size());
  std::vector<int32_t> prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  // (rank, position): the heap's top is the lowest rank, then the leftmost position.
  using Entry = std::pair<uint32_t, int32_t>;
  std::vector<Entry> init;
  for (int32_t i = 0; i + 1 < n; ++i)
    if (const uint64_t r = lookup(ids[i], ids[i + 1]); r != kNoMerge) init.emplace_back(uint32_t(r >> 32), i);
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap(std::greater<>{}, std::move(init));
  std::vector<bool> dead(n, false);
  while (!heap.empty()) {
    const auto [rank, pos] = heap.top();
    heap.pop();
    if (dead[pos] || next[pos] < 0) continue;
    const uint64_t r = lookup(ids[pos], ids[next[pos]]);
    if (r == kNoMerge || uint32_t(r >> 32) != rank) continue;  // stale: the pair changed
    const int32_t right = next[pos];
    ids[pos] = int32_t(uint32_t(r));
    dead[right] = true;
    next[pos] = next[right];
    if (next[pos] >= 0) prev[next[pos]] = pos;
    if (prev[pos] >= 0)
      if (const uint64_t rl = lookup(ids[prev[pos]], ids[pos]); rl != kNoMerge)
        heap.emplace(uint32_t(rl >> 32), prev[pos]);
    if (next[pos] >= 0)
      if (const uint64_t rr = lookup(ids[pos], ids[next[pos]]); rr != kNoMerge)
        heap.emplace(uint32_t(rr >> 32), pos);
  }
  for (int32_t i = 0; i >= 0 && i < n; i = next[i]) out.push_back(ids[i]);
}

}  // namespace minke
