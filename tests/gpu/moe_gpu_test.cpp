// Op conformance, CPU vs CUDA, for the MoE router and the token permutation: moe_route's ids
// exactly and weights to 1e-6 at the fixtures' and DeepSeek-V3's dims, for every scoring and
// topk method, with exact ties and masked groups; moe_permute against a stable host sort, with
// invalid ids; the route -> experts pipeline inside a captured CUDA graph. Skips without a GPU.
// (moe_experts and MoeExpertTable: moe_experts_gpu_test.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "backend/cuda/moe.h"
#include "backend/cuda/moe_expert_table.h"
#include "gpu_test_util.h"
#include "moe_gpu_test_util.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using test::random_f32;

using CudaMoe = test::GpuTest;

RouterParams router(ScoringFunc scoring, TopkMethod method, int64_t experts, int64_t groups, int64_t topk_group,
                    int64_t k, bool norm, float scaling) {
  RouterParams p;
  p.scoring = scoring;
  p.method = method;
  p.n_experts = experts;
  p.n_group = groups;
  p.topk_group = topk_group;
  p.top_k = k;
  p.norm_topk_prob = norm;
  p.routed_scaling_factor = scaling;
  return p;
}

RouterParams v3(int64_t experts, int64_t groups, int64_t topk_group, int64_t k) {
  return router(ScoringFunc::kSigmoid, TopkMethod::kNoauxTc, experts, groups, topk_group, k, true, 2.5f);
}

// Routes logits [T, E] on both backends; ids must be equal, weights within 1e-6 relative.
void expect_route_matches(CpuBackend& cpu, const RouterParams& r, const Tensor& logits, const Tensor& bias,
                          const std::string& what) {
  const int64_t t = logits.dim(0), k = r.top_k;
  Tensor ids = Tensor::zeros(DType::kI32, {t, k}), w = Tensor::zeros(DType::kF32, {t, k});
  cpu.moe_route(logits, bias, r, ids, w);
  DeviceBuffer<float> dlogits(logits.data<float>(), size_t(logits.numel()));
  DeviceBuffer<float> dbias{bias.defined() ? size_t(bias.numel()) : 0};
  if (bias.defined()) cudaMemcpy(dbias.get(), bias.data<float>(), bias.nbytes(), cudaMemcpyHostToDevice);
  DeviceBuffer<int32_t> dids{size_t(t * k)};
  DeviceBuffer<float> dw{size_t(t * k)};
  const Status st =
      cuda::moe_route({dlogits.get(), bias.defined() ? dbias.get() : nullptr, dids.get(), dw.get(), t, r}, nullptr);
  ASSERT_TRUE(st.is_ok()) << what << ": " << st.to_string();
  const std::vector<int32_t> got_ids = dids.download();
  const std::vector<float> got_w = dw.download();
  int64_t bad_ids = 0, bad_w = 0;
  double worst = 0;
  for (int64_t i = 0; i < t * k; ++i) {
    bad_ids += got_ids[size_t(i)] != ids.data<int32_t>()[i];
    const double want = w.data<float>()[i], rel = std::fabs(got_w[size_t(i)] - want) / std::max(std::fabs(want), 1e-30);
    worst = std::max(worst, rel);
    bad_w += !(rel <= 1e-6);
  }
  EXPECT_EQ(bad_ids, 0) << what << ": " << bad_ids << " of " << t * k << " ids differ";
  EXPECT_EQ(bad_w, 0) << what << ": worst relative weight error " << worst;
}

// Logits on a coarse grid (multiples of `step`), so that many scores tie exactly.
Tensor coarse(Tensor t, float step) {
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = std::round(t.data<float>()[i] / step) * step;
  return t;
}

TEST_F(CudaMoe, RouteMatchesCpuAtFixtureAndV3Dims) {
  // tiny-v3 fixtures: 16 experts in 4 groups, 2 kept, top 4; DeepSeek-V3: 256 / 8 / 4 / 8.
  for (auto [r, t] : {std::pair{v3(16, 4, 2, 4), 1}, {v3(16, 4, 2, 4), 7}, {v3(16, 4, 2, 4), 64},
                      {v3(256, 8, 4, 8), 1}, {v3(256, 8, 4, 8), 300}, {v3(512, 8, 4, 16), 37},
                      {v3(1024, 16, 4, 32), 9}}) {
    const Tensor logits = random_f32({t, r.n_experts}, rng, 2.0f);
    const Tensor bias = random_f32({r.n_experts}, rng, 0.3f);
    expect_route_matches(cpu, r, logits, bias, fmt::format("noaux_tc E={} T={}", r.n_experts, t));
    expect_route_matches(cpu, r, logits, Tensor(), fmt::format("noaux_tc no bias E={} T={}", r.n_experts, t));
  }
}

