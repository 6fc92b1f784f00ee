// Op conformance, CPU vs CUDA: moe_experts through a MoeExpertTable, relative error <= 1e-2
// (whole output and every token's row) at the fixtures' dims and DeepSeek-V3's (hidden 7168,
// inter 2048, 256 experts of which a few are held), FP8 with act_quant on and off, BF16 and F32
// experts, experts held elsewhere (null), partial FP8 blocks, skinny (decode) and tiled
// (prefill) group sizes; the table's and the launcher's checks. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "backend/cuda/moe.h"
#include "backend/cuda/moe_expert_table.h"
#include "gpu_test_util.h"
#include "moe_gpu_test_util.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using test::ExpertSpec;
using test::MoeExperts;
using test::random_f32;

using CudaMoeExperts = test::GpuTest;

// moe_experts on the GPU for host x [T, D], ids [T, k], weights [T, k]; out [T, D] on the host
// (empty after a failure, which is reported).
std::vector<float> run_gpu(const Tensor& x, const Tensor& ids, const Tensor& w, const MoeExperts& experts) {
  auto table = cuda::MoeExpertTable::create(experts.device);
  if (!table.is_ok()) {
    ADD_FAILURE() << table.status().to_string();
    return {};
  }
  const int64_t t = x.dim(0), d = x.dim(1), k = ids.dim(1);
  cuda::MoeExpertsParams p;
  (*table)->fill(p);
  EXPECT_EQ(p.hidden, d);
  const size_t bytes = cuda::moe_workspace_bytes(t, k, p.experts, d, p.inter, p.block_k);
  EXPECT_GT(bytes, 0u);
  DeviceBuffer<uint8_t> ws{bytes};
  DeviceBuffer<float> dx(x.data<float>(), size_t(x.numel())), dw(w.data<float>(), size_t(w.numel()));
  DeviceBuffer<int32_t> dids(ids.data<int32_t>(), size_t(ids.numel()));
  DeviceBuffer<float> dout{size_t(t * d)};
  p.x = dx.get();
  p.ids = dids.get();
  p.weights = dw.get();
  p.out = dout.get();
  p.tokens = t;
  p.top_k = k;
  p.workspace = ws.get();
  p.workspace_bytes = bytes;
  const Status st = cuda::moe_experts(p, nullptr);
  if (!st.is_ok()) {
    ADD_FAILURE() << st.to_string();
    return {};
  }
  return dout.download();
}

// CPU reference vs GPU: the whole output and each token's row within 1e-2 relative.
void expect_experts_match(CpuBackend& cpu, const Tensor& x, const Tensor& ids, const Tensor& w,
                          const MoeExperts& experts, const std::string& what) {
  const int64_t t = x.dim(0), d = x.dim(1);
  Tensor want = Tensor::zeros(DType::kF32, {t, d});
  cpu.moe_experts(x, ids, w, experts.host, want);
  const std::vector<float> got = run_gpu(x, ids, w, experts);
  ASSERT_EQ(got.size(), size_t(t * d)) << what;
  EXPECT_LT(test::rel_error(got, want.data<float>(), got.size()), 1e-2) << what;
  int64_t bad_rows = 0;
  double worst = 0;
  for (int64_t i = 0; i < t; ++i) {
    const std::vector<float> row(got.begin() + i * d, got.begin() + (i + 1) * d);
    const double err = test::rel_error(row, want.data<float>() + i * d, size_t(d));
    worst = std::max(worst, err);
    bad_rows += !(err <= 1e-2);
  }
  EXPECT_EQ(bad_rows, 0) << what << ": worst row error " << worst;
}

// ids [T, k] from the CPU router on random logits, and its weights.
std::pair<Tensor, Tensor> route(CpuBackend& cpu, const RouterParams& r, int64_t t, std::mt19937& rng) {
  Tensor ids = Tensor::zeros(DType::kI32, {t, r.top_k}), w = Tensor::zeros(DType::kF32, {t, r.top_k});
  cpu.moe_route(random_f32({t, r.n_experts}, rng, 2.0f), random_f32({r.n_experts}, rng, 0.3f), r, ids, w);
  return {ids, w};
}

// ids [T, k]: each token k distinct experts of `pool`; weights in [0.05, 0.55).
std::pair<Tensor, Tensor> pick_from(const std::vector<int>& pool, int64_t t, int64_t k, std::mt19937& rng) {
  Tensor ids = Tensor::zeros(DType::kI32, {t, k}), w = Tensor::zeros(DType::kF32, {t, k});
  std::vector<int> order = pool;
  std::uniform_real_distribution<float> weight(0.05f, 0.55f);
  for (int64_t i = 0; i < t; ++i) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t j = 0; j < k; ++j) {
      ids.data<int32_t>()[i * k + j] = order[size_t(j)];
      w.data<float>()[i * k + j] = weight(rng);
    }
  }
  return {ids, w};
}

