// CudaBackend vs CpuBackend through the Backend interface itself: every op on the same
// random inputs (fixture dims and DeepSeek-V3 dims), so the glue between the op contract and
// the kernels (shapes, dtypes, batch uploads, workspaces) is checked, plus the error latch.
#include <gtest/gtest.h>

#include <numeric>

#include "backend/cuda/cuda_backend.h"
#include "gpu_test_util.h"
#include "moe_gpu_test_util.h"
#include "tensor/numeric.h"

namespace minke {
namespace {

class CudaBackendTest : public test::GpuTest {
 protected:
  void SetUp() override {
    test::GpuTest::SetUp();
    if (IsSkipped()) return;
    auto made = CudaBackend::create({0, 0.5});
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    gpu = std::move(made).value();
  }
  void TearDown() override {
    if (gpu) EXPECT_TRUE(gpu->take_error().is_ok());
  }
  // ||gpu - cpu|| / ||cpu|| of two F32 tensors.
  double err(const Tensor& on_gpu, const Tensor& on_cpu) {
    const Tensor h = gpu->to_host(on_gpu);
    EXPECT_EQ(h.numel(), on_cpu.numel());
    std::vector<float> got(h.data<float>(), h.data<float>() + h.numel());
    return test::rel_error(got, on_cpu.data<float>(), got.size());
  }
  Tensor ints(std::vector<int32_t> v) {
    Tensor t = Tensor::zeros(DType::kI32, {int64_t(v.size())});
    std::copy(v.begin(), v.end(), t.data<int32_t>());
    return t;
  }
  Tensor bf16(const Tensor& f) {
    Tensor t = Tensor::zeros(DType::kBF16, f.shape());
    for (int64_t i = 0; i < f.numel(); ++i) t.data<uint16_t>()[i] = f32_to_bf16(f.data<float>()[i]);
    return t;
  }
  std::unique_ptr<CudaBackend> gpu;
};

TEST_F(CudaBackendTest, ElementwiseOpsMatchCpu) {
  for (int64_t d : {int64_t(64), int64_t(7168)}) {
    const int64_t t = 5;
    Tensor x = test::random_f32({t, d}, rng), y = test::random_f32({t, d}, rng);
    Tensor w = bf16(test::random_f32({d}, rng));
    // rms_norm with a BF16 weight, then the fused residual add + norm.
    Tensor ref = cpu.empty(DType::kF32, {t, d}), out = gpu->empty(DType::kF32, {t, d});
    cpu.rms_norm(x, w, 1e-6f, ref);
    Tensor gw = gpu->upload(w), gx = gpu->upload(x), gy = gpu->upload(y);
    gpu->rms_norm(gx, gw, 1e-6f, out);
    EXPECT_LT(err(out, ref), 1e-5);
    Tensor xc = cpu.empty(DType::kF32, {t, d});
    std::copy_n(x.data<float>(), x.numel(), xc.data<float>());
    cpu.add_rms_norm(xc, y, w, 1e-6f, ref);
    gpu->add_rms_norm(gx, gy, gw, 1e-6f, out);
    EXPECT_LT(err(out, ref), 1e-5);
    EXPECT_LT(err(gx, xc), 1e-6);  // the sum was stored back
    // silu_mul, add_inplace, copy_cols, gather_rows, fp8_fake_quant.
    cpu.silu_mul(x, y, ref);
    gpu->silu_mul(gpu->upload(x), gy, out);
    EXPECT_LT(err(out, ref), 1e-5);
    Tensor a = gpu->upload(x), sum = cpu.empty(DType::kF32, {t, d});
    std::copy_n(x.data<float>(), x.numel(), sum.data<float>());
    cpu.add_inplace(sum, y);
    gpu->add_inplace(a, gy);
    EXPECT_LT(err(a, sum), 1e-7);
    Tensor narrow = cpu.empty(DType::kF32, {t, 24}), gnarrow = gpu->empty(DType::kF32, {t, 24});
    cpu.copy_cols(x, 7, narrow, 0, 24);
    gpu->copy_cols(gpu->upload(x), 7, gnarrow, 0, 24);
    EXPECT_LT(err(gnarrow, narrow), 1e-7);
    Tensor rows = ints({4, 0, 4}), picked = cpu.empty(DType::kF32, {3, d}), gpicked = gpu->empty(DType::kF32, {3, d});
    cpu.gather_rows(x, rows, picked);
    gpu->gather_rows(gpu->upload(x), gpu->upload(rows), gpicked);
    EXPECT_LT(err(gpicked, picked), 1e-7);
    Tensor q = gpu->upload(x);
    cpu.fp8_fake_quant(x, 128);
    gpu->fp8_fake_quant(q, 128);
    EXPECT_LT(err(q, x), 1e-7);
  }
}

TEST_F(CudaBackendTest, EmbeddingAndRopeMatchCpu) {
  const int64_t vocab = 300, d = 96, t = 6, heads = 3, hd = 192;
  Tensor table = bf16(test::random_f32({vocab, d}, rng));
  Tensor ids = ints({0, 299, 17, 17, 5, 250});
  Tensor ref = cpu.empty(DType::kF32, {t, d}), out = gpu->empty(DType::kF32, {t, d});
  ASSERT_TRUE(cpu.embedding(ids, table, ref).is_ok());
  ASSERT_TRUE(gpu->embedding(gpu->upload(ids), gpu->upload(table), out).is_ok());
  EXPECT_LT(err(out, ref), 1e-7);
  // An id outside the vocabulary is an error, not a fault.
  EXPECT_FALSE(gpu->embedding(gpu->upload(ints({0, 300, 1, 1, 1, 1})), gpu->upload(table), out).is_ok());
  Tensor x = test::random_f32({t, heads, hd}, rng), inv = Tensor::zeros(DType::kF32, {32});
  for (int i = 0; i < 32; ++i) inv.data<float>()[i] = std::pow(10000.0f, -float(i) / 32);
  Tensor pos = ints({0, 1, 2, 100, 4095, 7});
  Tensor gx = gpu->upload(x);
  cpu.rope(x, pos, inv, 1.3f);
  gpu->rope(gx, gpu->upload(pos), gpu->upload(inv), 1.3f);
  EXPECT_LT(err(gx, x), 1e-5);
}

TEST_F(CudaBackendTest, LinearEveryWeightTypeMatchesCpu) {
  test::FastRng frng{5};
  struct Case { DType dtype; bool quant; int64_t m, n, k; double tol; };
  for (const Case& c : {Case{DType::kF32, false, 3, 96, 80, 1e-5}, Case{DType::kBF16, false, 1, 2112, 7168, 1e-2},
                        Case{DType::kBF16, false, 40, 96, 80, 1e-2}, Case{DType::kF8E4M3, true, 1, 7168, 2048, 1e-2},
                        Case{DType::kF8E4M3, true, 64, 4096, 7168, 1e-2}, Case{DType::kF8E4M3, false, 4, 160, 256, 1e-2}}) {
    test::ExpertSpec spec;
    spec.dtype = c.dtype;
    LinearWeight w = test::random_linear(c.n, c.k, spec, c.quant, frng);
    LinearWeight gw = w;
    gw.weight = gpu->upload(w.weight);
    if (w.scale_inv.defined()) gw.scale_inv = gpu->upload(w.scale_inv);
    Tensor x = test::random_f32({c.m, c.k}, rng);
    Tensor ref = cpu.empty(DType::kF32, {c.m, c.n}), out = gpu->empty(DType::kF32, {c.m, c.n});
    cpu.linear(x, w, ref);
    gpu->linear(gpu->upload(x), gw, out);
    EXPECT_LT(err(out, ref), c.tol) << dtype_name(c.dtype) << " m=" << c.m << " n=" << c.n << " k=" << c.k;
  }
  // head_linear at the absorbed path's real shapes.
  Tensor x = test::random_f32({3, 128, 128}, rng), w = test::random_f32({128, 512, 128}, rng, 0.1f);
  Tensor ref = cpu.empty(DType::kF32, {3, 128, 512}), out = gpu->empty(DType::kF32, {3, 128, 512});
  cpu.head_linear(x, w, ref);
  gpu->head_linear(gpu->upload(x), gpu->upload(w), out);
  EXPECT_LT(err(out, ref), 1e-5);
}

TEST_F(CudaBackendTest, LatentCacheAndAttentionMatchCpu) {
  // Two sequences with shuffled pages: 5 and 70 cached positions, decoding one token each
  // (absorbed), and a prefill chunk of 4 tokens over a 66-position prefix (naive).
  const int64_t page = 16, pages = 12, heads = 16, l = 512, r = 64, c = l + r;
  AttentionBatch b;
  b.page_size = page;
  b.positions = ints({4, 69});
  Tensor slots = Tensor::zeros(DType::kI64, {2});
  b.seq_starts = ints({0, 1, 2});
  b.context_lens = ints({5, 70});
  b.block_table = Tensor::zeros(DType::kI32, {2, 5});
  const int32_t table[2][5] = {{7, 0, 0, 0, 0}, {3, 11, 1, 9, 5}};
  std::copy(&table[0][0], &table[0][0] + 10, b.block_table.data<int32_t>());
  slots.data<int64_t>()[0] = 7 * page + 4;
  slots.data<int64_t>()[1] = 5 * page + 69 % page;
  b.slot_mapping = slots;
  Tensor cache = test::random_f32({pages, page, c}, rng), gcache = gpu->upload(cache);
  Tensor latent = test::random_f32({2, c}, rng);
  cpu.write_latent_cache(latent, b, cache);
  gpu->write_latent_cache(gpu->upload(latent), b, gcache);
  EXPECT_LT(err(gcache, cache), 1e-7);
  Tensor seq1 = cpu.empty(DType::kF32, {70, c}), gseq1 = gpu->empty(DType::kF32, {70, c});
  cpu.gather_latent_cache(cache, b, 1, seq1);
  gpu->gather_latent_cache(gcache, b, 1, gseq1);
  EXPECT_LT(err(gseq1, seq1), 1e-7);
  Tensor q_abs = test::random_f32({2, heads, l}, rng, 0.05f), q_pe = test::random_f32({2, heads, r}, rng, 0.05f);
  Tensor ref = cpu.empty(DType::kF32, {2, heads, l}), out = gpu->empty(DType::kF32, {2, heads, l});
  cpu.mla_attention_absorbed(q_abs, q_pe, cache, b, 0.1f, ref);
  gpu->mla_attention_absorbed(gpu->upload(q_abs), gpu->upload(q_pe), gcache, b, 0.1f, out);
  EXPECT_LT(err(out, ref), 1e-5);
  // Naive: 4 queries at positions 66..69 over 70 keys.
  const int64_t nope = 128, v = 128;
  Tensor q = test::random_f32({4, heads, nope + r}, rng, 0.1f), kv = test::random_f32({70, heads, nope + v}, rng);
  Tensor k_pe = test::random_f32({70, r}, rng), qpos = ints({66, 67, 68, 69});
  Tensor nref = cpu.empty(DType::kF32, {4, heads, v}), nout = gpu->empty(DType::kF32, {4, heads, v});
  cpu.mla_attention_naive(q, kv, k_pe, qpos, 0.07f, nref);
  gpu->mla_attention_naive(gpu->upload(q), gpu->upload(kv), gpu->upload(k_pe), gpu->upload(qpos), 0.07f, nout);
  EXPECT_LT(err(nout, nref), 1e-5);
}

TEST_F(CudaBackendTest, MoeRouteAndExpertsMatchCpu) {
  RouterParams rp;
  rp.n_experts = 16;
  rp.n_group = 4;
  rp.topk_group = 2;
  rp.top_k = 4;
  rp.routed_scaling_factor = 2.5f;
  const int64_t t = 9, d = 256, inter = 128;
  Tensor logits = test::random_f32({t, rp.n_experts}, rng), bias = test::random_f32({rp.n_experts}, rng, 0.1f);
  Tensor ids = cpu.empty(DType::kI32, {t, rp.top_k}), wts = cpu.empty(DType::kF32, {t, rp.top_k});
  Tensor gids = gpu->empty(DType::kI32, {t, rp.top_k}), gwts = gpu->empty(DType::kF32, {t, rp.top_k});
  cpu.moe_route(logits, bias, rp, ids, wts);
  gpu->moe_route(gpu->upload(logits), gpu->upload(bias), rp, gids, gwts);
  const Tensor hids = gpu->to_host(gids);
  EXPECT_EQ(std::memcmp(hids.raw(), ids.raw(), ids.nbytes()), 0);
  EXPECT_LT(err(gwts, wts), 1e-6);
  test::FastRng frng{9};
  test::ExpertSpec spec;
  std::vector<MlpWeights> host(size_t(rp.n_experts)), dev(size_t(rp.n_experts));
  for (int64_t e = 0; e < rp.n_experts; ++e) {
    if (e == 3) continue;  // not held on this rank
    host[e].gate_proj = test::random_linear(inter, d, spec, true, frng);
    host[e].up_proj = test::random_linear(inter, d, spec, true, frng);
    host[e].down_proj = test::random_linear(d, inter, spec, true, frng);
    for (auto [h, g] : {std::pair{&host[e].gate_proj, &dev[e].gate_proj}, {&host[e].up_proj, &dev[e].up_proj},
                        {&host[e].down_proj, &dev[e].down_proj}}) {
      *g = *h;
      g->weight = gpu->upload(h->weight);
      g->scale_inv = gpu->upload(h->scale_inv);
    }
  }
  Tensor x = test::random_f32({t, d}, rng);
  Tensor ref = cpu.empty(DType::kF32, {t, d}), out = gpu->empty(DType::kF32, {t, d});
  cpu.moe_experts(x, ids, wts, host, ref);
  gpu->moe_experts(gpu->upload(x), gids, gwts, dev, out);
  EXPECT_LT(err(out, ref), 1e-2);
}

TEST_F(CudaBackendTest, FillUniformMatchesCpuBytes) {
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3}) {
    Tensor h = cpu.empty(dtype, {1001}), g = gpu->empty(dtype, {1001});
    cpu.fill_uniform(h, -2.0f, 3.0f, 42);
    gpu->fill_uniform(g, -2.0f, 3.0f, 42);
    const Tensor back = gpu->to_host(g);
    EXPECT_EQ(std::memcmp(back.raw(), h.raw(), h.nbytes()), 0) << dtype_name(dtype);
  }
}

TEST_F(CudaBackendTest, ExhaustedPoolIsAnErrorNotACrash) {
  const int64_t huge = gpu->memory_stats().limit;  // more than the budget once weights exist
  Tensor t = gpu->empty(DType::kF32, {huge});
  EXPECT_EQ(t.raw(), nullptr);
  Tensor small = gpu->empty(DType::kF32, {4});
  gpu->add_inplace(t.defined() && t.raw() ? t : small, small);
  const Status st = gpu->take_error();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("gpu-memory-utilization"), std::string::npos) << st.to_string();
  EXPECT_TRUE(gpu->take_error().is_ok());  // taken: the latch is clear again
}

}  // namespace
}  // namespace minke