TEST_F(CudaMoe, RouteMatchesCpuForSoftmaxGreedyAndGroupLimited) {
  const Tensor bias = random_f32({160}, rng, 0.3f);  // ignored by both methods
  const RouterParams cases[] = {
      // V2-Lite: softmax, plain top-6 of 64, not normalized.
      router(ScoringFunc::kSoftmax, TopkMethod::kGreedy, 64, 1, 1, 6, false, 1.0f),
      // V2: softmax, group_limited_greedy, 160 experts in 8 groups, 3 kept, top 6, scaled 16.
      router(ScoringFunc::kSoftmax, TopkMethod::kGroupLimitedGreedy, 160, 8, 3, 6, false, 16.0f),
      router(ScoringFunc::kSoftmax, TopkMethod::kGroupLimitedGreedy, 160, 8, 3, 6, true, 1.0f),
      router(ScoringFunc::kSigmoid, TopkMethod::kGreedy, 256, 8, 4, 8, true, 2.5f),  // groups ignored
      router(ScoringFunc::kSigmoid, TopkMethod::kGroupLimitedGreedy, 256, 8, 4, 8, true, 2.5f),
      router(ScoringFunc::kSoftmax, TopkMethod::kNoauxTc, 160, 8, 3, 6, true, 1.0f),
  };
  for (const RouterParams& r : cases)
    for (int64_t t : {1, 300}) {
      const Tensor logits = random_f32({t, r.n_experts}, rng, 2.0f);
      Tensor b = r.n_experts == 160 ? bias : random_f32({r.n_experts}, rng, 0.3f);
      expect_route_matches(cpu, r, logits, b,
                           fmt::format("scoring {} method {} E={} T={}", int(r.scoring), int(r.method), r.n_experts, t));
    }
}

TEST_F(CudaMoe, RouteBreaksTiesTowardsTheLowerIndex) {
  // Logits and bias on coarse grids: equal experts, equal groups and equal top-2 sums.
  for (const RouterParams& r : {v3(16, 4, 2, 4), v3(256, 8, 4, 8),
                                router(ScoringFunc::kSoftmax, TopkMethod::kGroupLimitedGreedy, 64, 8, 3, 6, false, 1.0f),
                                router(ScoringFunc::kSigmoid, TopkMethod::kGreedy, 32, 1, 1, 8, true, 1.0f)}) {
    const Tensor logits = coarse(random_f32({200, r.n_experts}, rng, 1.5f), 0.5f);
    const Tensor bias = coarse(random_f32({r.n_experts}, rng, 0.2f), 0.125f);
    expect_route_matches(cpu, r, logits, bias, fmt::format("ties E={}", r.n_experts));
    Tensor flat = Tensor::zeros(DType::kF32, {3, r.n_experts});  // every expert equal
    expect_route_matches(cpu, r, flat, Tensor(), fmt::format("all equal E={}", r.n_experts));
  }
}

TEST_F(CudaMoe, RoutePicksMaskedExpertsWhenTheKeptGroupsRunOut) {
  // 1 group of 4 kept but top 6: the last two picks are -inf choices (lowest masked indices),
  // weighed by their real scores.
  for (const RouterParams& r : {v3(16, 4, 1, 6), router(ScoringFunc::kSoftmax, TopkMethod::kGroupLimitedGreedy, 16, 4, 1,
                                                         6, true, 1.0f)}) {
    const Tensor logits = random_f32({50, 16}, rng, 2.0f);
    expect_route_matches(cpu, r, logits, random_f32({16}, rng, 0.3f), "masked picks");
  }
}

