// CudaBatchSampler against the CPU path (HostBatchSampler's pieces): greedy = argmax with
// ties; the processors bit for bit; the kept set of top-k / top-p / min-p; the draw's
// distribution over 20000 seeds; batch independence; logprobs; the input restored; and the
// Engine driving it with device logits.
// At vocab 129280 (DeepSeek-V3) and small ones. Skips without a GPU (Philox's known answers run anywhere).
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <numbers>
#include <random>

#include "engine/cuda/cuda_batch_sampler.h"
#include "backend/cuda/sampling_philox.h"
#include "engine/engine.h"
#include "gpu_test_util.h"
#include "sampling_gpu_test_util.h"

namespace minke {
namespace {

using test::DeviceLogitsRunner;
using test::random_logits;
using test::row_of;
using test::Seq;

constexpr int64_t kV3Vocab = 129280;
constexpr float kInf = std::numeric_limits<float>::infinity();

// A sampled token must index the row: fail the test (never index out of bounds or abort).
::testing::AssertionResult in_vocab(int32_t token, int64_t vocab) {
  if (token >= 0 && int64_t(token) < vocab) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "token " << token << " outside a vocabulary of " << vocab;
}

TEST(Philox, KnownAnswers) {  // Random123's kat_vectors for philox4x32_10
  using cuda::Philox4;
  const Philox4 a = cuda::philox4x32_10(Philox4{{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(a.v[0], 0x6627e8d5u);
  EXPECT_EQ(a.v[3], 0x9b00dbd8u);
  const Philox4 b = cuda::philox4x32_10(Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
                                        0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(b.v[0], 0xd16cfe09u);
  EXPECT_EQ(b.v[1], 0x94fdccebu);
  EXPECT_EQ(b.v[2], 0x5001e420u);
  EXPECT_EQ(b.v[3], 0x24126ea1u);
}

// GpuTest, plus: no work or fault of an earlier test is pending on the device when a
// sampling test starts (a fault there would otherwise show up as a sampling failure).
class CudaSampling : public test::GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess) << "a fault left by an earlier test";
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  }
};

// Fails with the Status's message (a CudaBatchSampler error names the row and the token).
#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const Status status_ = (expr);                        \
    ASSERT_TRUE(status_.is_ok()) << status_.to_string();  \
  } while (0)

TEST_F(CudaSampling, GreedyIsTheFirstArgmax) {
  for (int64_t vocab : {int64_t(1), int64_t(7), int64_t(1000), kV3Vocab}) {
    const int64_t rows = 12;
    Tensor logits = random_logits(rows, vocab, rng, 3.0f);
    std::uniform_int_distribution<int64_t> pos(0, vocab - 1);
    for (int64_t r = 0; r < rows; ++r) {
      auto l = row_of(logits, r);
      if (r % 4 == 1) {  // the max at several places: the first one wins
        const int64_t a = pos(rng), b = pos(rng), c = pos(rng);
        l[size_t(a)] = l[size_t(b)] = l[size_t(c)] = 50.0f;
      }
      if (r % 4 == 2) std::fill(l.begin(), l.end(), 0.25f);  // all tied: 0
      if (r % 4 == 3) std::fill(l.begin(), l.end(), -kInf);  // all masked: 0
      if (r == 5) l[0] = l[size_t(vocab - 1)] = 60.0f;
    }
    std::deque<Seq> seqs;
    std::vector<SampleRow> sample_rows;
    for (int64_t r = 0; r < rows; ++r) {
      SamplingParams p = r % 2 == 0 ? SamplingParams{0.0f} : SamplingParams{1.0f, 1};  // T = 0, top_k = 1
      seqs.emplace_back(p, std::vector<int32_t>{0}, uint64_t(r));
      sample_rows.push_back(seqs.back().row());
    }
    CudaBatchSampler sampler;
    std::vector<SampleResult> out;
    CudaSamplerDebug debug;
    for (bool on_device : {false, true}) {
      const Tensor input = on_device ? test::to_device(logits) : logits;
      ASSERT_OK(sampler.sample_debug(input, sample_rows, out, debug));
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_TRUE(in_vocab(out[r].token, vocab)) << "row " << r;
        EXPECT_EQ(out[r].token, argmax(row_of(logits, r))) << "vocab " << vocab << " row " << r;
        EXPECT_FALSE(out[r].logprobs.has_value());
        for (int64_t v = 0; v < vocab; ++v)
          ASSERT_EQ(debug.kept[size_t(r * vocab + v)], v == out[r].token ? 1 : 0);
      }
    }
  }
}

// Histories that exercise every processor: prompt and output overlaps, EOS/stop ids under
// and past min_tokens, ignore_eos, penalties of both signs, biases on penalized tokens.
std::deque<Seq> processor_rows(int64_t vocab, std::mt19937& rng, int rows) {
  std::deque<Seq> seqs;
  std::uniform_int_distribution<int32_t> tok(0, int32_t(std::min<int64_t>(vocab, 400) - 1));
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int r = 0; r < rows; ++r) {
    SamplingParams p;
    p.temperature = r % 5 == 0 ? 0.0f : 0.5f + 1.5f * u(rng);
    if (r % 3 != 2) p.repetition_penalty = r % 2 ? 1.0f + u(rng) : 0.3f + 0.6f * u(rng);
    if (r % 4 != 3) {
      p.frequency_penalty = 4.0f * u(rng) - 2.0f;
      p.presence_penalty = r % 2 ? 4.0f * u(rng) - 2.0f : 0.0f;
    }
    for (int b = 0; b < r % 6; ++b) p.logit_bias[tok(rng)] = 200.0f * u(rng) - 100.0f;
    p.min_tokens = r % 4;
    p.ignore_eos = r % 7 == 3;
    if (r % 3 == 0) p.stop_token_ids = {tok(rng), 2, tok(rng)};  // 2 is also an EOS id
    std::vector<int32_t> prompt(size_t(1 + r * 5));
    for (auto& t : prompt) t = tok(rng);
    seqs.emplace_back(p, prompt, uint64_t(1000 + r), std::vector<int32_t>{1, 2});
    for (int g = 0; g < r % 5; ++g) seqs.back().tokens.add_output(g % 2 ? prompt[0] : tok(rng));
  }
  return seqs;
}