RouterParams fixture_router() {  // tiny-v3: 16 experts, 4 groups, 2 kept, top 4
  RouterParams r;
  r.n_experts = 16;
  r.n_group = 4;
  r.topk_group = 2;
  r.top_k = 4;
  r.routed_scaling_factor = 2.5f;
  return r;
}

TEST_F(CudaMoeExperts, MatchesCpuAtFixtureDims) {
  const int64_t d = 256, inter = 128;  // tiny-v3: hidden 256, moe_intermediate 128
  const ExpertSpec specs[] = {{DType::kF8E4M3, true, true},  {DType::kF8E4M3, false, false},
                              {DType::kF8E4M3, true, false}, {DType::kBF16, false, false},
                              {DType::kBF16, true, true},    {DType::kF32, false, false}};
  for (const ExpertSpec& spec : specs) {
    // Experts 3 and 11 live on another rank.
    const MoeExperts experts = test::make_experts(16, d, inter, spec, test::all_but(16, {3, 11}), 17);
    for (int64_t t : {1, 5, 64}) {
      auto [ids, w] = route(cpu, fixture_router(), t, rng);
      expect_experts_match(cpu, random_f32({t, d}, rng), ids, w, experts,
                           fmt::format("dtype {} quantize {}/{} T={}", dtype_name(spec.dtype), spec.quantize_gate_up,
                                       spec.quantize_down, t));
    }
  }
}

TEST_F(CudaMoeExperts, TokensWhoseExpertsAreAllElsewhereGetZeros) {
  const MoeExperts experts = test::make_experts(16, 256, 128, {DType::kF8E4M3, true, true}, test::all_but(16, {0, 1, 2, 3}), 3);
  for (int64_t t : {3, 40}) {
    auto [ids, w] = pick_from(test::all_but(16, {}), t, 4, rng);
    for (int j = 0; j < 4; ++j) ids.data<int32_t>()[j] = j;  // token 0: experts 0..3, none held
    expect_experts_match(cpu, random_f32({t, 256}, rng), ids, w, experts, fmt::format("T={}", t));
  }
}

TEST_F(CudaMoeExperts, MatchesCpuWithPartialFp8Blocks) {
  // hidden and inter off the 128 grid (the "odd" reference variant): partial scale blocks.
  for (const ExpertSpec& spec : {ExpertSpec{DType::kF8E4M3, true, true}, ExpertSpec{DType::kF8E4M3, false, false}}) {
    const MoeExperts experts = test::make_experts(8, 200, 72, spec, test::all_but(8, {5}), 9);
    for (int64_t t : {5, 40}) {  // skinny and tiled grouped GEMM
      auto [ids, w] = pick_from(test::all_but(8, {}), t, 2, rng);
      expect_experts_match(cpu, random_f32({t, 200}, rng), ids, w, experts,
                           fmt::format("quantize {} T={}", spec.quantize_gate_up, t));
    }
  }
}

TEST_F(CudaMoeExperts, MatchesCpuAtV3Dims) {
  // DeepSeek-V3: hidden 7168, moe_intermediate 2048, 256 experts, top 8. Only a pool of 10
  // experts is ever picked (weights for all 256 would not fit a test); 2 of them are elsewhere.
  const int64_t d = 7168, inter = 2048, e = 256, k = 8;
  CpuBackend big;  // the reference at these sizes wants every core
  std::vector<int> pool(256);
  std::iota(pool.begin(), pool.end(), 0);
  std::shuffle(pool.begin(), pool.end(), rng);
  pool.resize(10);
  const std::vector<int> held(pool.begin() + 2, pool.end());
  {
    const MoeExperts fp8 = test::make_experts(e, d, inter, {DType::kF8E4M3, true, true}, held, 1);
    for (int64_t t : {1, 5, 64}) {
      auto [ids, w] = pick_from(pool, t, k, rng);
      expect_experts_match(big, random_f32({t, d}, rng), ids, w, fp8, fmt::format("fp8 w8a8 T={}", t));
    }
  }
  {
    const MoeExperts fp8 = test::make_experts(e, d, inter, {DType::kF8E4M3, false, false}, held, 2);
    auto [ids, w] = pick_from(pool, 5, k, rng);
    expect_experts_match(big, random_f32({5, d}, rng), ids, w, fp8, "fp8 weight-only T=5");
  }
  {
    const std::vector<int> pool8(pool.begin(), pool.begin() + 8);  // every token picks all 8
    const MoeExperts bf16 = test::make_experts(e, d, inter, {DType::kBF16, false, false},
                                               std::vector<int>(pool8.begin() + 1, pool8.end()), 4);
    for (int64_t t : {1, 20}) {
      auto [ids, w] = pick_from(pool8, t, k, rng);
      expect_experts_match(big, random_f32({t, d}, rng), ids, w, bf16, fmt::format("bf16 T={}", t));
    }
  }
}