TEST_F(CudaMoe, RouteRejectsWhatItCannotRoute) {
  DeviceBuffer<float> logits{4 * 2048};
  DeviceBuffer<int32_t> ids{4 * 64};
  DeviceBuffer<float> w{4 * 64};
  auto route = [&](const RouterParams& r) { return cuda::moe_route({logits.get(), nullptr, ids.get(), w.get(), 4, r}, nullptr); };
  EXPECT_TRUE(route(v3(256, 8, 4, 8)).is_ok());
  EXPECT_FALSE(route(v3(2048, 8, 4, 8)).is_ok());  // too many experts
  EXPECT_FALSE(route(v3(256, 8, 4, 33)).is_ok());  // top_k beyond a warp
  EXPECT_FALSE(route(v3(256, 7, 4, 8)).is_ok());   // groups do not divide the experts
  EXPECT_FALSE(route(v3(256, 8, 9, 8)).is_ok());   // more kept groups than groups
  EXPECT_FALSE(route(v3(8, 8, 4, 2)).is_ok());     // noaux_tc top-2 of one-expert groups
  EXPECT_FALSE(cuda::moe_route({nullptr, nullptr, ids.get(), w.get(), 4, v3(256, 8, 4, 8)}, nullptr).is_ok());
  EXPECT_TRUE(cuda::moe_route({nullptr, nullptr, nullptr, nullptr, 0, v3(256, 8, 4, 8)}, nullptr).is_ok());
}

// Permutes ids [T, k] on the GPU and checks every output against a stable host sort.
void expect_permutation(const std::vector<int32_t>& ids, int64_t tokens, int64_t k, int64_t experts,
                        const std::string& what) {
  const size_t bytes = cuda::moe_permute_workspace_bytes(tokens, k, experts);
  ASSERT_GT(bytes, 0u) << what;
  DeviceBuffer<uint8_t> ws{bytes};
  DeviceBuffer<int32_t> dids(ids.data(), ids.size());
  cuda::MoePermutation perm;
  const Status st = cuda::moe_permute({dids.get(), tokens, k, experts, ws.get(), bytes}, &perm, nullptr);
  ASSERT_TRUE(st.is_ok()) << what << ": " << st.to_string();
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const size_t pairs = size_t(tokens * k);
  auto fetch = [](const int32_t* d, size_t n) {
    std::vector<int32_t> h(n);
    EXPECT_EQ(cudaMemcpy(h.data(), d, n * sizeof(int32_t), cudaMemcpyDeviceToHost), cudaSuccess);
    return h;
  };
  const std::vector<int32_t> sorted = fetch(perm.sorted_pairs, pairs), src = fetch(perm.src_rows, pairs);
  const std::vector<int32_t> inverse = fetch(perm.inverse, pairs), offsets = fetch(perm.offsets, size_t(experts + 1));

  auto key = [&](int32_t p) { return ids[size_t(p)] >= 0 && ids[size_t(p)] < experts ? ids[size_t(p)] : int32_t(experts); };
  std::vector<int32_t> want(pairs);
  std::iota(want.begin(), want.end(), 0);
  std::stable_sort(want.begin(), want.end(), [&](int32_t a, int32_t b) { return key(a) < key(b); });
  ASSERT_EQ(sorted, want) << what;  // a permutation of the pairs, sorted by expert, stable
  std::vector<int64_t> count(size_t(experts + 1), 0);
  for (size_t p = 0; p < pairs; ++p) ++count[size_t(key(int32_t(p)))];
  EXPECT_EQ(offsets[0], 0) << what;
  int64_t bad = 0;
  for (int64_t e = 0; e < experts; ++e) {
    bad += offsets[size_t(e + 1)] - offsets[size_t(e)] != count[size_t(e)];
    for (int32_t s = std::max(offsets[size_t(e)], 0); s < offsets[size_t(e + 1)] && size_t(s) < pairs; ++s)
      bad += key(sorted[size_t(s)]) != e;
  }
  EXPECT_EQ(bad, 0) << what << ": offsets disagree with the counts";
  EXPECT_EQ(offsets[size_t(experts)], int64_t(pairs) - count[size_t(experts)]) << what;  // the valid pairs
  for (size_t s = 0; s < pairs; ++s) {
    bad += src[s] != sorted[s] / k;
    bad += sorted[s] < 0 || size_t(sorted[s]) >= pairs || inverse[size_t(sorted[s])] != int32_t(s);
  }
  EXPECT_EQ(bad, 0) << what << ": src_rows or inverse wrong";
}