TEST_F(CudaSampling, ProcessorsMatchTheCpuBitForBitAndTheInputIsRestored) {
  for (int64_t vocab : {int64_t(400), kV3Vocab}) {
    const int rows = 24;
    std::deque<Seq> seqs = processor_rows(vocab, rng, rows);
    Tensor logits = random_logits(rows, vocab, rng, 3.0f);
    std::vector<SampleRow> sample_rows;
    for (Seq& s : seqs) sample_rows.push_back(s.row());
    const Tensor device = test::to_device(logits);
    CudaBatchSampler sampler;
    std::vector<SampleResult> out;
    CudaSamplerDebug debug;
    ASSERT_OK(sampler.sample_debug(device, sample_rows, out, debug));
    const std::vector<float> after = test::download(device);
    for (int r = 0; r < rows; ++r) {
      const std::span<float> raw = row_of(logits, r);
      std::vector<float> want(raw.begin(), raw.end());
      apply_logits_processors(want, seqs[size_t(r)].params, seqs[size_t(r)].tokens);
      for (int64_t v = 0; v < vocab; ++v) {
        const size_t at = size_t(r * vocab + v);
        ASSERT_TRUE(test::same_bits(debug.processed[at], want[size_t(v)]))
            << "row " << r << " token " << v << ": " << debug.processed[at] << " vs " << want[size_t(v)];
        ASSERT_TRUE(test::same_bits(after[at], logits.data<float>()[at])) << "not restored: row " << r;
      }
      if (seqs[size_t(r)].params.greedy()) {
        EXPECT_EQ(out[size_t(r)].token, argmax(want)) << "row " << r;
      }
    }
  }
}

// The parameter mixes of the kept-set test.
std::vector<SamplingParams> filter_params() {
  std::vector<SamplingParams> ps = {
      {1.0f},                    // every candidate above 1e-12
      {1.0f, 50},                // top-k
      {0.7f, 5},                 // small top-k
      {1.0f, 0, 0.9f},           // top-p
      {2.0f, 0, 0.5f},           // top-p, flat
      {0.8f, 0, 0.999f},         // top-p, nearly everything
      {0.5f, 0, 1.0f, 0.1f},     // min-p
      {1.3f, 1000, 0.95f, 0.01f},  // all three
      {1.0f, 40, 0.3f, 0.05f},
      {1e-3f},                   // tiny temperature (not greedy)
      {1.0f, 129279},            // top-k above the candidates: off
      {3.0f, 20000, 0.6f},
  };
  return ps;
}

