// Op conformance, CPU vs CUDA: the paged latent cache (write, gather), naive MLA (prefill,
// causal and over a cached prefix) and absorbed MLA (decode over shuffled, non-contiguous
// block tables, several sequences and several tokens per sequence, split-KV on and off), at
// the tiny fixture's dims (4 heads, nope 64, rope 32, v 64, kv_lora 128), DeepSeek-V3's
// (128 heads, 128/64/128, kv_lora 512) and odd dims that take the scalar (non-float4) paths.
// Bound: 1e-5 relative (fp32 throughout; the GPU sums in another order and its softmax is
// online, both ~1e-7 here). Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/mla_attention.h"
#include "gpu_test_util.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using test::random_f32;
using test::rel_error;

using CudaMla = test::GpuTest;

template <class T>
std::unique_ptr<DeviceBuffer<T>> to_device(const Tensor& t) {
  return std::make_unique<DeviceBuffer<T>>(t.data<T>(), size_t(t.numel()));
}

// Sequences with contexts ctx[s], whose last fresh[s] positions are this step's tokens, on
// pages of page_size handed out in shuffled order; unused block-table entries are -1 and a
// few pages belong to no one. The device copies sit beside the host tensors.
struct Paged {
  AttentionBatch b;
  int64_t num_pages = 0, max_pages = 0, max_context = 0;
  std::unique_ptr<DeviceBuffer<int32_t>> positions, seq_starts, block_table;
  std::unique_ptr<DeviceBuffer<int64_t>> slots;

  Paged(const std::vector<int>& ctx, const std::vector<int>& fresh, int64_t page_size,
        std::mt19937& rng) {
    const int64_t s_count = int64_t(ctx.size());
    int64_t tokens = 0, used = 0;
    for (int64_t s = 0; s < s_count; ++s) {
      max_pages = std::max<int64_t>(max_pages, (ctx[s] + page_size - 1) / page_size);
      used += (ctx[s] + page_size - 1) / page_size;
      tokens += fresh[s];
      max_context = std::max<int64_t>(max_context, ctx[s]);
    }
    max_pages += 1;
    num_pages = used + 3;
    std::vector<int32_t> ids(static_cast<size_t>(num_pages));
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    b.page_size = page_size;
    b.positions = Tensor::zeros(DType::kI32, {tokens});
    b.slot_mapping = Tensor::zeros(DType::kI64, {tokens});
    b.seq_starts = Tensor::zeros(DType::kI32, {s_count + 1});
    b.context_lens = Tensor::zeros(DType::kI32, {s_count});
    b.block_table = Tensor::zeros(DType::kI32, {s_count, max_pages});
    int32_t* table = b.block_table.data<int32_t>();
    std::fill(table, table + s_count * max_pages, -1);
    int64_t next = 0, t = 0;
    for (int64_t s = 0; s < s_count; ++s) {
      for (int64_t pg = 0; pg < (ctx[s] + page_size - 1) / page_size; ++pg)
        table[s * max_pages + pg] = ids[size_t(next++)];
      b.context_lens.data<int32_t>()[s] = ctx[s];
      b.seq_starts.data<int32_t>()[s] = int32_t(t);
      for (int i = 0; i < fresh[s]; ++i, ++t) {
        const int32_t pos = ctx[s] - fresh[s] + i;
        b.positions.data<int32_t>()[t] = pos;
        b.slot_mapping.data<int64_t>()[t] =
            int64_t(table[s * max_pages + pos / page_size]) * page_size + pos % page_size;
      }
    }
    b.seq_starts.data<int32_t>()[s_count] = int32_t(t);
    positions = to_device<int32_t>(b.positions);
    seq_starts = to_device<int32_t>(b.seq_starts);
    block_table = to_device<int32_t>(b.block_table);
    slots = to_device<int64_t>(b.slot_mapping);
  }
};