TEST_F(CudaMoe, PermutationIsAStableSortByExpert) {
  for (auto [tokens, k, experts] : {std::tuple<int64_t, int64_t, int64_t>{1, 4, 16}, {5, 4, 16}, {64, 4, 16}, {1, 8, 256},
                                    {5, 8, 256}, {300, 8, 256}, {4099, 8, 256}, {7, 1, 1}, {33, 16, 512}}) {
    std::vector<int32_t> ids;
    std::vector<int32_t> all(static_cast<size_t>(experts));
    std::iota(all.begin(), all.end(), 0);
    for (int64_t t = 0; t < tokens; ++t) {  // distinct experts per token, as the router picks
      std::shuffle(all.begin(), all.end(), rng);
      ids.insert(ids.end(), all.begin(), all.begin() + k);
    }
    expect_permutation(ids, tokens, k, experts, fmt::format("T={} k={} E={}", tokens, k, experts));
  }
  // Skewed: every token on experts 3..10 (the rest empty), and invalid ids sorted last.
  std::vector<int32_t> skewed, invalid;
  for (int t = 0; t < 100; ++t)
    for (int j = 0; j < 8; ++j) {
      skewed.push_back(3 + j);
      invalid.push_back(j == 2 ? -1 : j == 5 ? 256 + t : j == 7 ? (1 << 30) : j * 31);
    }
  expect_permutation(skewed, 100, 8, 256, "skewed");
  expect_permutation(invalid, 100, 8, 256, "invalid ids");
  expect_permutation({}, 0, 8, 256, "no tokens");
}

TEST_F(CudaMoe, RouteAndExpertsReplayInACapturedGraph) {
  // Fixture dims, FP8 experts with act_quant: the whole MoE path captured once, replayed twice.
  const int64_t t = 37, d = 256, inter = 128;
  const RouterParams r = v3(16, 4, 2, 4);
  const test::ExpertSpec spec{DType::kF8E4M3, true, true};
  const test::MoeExperts experts = test::make_experts(16, d, inter, spec, test::all_but(16, {3, 11}), 5);
  auto table = cuda::MoeExpertTable::create(experts.device);
  ASSERT_TRUE(table.is_ok()) << table.status().to_string();
  const Tensor x = random_f32({t, d}, rng), logits = random_f32({t, 16}, rng, 2.0f), bias = random_f32({16}, rng, 0.3f);
  Tensor ids = Tensor::zeros(DType::kI32, {t, 4}), w = Tensor::zeros(DType::kF32, {t, 4});
  Tensor want = Tensor::zeros(DType::kF32, {t, d});
  cpu.moe_route(logits, bias, r, ids, w);
  cpu.moe_experts(x, ids, w, experts.host, want);

  DeviceBuffer<float> dx(x.data<float>(), size_t(x.numel())), dlogits(logits.data<float>(), size_t(logits.numel()));
  DeviceBuffer<float> dbias(bias.data<float>(), 16), dw{size_t(t * 4)}, dout{size_t(t * d)};
  DeviceBuffer<int32_t> dids{size_t(t * 4)};
  const size_t bytes = cuda::moe_workspace_bytes(t, 4, 16, d, inter);
  ASSERT_GT(bytes, 0u);
  DeviceBuffer<uint8_t> ws{bytes};
  cuda::MoeExpertsParams p;
  (*table)->fill(p);
  p.x = dx.get();
  p.ids = dids.get();
  p.weights = dw.get();
  p.out = dout.get();
  p.tokens = t;
  p.top_k = 4;
  p.workspace = ws.get();
  p.workspace_bytes = bytes;

  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  cudaGraph_t graph;
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  const Status routed = cuda::moe_route({dlogits.get(), dbias.get(), dids.get(), dw.get(), t, r}, stream);
  const Status ran = cuda::moe_experts(p, stream);
  ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess) << "something in the MoE path synchronized";
  ASSERT_TRUE(routed.is_ok()) << routed.to_string();
  ASSERT_TRUE(ran.is_ok()) << ran.to_string();
  cudaGraphExec_t exec;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  for (int replay = 0; replay < 2; ++replay) {
    ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    EXPECT_EQ(dids.download(), std::vector<int32_t>(ids.data<int32_t>(), ids.data<int32_t>() + t * 4));
    EXPECT_LT(test::rel_error(dout.download(), want.data<float>(), size_t(t * d)), 1e-2) << "replay " << replay;
    ASSERT_EQ(cudaMemset(dout.get(), 0xff, size_t(t * d) * sizeof(float)), cudaSuccess);  // NaN: must be rewritten
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace minke