TEST_F(CudaSampling, KeptSetEqualsTheCpuSamplersUpToRounding) {
  struct Data {
    int64_t vocab;
    float scale, quantum;
  };
  int checked = 0, ambiguous = 0;
  for (const Data d : {Data{kV3Vocab, 3.0f, 0.0f}, Data{kV3Vocab, 2.0f, 0.5f}, Data{kV3Vocab, 1.0f, 0.0f},
                       Data{1000, 4.0f, 0.0f}, Data{1000, 2.0f, 1.0f}, Data{9, 1.0f, 0.0f}}) {
    const std::vector<SamplingParams> ps = filter_params();
    const int64_t rows = int64_t(ps.size()) * 2;
    Tensor logits = random_logits(rows, d.vocab, rng, d.scale, d.quantum);
    for (int64_t v = 0; v < d.vocab; v += 3) logits.data<float>()[v] = -kInf;  // row 0: masked tokens
    std::deque<Seq> seqs;
    std::vector<SampleRow> sample_rows;
    for (int64_t r = 0; r < rows; ++r) {
      seqs.emplace_back(ps[size_t(r) % ps.size()], std::vector<int32_t>{0}, uint64_t(r));
      sample_rows.push_back(seqs.back().row());
    }
    CudaBatchSampler sampler;
    std::vector<SampleResult> out;
    CudaSamplerDebug debug;
    ASSERT_OK(sampler.sample_debug(logits, sample_rows, out, debug));
    for (int64_t r = 0; r < rows; ++r) {
      const test::KeptReference ref = test::cpu_kept(row_of(logits, r), seqs[size_t(r)].params);
      std::vector<uint8_t> want(size_t(d.vocab), 0);
      for (int32_t id : ref.kept) want[size_t(id)] = 1;
      const uint8_t* got = debug.kept.data() + r * d.vocab;
      if (!in_vocab(out[size_t(r)].token, d.vocab)) {
        ADD_FAILURE() << "vocab " << d.vocab << " row " << r << ": " << in_vocab(out[size_t(r)].token, d.vocab).message();
        continue;
      }
      EXPECT_EQ(got[out[size_t(r)].token], 1) << "drew a token outside its own kept set, row " << r;
      if (ref.ambiguous) {
        ++ambiguous;
        continue;
      }
      ++checked;
      EXPECT_EQ(want[size_t(out[size_t(r)].token)], 1) << "drew a token outside the CPU's set, row " << r;
      int64_t diff = 0, first = -1;
      for (int64_t v = 0; v < d.vocab; ++v)
        if (got[v] != want[size_t(v)]) {
          if (first < 0) first = v;
          ++diff;
        }
      EXPECT_EQ(diff, 0) << "vocab " << d.vocab << " quantum " << d.quantum << " row " << r << ": " << diff
                         << " tokens differ (first " << first << "), CPU keeps " << ref.kept.size();
    }
  }
  std::printf("kept sets: %d compared exactly, %d with a boundary within rounding\n", checked, ambiguous);
  EXPECT_GE(checked, 4 * ambiguous);
}

