// HostBatchSampler: equals, token for token and bit for bit in the logprobs, the per-row
// path the engine used before the BatchSampler seam (processors, the row's Sampler,
// compute_logprobs of the raw row) over several steps of a mixed batch; rejects device
// logits and mismatched shapes.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "engine/batch_sampler.h"

namespace minke {
namespace {

constexpr int64_t kVocab = 300;

struct Seq {
  SamplingParams params;
  SequenceTokens tokens;
  Sampler sampler;
  uint64_t seed;
};

std::vector<Seq> mixed_batch() {
  std::vector<Seq> seqs;
  auto add = [&](SamplingParams p, std::vector<int32_t> prompt, uint64_t seed) {
    seqs.push_back(Seq{p, SequenceTokens(prompt, {7, 11}), Sampler(seed), seed});
  };
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  add(greedy, {1, 2, 3}, 1);
  SamplingParams plain;
  plain.logprobs = 5;
  add(plain, {4, 4, 5}, 2);
  SamplingParams filtered{0.7f, 20, 0.9f, 0.05f};
  filtered.logprobs = 0;
  add(filtered, {9, 10}, 3);
  SamplingParams penalized{1.2f, 0, 0.95f};
  penalized.presence_penalty = 0.5f;
  penalized.frequency_penalty = 0.3f;
  penalized.repetition_penalty = 1.3f;
  penalized.logit_bias = {{5, 3.0f}, {100, -100.0f}, {7, 2.0f}};
  penalized.logprobs = 20;
  add(penalized, {5, 6, 7, 8, 5}, 4);
  SamplingParams min_tokens{0.9f};
  min_tokens.min_tokens = 3;
  min_tokens.stop_token_ids = {12, 13};
  add(min_tokens, {1}, 5);
  SamplingParams top_k_one{1.0f, 1};
  top_k_one.repetition_penalty = 0.8f;  // < 1 favours repeats
  add(top_k_one, {20, 21, 22}, 6);
  SamplingParams ignore{1.5f, 50};
  ignore.ignore_eos = true;
  ignore.min_tokens = 2;
  ignore.logprobs = 3;
  add(ignore, {30}, 7);
  return seqs;
}

// What Engine::sample_and_emit did per row before the seam.
int32_t old_path(std::span<float> logits, Seq& s, std::optional<TokenLogprobs>* lp) {
  std::vector<float> raw;
  if (s.params.logprobs) raw.assign(logits.begin(), logits.end());
  apply_logits_processors(logits, s.params, s.tokens);
  const int32_t tok = s.sampler.sample(logits, s.params);
  if (s.params.logprobs) *lp = compute_logprobs(raw, tok, *s.params.logprobs);
  return tok;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

TEST(HostBatchSampler, EqualsThePerRowPathOverSteps) {
  std::vector<Seq> expected = mixed_batch(), got = mixed_batch();
  const size_t n = expected.size();
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  HostBatchSampler sampler;
  std::vector<SampleResult> results;
  for (int step = 0; step < 12; ++step) {
    Tensor logits = Tensor::zeros(DType::kF32, {int64_t(n), kVocab});
    for (int64_t i = 0; i < logits.numel(); ++i) logits.data<float>()[i] = dist(rng);
    logits.data<float>()[kVocab + 3] = logits.data<float>()[kVocab + 4] = 9.0f;  // a tie at the top
    Tensor copy = Tensor::zeros(DType::kF32, {int64_t(n), kVocab});
    std::memcpy(copy.raw(), logits.raw(), logits.nbytes());

    std::vector<SampleRow> rows;
    for (Seq& s : got)
      rows.push_back({&s.params, &s.tokens, &s.sampler, s.seed, s.tokens.num_generated(),
                      s.params.logprobs ? *s.params.logprobs : -1});
    ASSERT_TRUE(sampler.sample(logits, rows, results).is_ok());
    ASSERT_EQ(results.size(), n);
    for (size_t i = 0; i < n; ++i) {
      std::optional<TokenLogprobs> lp;
      const int32_t tok = old_path({copy.data<float>() + int64_t(i) * kVocab, size_t(kVocab)}, expected[i], &lp);
      ASSERT_EQ(results[i].token, tok) << "step " << step << " row " << i;
      ASSERT_EQ(results[i].logprobs.has_value(), lp.has_value());
      if (lp) {
        EXPECT_EQ(results[i].logprobs->token, lp->token);
        EXPECT_TRUE(same_bits(results[i].logprobs->logprob, lp->logprob));
        EXPECT_EQ(results[i].logprobs->rank, lp->rank);
        ASSERT_EQ(results[i].logprobs->top.size(), lp->top.size());
        for (size_t j = 0; j < lp->top.size(); ++j) {
          EXPECT_EQ(results[i].logprobs->top[j].first, lp->top[j].first);
          EXPECT_TRUE(same_bits(results[i].logprobs->top[j].second, lp->top[j].second));
        }
      }
      // Both paths process their logits in place: the rows must match too.
      for (int64_t v = 0; v < kVocab; ++v)
        ASSERT_TRUE(same_bits(logits.data<float>()[int64_t(i) * kVocab + v], copy.data<float>()[int64_t(i) * kVocab + v]));
      expected[i].tokens.add_output(tok);
      got[i].tokens.add_output(tok);
    }
  }
}

TEST(HostBatchSampler, RejectsDeviceLogitsAndBadShapes) {
  std::vector<Seq> seqs = mixed_batch();
  std::vector<SampleRow> rows;
  for (Seq& s : seqs) rows.push_back({&s.params, &s.tokens, &s.sampler, s.seed, 0, -1});
  HostBatchSampler sampler;
  std::vector<SampleResult> out;
  Tensor host = Tensor::zeros(DType::kF32, {int64_t(rows.size()), kVocab});
  Tensor device = Tensor::view_of(host.raw(), DType::kF32, host.shape(), nullptr, Device::kCuda);
  EXPECT_EQ(sampler.sample(device, rows, out).code(), StatusCode::kInvalidArgument);
  Tensor short_rows = Tensor::zeros(DType::kF32, {int64_t(rows.size()) - 1, kVocab});
  EXPECT_EQ(sampler.sample(short_rows, rows, out).code(), StatusCode::kInvalidArgument);
  Tensor bf16 = Tensor::zeros(DType::kBF16, {int64_t(rows.size()), kVocab});
  EXPECT_EQ(sampler.sample(bf16, rows, out).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(sampler.sample(host, rows, out).is_ok());
  EXPECT_EQ(out.size(), rows.size());
  Tensor none = Tensor::zeros(DType::kF32, {0, kVocab});
  EXPECT_TRUE(sampler.sample(none, {}, out).is_ok());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace minke