TEST_F(CudaMoeExperts, TableRejectsInconsistentExperts) {
  const ExpertSpec fp8{DType::kF8E4M3, true, true};
  MoeExperts m = test::make_experts(4, 256, 128, fp8, {0, 1, 2}, 1);
  auto ok = cuda::MoeExpertTable::create(m.device);
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ((*ok)->experts(), 4);
  EXPECT_EQ((*ok)->held(), 3);
  EXPECT_EQ((*ok)->hidden(), 256);
  EXPECT_EQ((*ok)->inter(), 128);

  EXPECT_FALSE(cuda::MoeExpertTable::create(m.host).is_ok());  // host memory
  EXPECT_FALSE(cuda::MoeExpertTable::create(std::vector<MlpWeights>(4)).is_ok());  // nothing held
  auto rejects = [&](auto&& edit) {
    std::vector<MlpWeights> bad = m.device;
    edit(bad);
    return !cuda::MoeExpertTable::create(bad).is_ok();
  };
  const MoeExperts bf16 = test::make_experts(4, 256, 128, {DType::kBF16, true, true}, {3}, 2);
  EXPECT_TRUE(rejects([&](auto& b) { b[3] = bf16.device[3]; }));                     // mixed dtypes
  EXPECT_TRUE(rejects([&](auto& b) { b[1].down_proj = b[1].up_proj; }));             // down not [hidden, inter]
  EXPECT_TRUE(rejects([&](auto& b) { b[2].up_proj.scale_inv = Tensor(); }));         // e4m3 without scales
  EXPECT_TRUE(rejects([&](auto& b) { b[2].up_proj.block_k = 64; }));                 // another block size
  EXPECT_TRUE(rejects([&](auto& b) { b[0].down_proj.quantize_input = false; }));     // mixed act_quant
  EXPECT_TRUE(rejects([&](auto& b) { b[1].up_proj = LinearWeight(); }));             // half an expert
  const MoeExperts wide = test::make_experts(4, 384, 128, fp8, {3}, 3);
  EXPECT_TRUE(rejects([&](auto& b) { b[3] = wide.device[3]; }));                     // another hidden size
}

TEST_F(CudaMoeExperts, LauncherRejectsBadArguments) {
  const MoeExperts m = test::make_experts(4, 256, 128, {DType::kF8E4M3, true, true}, {0, 1}, 1);
  auto table = cuda::MoeExpertTable::create(m.device);
  ASSERT_TRUE(table.is_ok());
  const size_t bytes = cuda::moe_workspace_bytes(8, 2, 4, 256, 128);
  ASSERT_GT(bytes, 0u);
  DeviceBuffer<uint8_t> ws{bytes};
  DeviceBuffer<float> x{8 * 256}, w{16}, out{8 * 256};
  std::vector<int32_t> host_ids(16);
  for (size_t i = 0; i < host_ids.size(); ++i) host_ids[i] = int32_t(i % 2);  // experts 0 and 1 per token
  DeviceBuffer<int32_t> ids(host_ids);
  cuda::MoeExpertsParams p;
  (*table)->fill(p);
  p.x = x.get();
  p.ids = ids.get();
  p.weights = w.get();
  p.out = out.get();
  p.tokens = 8;
  p.top_k = 2;
  p.workspace = ws.get();
  p.workspace_bytes = bytes;
  auto rejects = [&](auto&& edit) {
    cuda::MoeExpertsParams q = p;
    edit(q);
    return !cuda::moe_experts(q, nullptr).is_ok();
  };
  EXPECT_TRUE(rejects([](auto& q) { q.workspace_bytes -= 1; }));
  EXPECT_TRUE(rejects([](auto& q) { q.workspace = static_cast<char*>(q.workspace) + 4; }));
  EXPECT_TRUE(rejects([](auto& q) { q.top_k = 33; }));
  EXPECT_TRUE(rejects([](auto& q) { q.x = nullptr; }));
  EXPECT_TRUE(rejects([](auto& q) { q.down_scales = nullptr; }));
  EXPECT_TRUE(rejects([](auto& q) { q.tokens = 9; }));  // the workspace was sized for 8
  EXPECT_TRUE(cuda::moe_experts(p, nullptr).is_ok());
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

}  // namespace
}  // namespace minke