// 20000 draws of one row, one seed each: the frequencies match the CPU's renormalized
// probabilities. The expected total variation of 20000 draws is checked to be < 0.015 first,
// so the 0.03 bound sits many standard deviations away.
void expect_distribution(CudaBatchSampler& sampler, const Tensor& row, Seq& seq, int draws, std::mt19937& rng) {
  const int64_t vocab = row.dim(1);
  std::vector<float> processed(row.data<float>(), row.data<float>() + vocab);
  apply_logits_processors(processed, seq.params, seq.tokens);
  const test::KeptReference ref = test::cpu_kept(processed, seq.params);
  ASSERT_FALSE(ref.ambiguous) << "the test's row has a boundary within rounding: draw another";
  double expected_tv = 0;
  for (double p : ref.prob) expected_tv += 0.5 * std::sqrt(2.0 * p * (1 - p) / (std::numbers::pi * draws));
  ASSERT_LT(expected_tv, 0.015) << "the test's distribution has too many likely tokens for " << draws << " draws";
  const int64_t chunk = 1000;
  Tensor device = test::device_empty({chunk, vocab});
  for (int64_t r = 0; r < chunk; ++r)
    ASSERT_EQ(cudaMemcpy(device.data<float>() + r * vocab, row.raw(), size_t(vocab) * sizeof(float),
                         cudaMemcpyHostToDevice), cudaSuccess);
  std::vector<int64_t> counts(size_t(vocab), 0);
  std::vector<SampleResult> out;
  for (int64_t done = 0; done < draws; done += chunk) {
    std::vector<SampleRow> rows;
    for (int64_t r = 0; r < chunk; ++r) rows.push_back(seq.row(uint64_t(rng()) << 20 | uint64_t(done + r), (done + r) % 7));
    ASSERT_OK(sampler.sample(device, rows, out));
    for (const SampleResult& s : out) {
      ASSERT_TRUE(in_vocab(s.token, vocab));
      ++counts[size_t(s.token)];
    }
  }
  double tv = 0, outside = 1;
  for (size_t j = 0; j < ref.kept.size(); ++j) {
    tv += 0.5 * std::abs(double(counts[size_t(ref.kept[j])]) / draws - ref.prob[j]);
    outside -= double(counts[size_t(ref.kept[j])]) / draws;
  }
  tv += 0.5 * std::abs(outside);
  std::printf("%zu kept tokens: total variation %.4f (expected %.4f)\n", ref.kept.size(), tv, expected_tv);
  EXPECT_LT(tv, 0.03);
  EXPECT_LT(std::abs(outside), 1e-12) << "draws outside the CPU's kept set";
}

TEST_F(CudaSampling, DrawsFollowTheCpuDistribution) {
  CudaBatchSampler sampler;
  Seq top_k(SamplingParams{0.8f, 20}, {0}, 0);
  Seq nucleus(SamplingParams{0.6f, 0, 0.8f, 0.02f}, {0}, 0);
  Tensor big;
  do {  // a row whose kept sets have no boundary within rounding (almost always the first)
    big = random_logits(1, kV3Vocab, rng, 3.0f);
  } while (test::cpu_kept(row_of(big, 0), top_k.params).ambiguous ||
           test::cpu_kept(row_of(big, 0), nucleus.params).ambiguous);
  expect_distribution(sampler, big, top_k, 20000, rng);
  expect_distribution(sampler, big, nucleus, 20000, rng);
  // A small vocabulary through every processor.
  Tensor small = random_logits(1, 12, rng, 1.5f);
  SamplingParams p{1.2f};
  p.repetition_penalty = 1.5f;
  p.frequency_penalty = 0.4f;
  p.presence_penalty = 0.3f;
  p.logit_bias = {{3, 1.5f}, {9, -2.0f}};
  p.min_tokens = 5;
  Seq all(p, {3, 4, 5}, 0, {7});
  for (int32_t t : {4, 4, 6}) all.tokens.add_output(t);
  expect_distribution(sampler, small, all, 20000, rng);
}