TEST_F(CudaMla, LatentCacheWriteAndGatherMatchCpuExactly) {
  for (int64_t dim : {160, 576, 37}) {       // fixture 128 + 32, V3 512 + 64, odd
    for (int64_t page : {16, 64, 5}) {
      Paged pb({17, 300, 1, 64}, {17, 3, 1, 2}, page, rng);
      const int64_t t = pb.b.num_tokens(), slots = pb.num_pages * page;
      Tensor latent = random_f32({t, dim}, rng);
      Tensor cache = random_f32({pb.num_pages, page, dim}, rng);
      DeviceBuffer<float> dlatent(latent.data<float>(), size_t(latent.numel()));
      DeviceBuffer<float> dcache(cache.data<float>(), size_t(cache.numel()));
      cpu.write_latent_cache(latent, pb.b, cache);
      ASSERT_TRUE(cuda::write_latent_cache({dlatent.get(), pb.slots->get(), dcache.get(), t, dim, slots},
                                           nullptr).is_ok());
      EXPECT_EQ(rel_error(dcache.download(), cache.data<float>(), size_t(cache.numel())), 0.0)
          << dim << " page " << page;
      for (int64_t s = 0; s < pb.b.num_seqs(); ++s) {
        const int64_t ctx = pb.b.context_lens.data<int32_t>()[s];
        for (int64_t n : {ctx, ctx / 2}) {
          if (n == 0) continue;
          Tensor ref = Tensor::zeros(DType::kF32, {n, dim});
          cpu.gather_latent_cache(cache, pb.b, s, ref);
          DeviceBuffer<float> dout{size_t(n * dim)};
          cuda::GatherLatentCacheParams g{dcache.get(), pb.block_table->get(), dout.get(), s,
                                          pb.b.num_seqs(), pb.max_pages, page, pb.num_pages, n, dim};
          ASSERT_TRUE(cuda::gather_latent_cache(g, nullptr).is_ok());
          EXPECT_EQ(rel_error(dout.download(), ref.data<float>(), size_t(n * dim)), 0.0)
              << dim << " page " << page << " seq " << s << " n " << n;
        }
      }
      cuda::GatherLatentCacheParams bad{dcache.get(), pb.block_table->get(), dlatent.get(), 0,
                                        pb.b.num_seqs(), pb.max_pages, page, pb.num_pages,
                                        pb.max_pages * page + 1, dim};
      EXPECT_FALSE(cuda::gather_latent_cache(bad, nullptr).is_ok());
    }
  }
  EXPECT_FALSE(cuda::write_latent_cache({}, nullptr).is_ok());
}

// ---- naive ----------------------------------------------------------------------------------

// q [tq, h, nope + rope], kv [tk, h, nope + v], k_pe [tk, rope], positions as given.
double naive_error(CpuBackend& cpu, std::mt19937& rng, int64_t h, int64_t nope, int64_t rope,
                   int64_t v, int64_t tk, const std::vector<int32_t>& pos) {
  const int64_t tq = int64_t(pos.size());
  Tensor q = random_f32({tq, h, nope + rope}, rng), kv = random_f32({tk, h, nope + v}, rng);
  Tensor k_pe = random_f32({tk, rope}, rng), qpos = Tensor::zeros(DType::kI32, {tq});
  std::copy(pos.begin(), pos.end(), qpos.data<int32_t>());
  const float scale = 1.0f / std::sqrt(float(nope + rope));
  Tensor ref = Tensor::zeros(DType::kF32, {tq, h, v});
  cpu.mla_attention_naive(q, kv, k_pe, qpos, scale, ref);
  DeviceBuffer<float> dq(q.data<float>(), size_t(q.numel())), dkv(kv.data<float>(), size_t(kv.numel()));
  DeviceBuffer<float> dpe(k_pe.data<float>(), size_t(k_pe.numel())), dout{size_t(tq * h * v)};
  DeviceBuffer<int32_t> dpos(pos);
  cuda::MlaNaiveParams p{dq.get(), dkv.get(), dpe.get(), dpos.get(), dout.get(), tq, tk, h, nope, rope, v, scale};
  const Status st = cuda::mla_attention_naive(p, nullptr);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return rel_error(dout.download(), ref.data<float>(), size_t(ref.numel()));
}

std::vector<int32_t> range(int32_t begin, int32_t end) {
  std::vector<int32_t> r(static_cast<size_t>(end - begin));
  std::iota(r.begin(), r.end(), begin);
  return r;
}

