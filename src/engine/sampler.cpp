// SamplingParams::validate and the Sampler: candidates are pruned with partial sorts so
// a 129k vocabulary costs a linear pass plus a small sort, not a full sort per token.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace minke {
namespace {

bool in_closed(float x, float lo, float hi) { return x >= lo && x <= hi; }  // false for NaN

Status check_token_id(std::string_view what, int32_t id, int64_t vocab_size) {
  if (id < 0 || (vocab_size >= 0 && id >= vocab_size))
    return invalid_argument("{}: token id {} is out of range [0, {})", what, id,
                            vocab_size >= 0 ? fmt::to_string(vocab_size) : "vocab size");
  return Status::ok();
}

}  // namespace

Status SamplingParams::validate(int64_t vocab_size) const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature))
    return invalid_argument("temperature must be >= 0, got {}", temperature);
  if (top_k < -1) return invalid_argument("top_k must be -1, 0 or >= 1, got {}", top_k);
  if (!(top_p > 0.0f && top_p <= 1.0f)) return invalid_argument("top_p must be in (0, 1], got {}", top_p);
  if (!in_closed(min_p, 0.0f, 1.0f)) return invalid_argument("min_p must be in [0, 1], got {}", min_p);
  if (!in_closed(presence_penalty, -2.0f, 2.0f))
    return invalid_argument("presence_penalty must be in [-2, 2], got {}", presence_penalty);
  if (!in_closed(frequency_penalty, -2.0f, 2.0f))
    return invalid_argument("frequency_penalty must be in [-2, 2], got {}", frequency_penalty);
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty))
    return invalid_argument("repetition_penalty must be > 0, got {}", repetition_penalty);
  for (const auto& [id, bias] : logit_bias) {
    MINKE_TRY(check_token_id("logit_bias", id, vocab_size));
    if (!in_closed(bias, -100.0f, 100.0f))
      return invalid_argument("logit_bias for token {} must be in [-100, 100], got {}", id, bias);
  }
  if (max_tokens && *max_tokens < 1) return invalid_argument("max_tokens must be >= 1, got {}", *max_tokens);
  if (min_tokens < 0) return invalid_argument("min_tokens must be >= 0, got {}", min_tokens);
  if (max_tokens && min_tokens > *max_tokens)
    return invalid_argument("min_tokens must be <= max_tokens ({}), got {}", *max_tokens, min_tokens);
  for (const std::string& s : stop)
    if (s.empty()) return invalid_argument("stop cannot contain an empty string");
  for (int32_t id : stop_token_ids) MINKE_TRY(check_token_id("stop_token_ids", id, vocab_size));
  if (logprobs && (*logprobs < 0 || *logprobs > kMaxLogprobs))
    return invalid_argument("logprobs must be in [0, {}], got {}", kMaxLogprobs, *logprobs);
  if (n < 1 || n > kMaxN) return invalid_argument("n must be in [1, {}], got {}", kMaxN, n);
  return Status::ok();
}

namespace {

bool by_weight(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// Keeps the most likely candidates holding top_p of the mass (the smallest such set,
// ties by lower id), growing a sorted prefix (64, 512, ...) instead of sorting all.
void keep_nucleus(std::vector<std::pair<float, int32_t>>& c, float top_p) {
  double total = 0;
  for (const auto& x : c) total += x.first;
  double mass = 0;
  size_t sorted = 0, k = std::min<size_t>(64, c.size());
  for (;;) {
    std::partial_sort(c.begin() + sorted, c.begin() + k, c.end(), by_weight);
    for (; sorted < k; ++sorted) {
      mass += c[sorted].first;
      if (mass >= double(top_p) * total) {
        c.resize(sorted + 1);
        return;
      }
    }
    if (k == c.size()) return;
    k = std::min(c.size(), k * 8);
  }
}

}  // namespace

int32_t argmax(std::span<const float> logits) {
  return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

uint64_t Sampler::seed_for(const SamplingParams& params, uint64_t fallback_seed, int child) {
  if (params.seed) return *params.seed + uint64_t(child);
  if (child == 0) return fallback_seed;
  // Unseeded siblings must differ, and must not collide with the next request's
  // fallback_seed + 1: mix the child index through splitmix64's finalizer.
  uint64_t z = uint64_t(child) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return fallback_seed ^ (z ^ (z >> 31));
}

Sampler Sampler::from_params(const SamplingParams& params, uint64_t fallback_seed, int child) {
  return Sampler(seed_for(params, fallback_seed, child));
}

int32_t Sampler::sample(std::span<const float> logits, const SamplingParams& p) {
  if (p.greedy()) return argmax(logits);
  const int64_t n = int64_t(logits.size());
  const float inv_t = 1.0f / p.temperature;
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  if (!(max_logit > -std::numeric_limits<float>::infinity())) return argmax(logits);  // all masked
  // Unnormalized probabilities exp((l - max) / T); tokens below 1e-12 of the best
  // one cannot matter at float precision and are dropped up front (so are -inf logits).
  candidates_.clear();
  for (int64_t i = 0; i < n; ++i) {
    const float w = std::exp((logits[i] - max_logit) * inv_t);
    if (w > 1e-12f) candidates_.emplace_back(w, int32_t(i));
  }
  if (p.top_k > 0 && int64_t(candidates_.size()) > p.top_k) {
    std::nth_element(candidates_.begin(), candidates_.begin() + p.top_k, candidates_.end(), by_weight);
    candidates_.resize(size_t(p.top_k));
  }
  if (p.top_p < 1.0f) keep_nucleus(candidates_, p.top_p);
  if (p.min_p > 0.0f) {
    float best = 0;
    for (const auto& c : candidates_) best = std::max(best, c.first);
    std::erase_if(candidates_, [&](const auto& c) { return c.first < p.min_p * best; });
  }
  double total = 0;
  for (const auto& c : candidates_) total += c.first;
  double u = uniform01() * total;
  for (const auto& c : candidates_) {
    u -= c.first;
    if (u < 0) return c.second;
  }
  return candidates_.back().second;  // rounding left u a hair above zero
}

}  // namespace minke