TEST_F(CudaSampling, SameSeedAndHistoryGiveTheSameTokenInAnyBatch) {
  const int64_t rows = 8;
  Tensor logits = random_logits(rows, kV3Vocab, rng, 2.0f);
  const std::vector<SamplingParams> ps = filter_params();
  std::deque<Seq> seqs;
  std::vector<SampleRow> all;
  for (int64_t r = 0; r < rows; ++r) {
    seqs.emplace_back(ps[size_t(r)], std::vector<int32_t>{1, 2, 3}, uint64_t(77 + r));
    all.push_back(seqs.back().row(seqs.back().seed, r * 3));
  }
  CudaBatchSampler sampler;
  std::vector<SampleResult> batch, alone, other;
  ASSERT_OK(sampler.sample(logits, all, batch));
  // Reversed, between filler rows, from device memory.
  Tensor mixed = random_logits(2 * rows, kV3Vocab, rng, 2.0f);
  std::vector<SampleRow> mixed_rows;
  Seq filler(SamplingParams{0.9f, 0, 0.9f}, {5}, 5);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t src = rows - 1 - r;
    std::copy_n(row_of(logits, src).begin(), kV3Vocab, row_of(mixed, 2 * r + 1).begin());
    mixed_rows.push_back(filler.row(uint64_t(r), 0));
    mixed_rows.push_back(all[size_t(src)]);
  }
  ASSERT_OK(sampler.sample(test::to_device(mixed), mixed_rows, other));
  int changed = 0;
  for (int64_t r = 0; r < rows; ++r) {
    Tensor one = Tensor::zeros(DType::kF32, {1, kV3Vocab});
    std::copy_n(row_of(logits, r).begin(), kV3Vocab, one.data<float>());
    ASSERT_OK(sampler.sample(one, std::span<const SampleRow>(&all[size_t(r)], 1), alone));
    EXPECT_EQ(alone[0].token, batch[size_t(r)].token) << "row " << r << " alone";
    EXPECT_EQ(other[size_t(2 * (rows - 1 - r) + 1)].token, batch[size_t(r)].token) << "row " << r << " mixed";
    for (int64_t counter = 1; counter < 6; ++counter) {  // another step: usually another token
      ASSERT_OK(sampler.sample(one, std::vector<SampleRow>{seqs[size_t(r)].row(seqs[size_t(r)].seed, r * 3 + counter)},
                                 alone));
      changed += alone[0].token != batch[size_t(r)].token;
    }
  }
  EXPECT_GT(changed, 0) << "the draw ignores the token counter";
}

TEST_F(CudaSampling, LogprobsMatchComputeLogprobs) {
  for (int64_t vocab : {int64_t(10), int64_t(3000), kV3Vocab}) {
    const int64_t rows = 16;
    Tensor logits = random_logits(rows, vocab, rng, 2.0f);
    std::uniform_int_distribution<int64_t> pos(0, vocab - 1);
    for (int64_t r = 0; r < rows; ++r) {  // ties: duplicated top values and duplicated random ones
      auto l = row_of(logits, r);
      const int64_t top = argmax(l);
      for (int k = 0; k < 3; ++k) l[size_t(pos(rng))] = l[size_t(top)];
      for (int k = 0; k < 40; ++k) l[size_t(pos(rng))] = l[size_t(pos(rng))];
      if (r == 3) {  // -0 and +0 tie
        l[0] = -0.0f;
        l[1] = 0.0f;
      }
    }
    std::deque<Seq> seqs = processor_rows(vocab, rng, int(rows));
    std::vector<SampleRow> sample_rows;
    const int tops[] = {0, 1, 5, 20, -1, 20, 3, 12};
    for (size_t r = 0; r < seqs.size(); ++r) {
      if (tops[r % 8] >= 0) seqs[r].params.logprobs = tops[r % 8];
      sample_rows.push_back(seqs[r].row());
    }
    CudaBatchSampler sampler;
    std::vector<SampleResult> out;
    ASSERT_OK(sampler.sample(test::to_device(logits), sample_rows, out));
    for (int64_t r = 0; r < rows; ++r) {
      const Seq& s = seqs[size_t(r)];
      ASSERT_EQ(out[size_t(r)].logprobs.has_value(), s.params.logprobs.has_value()) << r;
      if (!s.params.logprobs) continue;
      const TokenLogprobs& got = *out[size_t(r)].logprobs;
      // compute_logprobs aborts on a token outside the row: check first.
      if (!in_vocab(out[size_t(r)].token, vocab)) {
        ADD_FAILURE() << "vocab " << vocab << " row " << r << ": " << in_vocab(out[size_t(r)].token, vocab).message();
        continue;
      }
      const TokenLogprobs want = compute_logprobs(row_of(logits, r), out[size_t(r)].token, *s.params.logprobs);
      EXPECT_EQ(got.token, want.token);
      EXPECT_NEAR(got.logprob, want.logprob, 1e-5) << "vocab " << vocab << " row " << r;
      EXPECT_EQ(got.rank, want.rank) << "vocab " << vocab << " row " << r;
      ASSERT_EQ(got.top.size(), want.top.size());
      for (size_t j = 0; j < want.top.size(); ++j) {
        EXPECT_EQ(got.top[j].first, want.top[j].first) << "vocab " << vocab << " row " << r << " entry " << j;
        EXPECT_NEAR(got.top[j].second, want.top[j].second, 1e-5);
      }
    }
  }
}