TEST_F(CudaMla, NaiveMatchesCpuAtFixtureAndOddDims) {
  // Causal; a cached prefix (Tk > Tq); a partial second 64-query tile; one token.
  EXPECT_LT(naive_error(cpu, rng, 4, 64, 32, 64, 37, range(0, 37)), 1e-5);
  EXPECT_LT(naive_error(cpu, rng, 4, 64, 32, 64, 40, range(35, 40)), 1e-5);
  EXPECT_LT(naive_error(cpu, rng, 4, 64, 32, 64, 70, range(0, 70)), 1e-5);
  EXPECT_LT(naive_error(cpu, rng, 4, 64, 32, 64, 1, range(0, 1)), 1e-5);
  // Positions in no order (each query still sees keys [0, pos]).
  std::vector<int32_t> shuffled = range(0, 90);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  shuffled.resize(23);
  EXPECT_LT(naive_error(cpu, rng, 4, 64, 32, 64, 90, shuffled), 1e-5);
  // Odd head dims (scalar copies, a gap between k and v in shared memory) and a wide v.
  EXPECT_LT(naive_error(cpu, rng, 3, 13, 6, 10, 50, range(0, 50)), 1e-5);
  EXPECT_LT(naive_error(cpu, rng, 2, 24, 8, 200, 45, range(5, 45)), 1e-5);
}

TEST_F(CudaMla, NaiveMatchesCpuAtV3Dims) {
  EXPECT_LT(naive_error(cpu, rng, 128, 128, 64, 128, 600, range(0, 600)), 1e-5);
  // A 16-token chunk after a 684-token cached prefix (16-row blocks).
  EXPECT_LT(naive_error(cpu, rng, 128, 128, 64, 128, 700, range(684, 700)), 1e-5);
}

// ---- absorbed -------------------------------------------------------------------------------

struct Decode {
  Paged pb;
  int64_t h, l, r;
  Tensor q_abs, q_pe, cache;
  float scale;
  Decode(const std::vector<int>& ctx, const std::vector<int>& fresh, int64_t page, int64_t h_,
         int64_t l_, int64_t r_, std::mt19937& rng)
      : pb(ctx, fresh, page, rng), h(h_), l(l_), r(r_) {
    const int64_t t = pb.b.num_tokens();
    q_abs = random_f32({t, h, l}, rng);
    q_pe = random_f32({t, h, r}, rng);
    cache = random_f32({pb.num_pages, page, l + r}, rng);
    scale = 1.0f / std::sqrt(float(l / 4 + r));  // V3: 1/sqrt(192) for L=512, R=64
  }
  cuda::MlaDecodeParams params(const float* dq, const float* dpe, const float* dcache, float* dout) const {
    cuda::MlaDecodeParams p;
    p.q_abs = dq;
    p.q_pe = dpe;
    p.cache = dcache;
    p.out = dout;
    p.positions = pb.positions->get();
    p.seq_starts = pb.seq_starts->get();
    p.block_table = pb.block_table->get();
    p.tokens = pb.b.num_tokens();
    p.heads = h;
    p.kv_lora_rank = l;
    p.rope_dim = r;
    p.num_seqs = pb.b.num_seqs();
    p.num_pages = pb.num_pages;
    p.page_size = pb.b.page_size;
    p.max_pages = pb.max_pages;
    p.max_context = pb.max_context;
    p.scale = scale;
    return p;
  }
  Tensor cpu_ref(CpuBackend& cpu) const {
    Tensor ref = Tensor::zeros(DType::kF32, {pb.b.num_tokens(), h, l});
    cpu.mla_attention_absorbed(q_abs, q_pe, cache, pb.b, scale, ref);
    return ref;
  }
  // GPU output with `splits` (0: planned); *used gets the plan's split count.
  std::vector<float> gpu(int splits, int* used = nullptr) const {
    DeviceBuffer<float> dq(q_abs.data<float>(), size_t(q_abs.numel()));
    DeviceBuffer<float> dpe(q_pe.data<float>(), size_t(q_pe.numel()));
    DeviceBuffer<float> dcache(cache.data<float>(), size_t(cache.numel()));
    DeviceBuffer<float> dout{size_t(pb.b.num_tokens() * h * l)};
    cuda::MlaDecodeParams p = params(dq.get(), dpe.get(), dcache.get(), dout.get());
    p.num_splits = splits;
    Result<cuda::MlaDecodePlan> plan = cuda::plan_mla_decode(p);
    EXPECT_TRUE(plan.is_ok()) << plan.status().to_string();
    if (!plan.is_ok()) return {};
    if (used != nullptr) *used = plan->num_splits;
    EXPECT_EQ(cuda::mla_decode_workspace_bytes(p), plan->workspace_bytes);
    DeviceBuffer<uint8_t> ws{std::max<size_t>(plan->workspace_bytes, 1)};
    p.workspace = ws.get();
    p.workspace_bytes = plan->workspace_bytes;
    const Status st = cuda::mla_attention_absorbed(p, nullptr);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    return dout.download();
  }
};

