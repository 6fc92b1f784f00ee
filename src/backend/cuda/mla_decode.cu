// mla_attention_absorbed: the tiled kernel (mla_attention_kernel.cuh) with a block per
// (token, group of up to 64 heads, context split) over the paged latent cache, then, when
// the context is split (flash-decoding), a combine kernel over the splits' partials.
#include <algorithm>
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/mla_attention.h"
#include "backend/cuda/mla_attention_kernel.cuh"

namespace minke::cuda {
namespace {

constexpr int kCombineThreads = 128;
constexpr int64_t kMinKeysPerSplit = 256;  // below this a split's fixed costs dominate
static_assert(kMlaMaxSplits <= 64, "mla_combine_kernel's weight array");

// out[row] = sum_s w_s o_s / sum_s w_s l_s with w_s = exp(m_s - max_s m_s); a block per row.
// Splits that saw no key (m_s = -inf) are skipped.
__global__ void __launch_bounds__(kCombineThreads) mla_combine_kernel(
    const float* part_o,   // [splits, rows, dv] unnormalized
    const float* part_ml,  // [splits, rows, 2] running max, sum
    float* out,            // [rows, dv]
    int64_t rows, int dv, int splits) {
  __shared__ float w[kMlaMaxSplits];
  __shared__ float inv_total;
  const int64_t row = blockIdx.x;
  if (threadIdx.x == 0) {
    float mx = -INFINITY;
    for (int s = 0; s < splits; ++s) mx = fmaxf(mx, part_ml[(s * rows + row) * 2]);
    float total = 0.f;
    for (int s = 0; s < splits; ++s) {
      const float ms = part_ml[(s * rows + row) * 2];
      w[s] = ms == -INFINITY ? 0.f : expf(ms - mx);
      if (w[s] > 0.f) total += w[s] * part_ml[(s * rows + row) * 2 + 1];
    }
    inv_total = total > 0.f ? 1.f / total : 0.f;
  }
  __syncthreads();
  for (int col = threadIdx.x; col < dv; col += kCombineThreads) {
    float sum = 0.f;
    for (int s = 0; s < splits; ++s)
      if (w[s] > 0.f) sum = fmaf(w[s], part_o[(s * rows + row) * dv + col], sum);
    out[row * dv + col] = sum * inv_total;
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// The block shape for p's dims, after the host-side checks.
struct Layout {
  int rows = 0, groups = 0, ct4 = 0, stride = 0;
  size_t smem = 0;
  mla::TileKernel kernel = nullptr;
};

Result<Layout> decode_layout(const MlaDecodeParams& p) {
  if (p.q_abs == nullptr || p.cache == nullptr || p.out == nullptr || p.positions == nullptr ||
      p.seq_starts == nullptr || p.block_table == nullptr || (p.rope_dim > 0 && p.q_pe == nullptr))
    return invalid_argument("cuda::mla_attention_absorbed: null pointer");
  if (p.tokens < 0 || p.heads <= 0 || p.kv_lora_rank <= 0 || p.rope_dim < 0 ||
      p.num_seqs <= 0 || p.num_pages <= 0 || p.page_size <= 0 || p.max_pages <= 0 ||
      p.max_context < 0 || p.num_splits < 0)
    return invalid_argument(
        "cuda::mla_attention_absorbed: tokens {} heads {} L {} R {} seqs {} pages {} x {} "
        "max_pages {} max_context {} splits {}", p.tokens, p.heads, p.kv_lora_rank, p.rope_dim,
        p.num_seqs, p.num_pages, p.page_size, p.max_pages, p.max_context, p.num_splits);
  if (p.max_pages * p.page_size > INT32_MAX || p.num_pages > INT32_MAX ||
      p.num_seqs > INT32_MAX || p.tokens * p.heads > INT32_MAX)
    return invalid_argument("cuda::mla_attention_absorbed: {} tokens x {} heads, {} pages of {}",
                            p.tokens, p.heads, p.max_pages, p.page_size);
  Layout lay;
  lay.ct4 = mla::tile_ct4(p.kv_lora_rank);
  if (lay.ct4 == 0 || p.kv_lora_rank + p.rope_dim > 4096)
    return unsupported("cuda::mla_attention_absorbed: L {} R {} (L <= 512 supported)",
                       p.kv_lora_rank, p.rope_dim);
  // Rows of a block are heads of one token: as few 16/32/64-row groups as cover them.
  lay.rows = p.heads <= 16 ? 16 : p.heads <= 32 ? 32 : 64;
  lay.groups = int((p.heads + lay.rows - 1) / lay.rows);
  const int dk = int(p.kv_lora_rank + p.rope_dim);
  lay.stride = mla::tile_stride(dk, 0, int(p.kv_lora_rank), lay.ct4);
  lay.smem = size_t(mla::tile_smem_floats(lay.rows, lay.stride)) * sizeof(float);
  int device = 0, smem_max = 0;
  MINKE_CUDA_TRY(cudaGetDevice(&device));
  MINKE_CUDA_TRY(cudaDeviceGetAttribute(&smem_max, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  if (lay.smem > size_t(smem_max))
    return unsupported("cuda::mla_attention_absorbed: L {} R {} need {} bytes of shared memory "
                       "({} available)", p.kv_lora_rank, p.rope_dim, lay.smem, smem_max);
  lay.kernel = lay.rows == 16   ? mla::tile_kernel_for<16, true>(lay.ct4)
               : lay.rows == 32 ? mla::tile_kernel_for<32, true>(lay.ct4)
                                : mla::tile_kernel_for<64, true>(lay.ct4);
  if (p.tokens * lay.groups > INT32_MAX)
    return invalid_argument("cuda::mla_attention_absorbed: {} tokens", p.tokens);
  return lay;
}

// Splits of max_context into keys_per_split (a multiple of the key tile) pieces.
MlaDecodePlan make_plan(const MlaDecodeParams& p, int splits) {
  MlaDecodePlan plan;
  if (splits <= 1 || p.max_context <= 0) return plan;
  const int64_t per = (p.max_context + splits - 1) / splits;
  plan.keys_per_split = (per + mla::kBK - 1) / mla::kBK * mla::kBK;
  plan.num_splits = splits;
  plan.workspace_bytes = size_t(splits) * size_t(p.tokens * p.heads) *
                         size_t(p.kv_lora_rank + 2) * sizeof(float);
  return plan;
}

Result<MlaDecodePlan> plan_for(const MlaDecodeParams& p, const Layout& lay) {
  if (p.num_splits > 0) return make_plan(p, std::min(p.num_splits, kMlaMaxSplits));
  int sms = p.num_sms, device = 0, per_sm = 0;
  if (sms <= 0) {
    MINKE_CUDA_TRY(cudaGetDevice(&device));
    MINKE_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  }
  MINKE_CUDA_TRY(mla::prepare_tile_kernel(lay.kernel, lay.rows, lay.smem, &per_sm));
  const int64_t slots = int64_t(std::max(per_sm, 1)) * std::max(sms, 1);
  const int64_t blocks = std::max<int64_t>(p.tokens * lay.groups, 1);
  const int64_t max_splits =
      std::clamp<int64_t>(p.max_context / kMinKeysPerSplit, 1, kMlaMaxSplits);
  // Fewest waves per unit of work, each extra split costing ~5% (partials and the combine).
  int best = 1;
  double best_cost = double((blocks + slots - 1) / slots);
  for (int64_t s = 2; s <= max_splits; ++s) {
    const double cost = double((blocks * s + slots - 1) / slots) / double(s) * 1.05;
    if (cost < best_cost - 1e-9) best = int(s), best_cost = cost;
  }
  // Even splits of the context; fewer when the tile rounding leaves the last ones empty.
  MlaDecodePlan plan = make_plan(p, best);
  if (plan.num_splits > 1) {
    const int used = int((p.max_context + plan.keys_per_split - 1) / plan.keys_per_split);
    plan = make_plan(p, used);
  }
  return plan;
}

}  // namespace

Result<MlaDecodePlan> plan_mla_decode(const MlaDecodeParams& p) {
  MINKE_ASSIGN_OR_RETURN(const Layout lay, decode_layout(p));
  return plan_for(p, lay);
}

size_t mla_decode_workspace_bytes(const MlaDecodeParams& p) {
  Result<MlaDecodePlan> plan = plan_mla_decode(p);
  return plan.is_ok() ? plan->workspace_bytes : 0;
}

Status mla_attention_absorbed(const MlaDecodeParams& p, cudaStream_t stream) {
  MINKE_ASSIGN_OR_RETURN(const Layout lay, decode_layout(p));
  if (p.tokens == 0) return Status::ok();
  MINKE_ASSIGN_OR_RETURN(MlaDecodePlan plan, plan_for(p, lay));
  if (plan.num_splits > 1 && (p.workspace == nullptr || p.workspace_bytes < plan.workspace_bytes)) {
    if (p.num_splits > 0)
      return invalid_argument("cuda::mla_attention_absorbed: {} splits need {} bytes of "
                              "workspace, got {}", plan.num_splits, plan.workspace_bytes,
                              p.workspace == nullptr ? 0 : p.workspace_bytes);
    // Planned splits: as many as the workspace holds.
    const size_t per_split = plan.workspace_bytes / size_t(plan.num_splits);
    plan = make_plan(p, p.workspace == nullptr ? 1 : int(p.workspace_bytes / per_split));
  }
  if (plan.num_splits > 1 && !aligned16(p.workspace))
    return invalid_argument("cuda::mla_attention_absorbed: workspace not 16-byte aligned");

  mla::TileParams t;
  t.qa = p.q_abs;
  t.qa_dim = int(p.kv_lora_rank);
  t.qb = p.q_pe;
  t.qb_dim = int(p.rope_dim);
  t.cache = p.cache;
  t.block_table = p.block_table;
  t.positions = p.positions;
  t.seq_starts = p.seq_starts;
  t.num_seqs = int(p.num_seqs);
  t.max_pages = int(p.max_pages);
  t.page_size = int(p.page_size);
  t.num_pages = int(p.num_pages);
  t.groups = lay.groups;
  t.heads = int(p.heads);
  t.dv = int(p.kv_lora_rank);
  t.voff = 0;
  t.stride = lay.stride;
  t.vec4 = p.kv_lora_rank % 4 == 0 && p.rope_dim % 4 == 0 && aligned16(p.q_abs) &&
           (p.rope_dim == 0 || aligned16(p.q_pe)) && aligned16(p.cache);
  t.scale = p.scale;
  t.out = p.out;
  t.rows_total = p.tokens * p.heads;
  t.num_splits = plan.num_splits;
  t.keys_per_split = plan.num_splits > 1 ? int(plan.keys_per_split) : INT32_MAX;
  if (plan.num_splits > 1) {
    t.part_o = static_cast<float*>(p.workspace);
    t.part_ml = t.part_o + size_t(plan.num_splits) * size_t(t.rows_total) * size_t(t.dv);
  }

  int blocks_per_sm = 0;
  MINKE_CUDA_TRY(mla::prepare_tile_kernel(lay.kernel, lay.rows, lay.smem, &blocks_per_sm));
  const dim3 grid(unsigned(p.tokens * lay.groups), unsigned(plan.num_splits));
  lay.kernel<<<grid, lay.rows / 4 * mla::kTX, lay.smem, stream>>>(t);
  MINKE_CUDA_TRY_LAUNCH("mla_tile_kernel (absorbed)");
  if (plan.num_splits > 1) {
    mla_combine_kernel<<<unsigned(t.rows_total), kCombineThreads, 0, stream>>>(
        t.part_o, t.part_ml, p.out, t.rows_total, t.dv, plan.num_splits);
    MINKE_CUDA_TRY_LAUNCH("mla_combine_kernel");
  }
  return Status::ok();
}

}  // namespace minke::cuda