TEST_F(CudaSampling, EngineSamplesDeviceLogitsLikeTheHostPath) {
  constexpr int32_t kEos = 1;
  auto decode = [](std::span<const int32_t>) { return std::string(); };
  std::vector<std::vector<RequestOutput>> runs;
  for (bool device : {false, true}) {
    ScriptedRunner scripted(kV3Vocab, {{"", {10, 11, 12, 13}}}, kEos, decode);
    DeviceLogitsRunner on_device(scripted);
    KvCacheManager kv(64, 4, true);
    EngineConfig config;
    config.scheduler.max_model_len = 200;
    config.block_size = 4;
    config.num_blocks = 64;
    CudaBatchSampler cuda_sampler;
    Engine engine(config, device ? static_cast<StepRunner&>(on_device) : scripted, kv, nullptr, {kEos},
                  device ? &cuda_sampler : nullptr);
    EngineRequest r;
    r.prompt = {5, 7, 9};
    r.params.temperature = 0.9f;  // the scripted token's +50 wins any draw
    r.params.top_p = 0.95f;
    r.params.logprobs = 3;
    r.params.presence_penalty = 0.5f;
    r.params.n = 2;
    auto stream = *engine.submit(r);
    while (engine.has_work()) engine.step();
    ASSERT_TRUE(engine.fault().is_ok()) << engine.fault().to_string();
    std::vector<RequestOutput> events;
    while (auto ev = stream->try_next()) events.push_back(std::move(*ev));
    runs.push_back(std::move(events));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  int tokens = 0;
  for (size_t e = 0; e < runs[0].size(); ++e) {
    const RequestOutput &host = runs[0][e], &dev = runs[1][e];
    EXPECT_EQ(host.index, dev.index);
    EXPECT_EQ(host.token_ids, dev.token_ids);
    ASSERT_EQ(host.logprobs.size(), dev.logprobs.size());
    for (size_t t = 0; t < host.logprobs.size(); ++t, ++tokens) {
      EXPECT_NEAR(host.logprobs[t].logprob, dev.logprobs[t].logprob, 1e-5);
      EXPECT_EQ(host.logprobs[t].rank, dev.logprobs[t].rank);
      ASSERT_EQ(host.logprobs[t].top.size(), dev.logprobs[t].top.size());
      for (size_t j = 0; j < host.logprobs[t].top.size(); ++j)
        EXPECT_EQ(host.logprobs[t].top[j].first, dev.logprobs[t].top[j].first);
    }
  }
  EXPECT_EQ(tokens, 10);  // two completions of 10, 11, 12, 13, EOS
}

TEST_F(CudaSampling, StepTimeAtDeepSeekV3Vocab) {  // a measurement, not a bound
  const int64_t rows = 64;
  const Tensor device = test::to_device(random_logits(rows, kV3Vocab, rng, 3.0f));
  std::deque<Seq> seqs;
  std::vector<SampleRow> sample_rows;
  for (int64_t r = 0; r < rows; ++r) {
    SamplingParams p{0.8f, r % 2 ? 50 : 0, 0.9f, r % 3 ? 0.0f : 0.05f};
    p.repetition_penalty = 1.1f;
    p.logprobs = r % 4 ? std::nullopt : std::optional<int>(5);
    seqs.emplace_back(p, std::vector<int32_t>(200, int32_t(r)), uint64_t(r));
    sample_rows.push_back(seqs.back().row());
  }
  CudaBatchSampler sampler;
  std::vector<SampleResult> out;
  ASSERT_OK(sampler.sample(device, sample_rows, out));  // warm-up
  const auto start = std::chrono::steady_clock::now();
  const int iters = 20;
  for (int i = 0; i < iters; ++i) ASSERT_OK(sampler.sample(device, sample_rows, out));
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / iters;
  std::printf("sampling %lld rows of %lld: %.1f us per step\n", (long long)rows, (long long)kV3Vocab, us);
}

}  // namespace
}  // namespace minke