void expect_absorbed(CpuBackend& cpu, const Decode& d, const char* what) {
  const Tensor ref = d.cpu_ref(cpu);
  for (int splits : {1, 0, 3}) {
    int used = 0;
    const std::vector<float> got = d.gpu(splits, &used);
    ASSERT_EQ(got.size(), size_t(ref.numel())) << what;
    EXPECT_LT(rel_error(got, ref.data<float>(), got.size()), 1e-5)
        << what << " splits " << splits << " (used " << used << ")";
  }
}

TEST_F(CudaMla, AbsorbedMatchesCpuAtFixtureDims) {
  for (int64_t page : {16, 64, 5}) {
    // One decode token per sequence.
    expect_absorbed(cpu, Decode({1, 17, 300, 64}, {1, 1, 1, 1}, page, 4, 128, 32, rng), "decode");
    // Several tokens per sequence (a chunk each): every token its own position.
    expect_absorbed(cpu, Decode({40, 7, 129}, {9, 7, 33}, page, 4, 128, 32, rng), "chunks");
  }
  // Head counts that leave a head group partly empty, and odd L/R (scalar copies).
  expect_absorbed(cpu, Decode({33, 100}, {2, 1}, 16, 20, 64, 16, rng), "20 heads");
  expect_absorbed(cpu, Decode({33, 100}, {1, 3}, 7, 48, 40, 8, rng), "48 heads");
  expect_absorbed(cpu, Decode({50, 9}, {1, 2}, 16, 5, 37, 5, rng), "L 37 R 5");
  // An empty sequence in the middle of the batch (no tokens this step).
  expect_absorbed(cpu, Decode({20, 30, 40}, {2, 0, 1}, 16, 4, 128, 32, rng), "empty seq");
}

TEST_F(CudaMla, AbsorbedMatchesCpuAtV3Dims) {
  for (int64_t page : {64, 16})
    expect_absorbed(cpu, Decode({1, 17, 300, 2100}, {1, 1, 1, 1}, page, 128, 512, 64, rng), "V3");
  // Two tokens of one sequence plus a batch of short ones; 16-head (tensor-parallel) rank.
  expect_absorbed(cpu, Decode({90, 5, 260, 33, 64}, {2, 1, 1, 3, 1}, 64, 128, 512, 64, rng), "V3 mixed");
  expect_absorbed(cpu, Decode({1000, 17}, {1, 1}, 64, 16, 512, 64, rng), "V3 16 heads");
}

TEST_F(CudaMla, SplitKvOnAndOffAgree) {
  // One long sequence, one token: the planner splits; forced 1, 5 and 64 splits agree.
  Decode d({2100}, {1}, 64, 128, 512, 64, rng);
  int planned = 0;
  const std::vector<float> one = d.gpu(1), planned_out = d.gpu(0, &planned);
  EXPECT_GT(planned, 1) << "the planner should split a 2100-key context for one token";
  EXPECT_LT(rel_error(planned_out, one.data(), one.size()), 1e-6);
  EXPECT_LT(rel_error(d.gpu(5), one.data(), one.size()), 1e-6);
  EXPECT_LT(rel_error(d.gpu(64), one.data(), one.size()), 1e-6);  // many splits are empty
  const Tensor ref = d.cpu_ref(cpu);
  EXPECT_LT(rel_error(one, ref.data<float>(), one.size()), 1e-5);
  // Forced splits without workspace are an error, not a silent fallback.
  cuda::MlaDecodeParams p = d.params(reinterpret_cast<const float*>(16), reinterpret_cast<const float*>(16),
                                     reinterpret_cast<const float*>(16), reinterpret_cast<float*>(16));
  p.num_splits = 4;
  EXPECT_FALSE(cuda::mla_attention_absorbed(p, nullptr).is_ok());
}

}  // namespace
}  // namespace minke
