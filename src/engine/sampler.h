// A request's sampling parameters (OpenAI API / vLLM semantics, validated with messages
// naming the parameter) and the per-sequence Sampler: greedy, temperature, top-k, top-p,
// min-p over logits that the logits processors (logits_processor.h) already adjusted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace minke {

// The first four fields keep their order so that `SamplingParams{t, k, p, min_p}` works.
struct SamplingParams {
  float temperature = 1.0f;  // < 1e-5 (vLLM's _SAMPLING_EPS): greedy
  int top_k = 0;             // 0 or -1: no limit
  float top_p = 1.0f;        // (0, 1]
  float min_p = 0.0f;        // [0, 1]: drop tokens below min_p * p(most likely)
  // OpenAI penalties, [-2, 2], on output tokens: logit -= presence * (count > 0) + frequency * count.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // vLLM / HF, > 0, on tokens of the prompt or the output: logit > 0 ? logit / p : logit * p.
  float repetition_penalty = 1.0f;
  std::map<int32_t, float> logit_bias{};  // token id -> bias in [-100, 100], added to the logit
  std::optional<uint64_t> seed{};         // none: the engine seeds from its own counter
  std::optional<int> max_tokens{};        // none: the engine fills its default
  int min_tokens = 0;                     // EOS and stop_token_ids masked until this many are generated
  bool ignore_eos = false;                // EOS neither stops nor is masked by min_tokens
  std::vector<std::string> stop{};        // stop strings (tokenizer/stop_matcher.h); none empty
  std::vector<int32_t> stop_token_ids{};  // stop even with ignore_eos
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;
  std::optional<int> logprobs{};  // top logprobs per generated token, [0, kMaxLogprobs]
  int n = 1;                      // completions per prompt, [1, kMaxN]

  static constexpr int kMaxLogprobs = 20;  // vLLM's default max_logprobs
  static constexpr int kMaxN = 128;        // OpenAI's limit
  static constexpr float kGreedyEpsilon = 1e-5f;

  // Checks every range; errors name the parameter as the OpenAI API spells it. Token ids
  // (logit_bias, stop_token_ids) must lie in [0, vocab_size); with vocab_size < 0 (unknown)
  // they are only checked to be >= 0 and the engine must validate again with the vocab size.
  Status validate(int64_t vocab_size = -1) const;
  bool greedy() const { return temperature < kGreedyEpsilon || top_k == 1; }
};

// One per sequence, so a sequence's tokens never depend on what else is in the batch.
class Sampler {
 public:
  explicit Sampler(uint64_t seed) : rng_(seed) {}
  // The request's seed when it has one (plus `child` for the n > 1 completions, as vLLM
  // derives them: seed + index), else `fallback_seed` (e.g. the engine's request counter)
  // for child 0 and a value mixed from it and `child` for the others, so they differ.
  static Sampler from_params(const SamplingParams& params, uint64_t fallback_seed, int child = 0);
  // The seed from_params uses (device samplers key their counter-based generators by it).
  static uint64_t seed_for(const SamplingParams& params, uint64_t fallback_seed, int child = 0);

  // The sampled token id; logits are not modified. Greedy draws nothing from the generator.
  int32_t sample(std::span<const float> logits, const SamplingParams& params);

 private:
  // Uniform in [0, 1) from 53 bits: the same on every standard library, unlike
  // std::uniform_real_distribution.
  double uniform01() { return double(rng_() >> 11) * 0x1.0p-53; }

  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;  // reused scratch
};

// The first index of the largest logit.
int32_t argmax(std::span<const float> logits);

}  // namespace minke
