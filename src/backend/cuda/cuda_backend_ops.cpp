// CudaBackend's products, attention and MoE ops: shape checks on the host, then the
// launchers of gemm.h, head_linear.h, mla_attention.h and moe.h on the backend's stream.
#include <cstring>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/head_linear.h"
#include "backend/cuda/mla_attention.h"
#include "backend/cuda/moe.h"
#include "backend/cuda/moe_expert_table.h"

namespace minke {
namespace {

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.raw() == b.raw() || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

}  // namespace

void CudaBackend::linear(const Tensor& x, const LinearWeight& w, Tensor& out) {
  check_f32(x, "linear x");
  check_f32(out, "linear out");
  const int64_t k = w.in_features(), n = w.out_features(), m = x.numel() / k;
  MINKE_CHECK(x.dim(-1) == k && out.dim(-1) == n && out.numel() == m * n, "linear: x {} . W{} -> out {}",
              x.describe(), w.weight.describe(), out.describe());
  cuda::LinearParams p;
  p.x = x.data<float>();
  p.w = w.weight.raw();
  p.out = out.data<float>();
  p.m = m;
  p.n = n;
  p.k = k;
  p.block_n = w.block_n;
  p.block_k = w.block_k;
  p.quantize_input = w.quantize_input;
  switch (w.weight.dtype()) {
    case DType::kF32: p.w_type = cuda::WeightType::kF32; break;
    case DType::kBF16: p.w_type = cuda::WeightType::kBF16; break;
    case DType::kF8E4M3:
      p.w_type = cuda::WeightType::kF8E4M3;
      MINKE_CHECK(w.scale_inv.defined() && w.scale_inv.dtype() == DType::kF32 &&
                      w.scale_inv.dim(0) == (n + w.block_n - 1) / w.block_n &&
                      w.scale_inv.dim(1) == (k + w.block_k - 1) / w.block_k,
                  "linear: FP8 weight {} with scales {}", w.weight.describe(), w.scale_inv.describe());
      p.w_scales = w.scale_inv.data<float>();
      break;
    default:
      return record(unsupported("cuda linear: {} weights (F32, BF16 or F8_E4M3)", dtype_name(w.weight.dtype())));
  }
  if (m == 0 || failed()) return;
  record(gemm_->linear(p, stream_));
}

void CudaBackend::head_linear(const Tensor& x, const Tensor& w, Tensor& out) {
  check_f32(x, "head_linear x");
  check_f32(w, "head_linear w");
  check_f32(out, "head_linear out");
  MINKE_CHECK(x.ndim() == 3 && w.ndim() == 3 && out.ndim() == 3, "head_linear x {} w {}", x.describe(), w.describe());
  const int64_t t = x.dim(0), h = x.dim(1), k = x.dim(2), n = w.dim(1);
  MINKE_CHECK(w.dim(0) == h && w.dim(2) == k && out.dim(0) == t && out.dim(1) == h && out.dim(2) == n,
              "head_linear x {} w {} out {}", x.describe(), w.describe(), out.describe());
  if (t == 0 || failed()) return;
  record(head_linear_->run({x.data<float>(), w.data<float>(), out.data<float>(), t, h, n, k}, stream_));
}

const CudaBackend::DeviceBatch& CudaBackend::device_batch(const AttentionBatch& b) {
  const Tensor* host[5] = {&b.positions, &b.slot_mapping, &b.seq_starts, &b.context_lens, &b.block_table};
  bool same = batch_.page_size == b.page_size;
  for (int i = 0; same && i < 5; ++i) same = same_bytes(batch_.host[i], *host[i]);
  if (same) return batch_;
  for (int i = 0; i < 5; ++i) {
    MINKE_CHECK(host[i]->device() == Device::kCpu, "attention batch tensors are host tensors");
    batch_.host[i] = *host[i];
    batch_.device[i] = upload(*host[i]);
  }
  batch_.page_size = b.page_size;
  batch_.max_context = 0;
  for (int64_t s = 0; s < b.num_seqs(); ++s)
    batch_.max_context = std::max<int64_t>(batch_.max_context, b.context_lens.data<int32_t>()[s]);
  // A graph plans attention for the longest context it will be replayed with.
  if (capturing_) batch_.max_context = std::max(batch_.max_context, capture_max_context_);
  return batch_;
}

void CudaBackend::write_latent_cache(const Tensor& latent, const AttentionBatch& batch, Tensor& cache) {
  check_f32(latent, "write_latent_cache latent");
  check_f32(cache, "write_latent_cache cache");
  const int64_t c = latent.dim(-1), t = latent.numel() / c;
  MINKE_CHECK(cache.ndim() == 3 && cache.dim(2) == c && t == batch.num_tokens(),
              "write_latent_cache latent {} cache {}", latent.describe(), cache.describe());
  const DeviceBatch& d = device_batch(batch);
  if (failed()) return;
  record(cuda::write_latent_cache(
      {latent.data<float>(), d.device[1].data<int64_t>(), cache.data<float>(), t, c, cache.dim(0) * cache.dim(1)},
      stream_));
}

void CudaBackend::gather_latent_cache(const Tensor& cache, const AttentionBatch& batch, int64_t seq, Tensor& out) {
  check_f32(cache, "gather_latent_cache cache");
  check_f32(out, "gather_latent_cache out");
  MINKE_CHECK(cache.ndim() == 3 && out.ndim() == 2 && out.dim(1) == cache.dim(2) && seq >= 0 &&
                  seq < batch.num_seqs(),
              "gather_latent_cache cache {} seq {} out {}", cache.describe(), seq, out.describe());
  const DeviceBatch& d = device_batch(batch);
  if (failed()) return;
  cuda::GatherLatentCacheParams p;
  p.cache = cache.data<float>();
  p.block_table = d.device[4].data<int32_t>();
  p.out = out.data<float>();
  p.seq = seq;
  p.num_seqs = batch.num_seqs();
  p.max_pages = batch.block_table.dim(1);
  p.page_size = batch.page_size;
  p.num_pages = cache.dim(0);
  p.n = out.dim(0);
  p.dim = cache.dim(2);
  record(cuda::gather_latent_cache(p, stream_));
}

void CudaBackend::mla_attention_naive(const Tensor& q, const Tensor& kv, const Tensor& k_pe,
                                      const Tensor& q_positions, float scale, Tensor& out) {
  check_f32(q, "mla naive q");
  check_f32(kv, "mla naive kv");
  check_f32(k_pe, "mla naive k_pe");
  check_f32(out, "mla naive out");
  MINKE_CHECK(q.ndim() == 3 && kv.ndim() == 3 && k_pe.ndim() == 2 && out.ndim() == 3 &&
                  q_positions.dtype() == DType::kI32,
              "mla naive q {} kv {} k_pe {} out {}", q.describe(), kv.describe(), k_pe.describe(), out.describe());
  cuda::MlaNaiveParams p;
  p.tq = q.dim(0);
  p.heads = q.dim(1);
  p.tk = kv.dim(0);
  p.rope = k_pe.dim(1);
  p.nope = q.dim(2) - p.rope;
  p.v = out.dim(2);
  MINKE_CHECK(kv.dim(1) == p.heads && kv.dim(2) == p.nope + p.v && k_pe.dim(0) == p.tk && out.dim(0) == p.tq &&
                  out.dim(1) == p.heads && q_positions.dim(0) == p.tq,
              "mla naive q {} kv {} k_pe {} out {}", q.describe(), kv.describe(), k_pe.describe(), out.describe());
  // Positions beyond the keys would read nothing on the CPU either: a caller bug.
  const Tensor pos = q_positions.device() == Device::kCuda ? q_positions : upload(q_positions);
  if (p.tq == 0 || failed()) return;
  p.q = q.data<float>();
  p.kv = kv.data<float>();
  p.k_pe = k_pe.data<float>();
  p.q_positions = pos.data<int32_t>();
  p.out = out.data<float>();
  p.scale = scale;
  record(cuda::mla_attention_naive(p, stream_));
}

void CudaBackend::mla_attention_absorbed(const Tensor& q_abs, const Tensor& q_pe, const Tensor& cache,
                                         const AttentionBatch& batch, float scale, Tensor& out) {
  check_f32(q_abs, "mla absorbed q_abs");
  check_f32(q_pe, "mla absorbed q_pe");
  check_f32(cache, "mla absorbed cache");
  check_f32(out, "mla absorbed out");
  MINKE_CHECK(q_abs.ndim() == 3 && q_pe.ndim() == 3 && cache.ndim() == 3 && out.shape() == q_abs.shape() &&
                  q_pe.dim(0) == q_abs.dim(0) && q_pe.dim(1) == q_abs.dim(1) &&
                  cache.dim(2) == q_abs.dim(2) + q_pe.dim(2) && q_abs.dim(0) == batch.num_tokens(),
              "mla absorbed q_abs {} q_pe {} cache {} out {}", q_abs.describe(), q_pe.describe(),
              cache.describe(), out.describe());
  const DeviceBatch& d = device_batch(batch);
  if (failed()) return;
  cuda::MlaDecodeParams p;
  p.q_abs = q_abs.data<float>();
  p.q_pe = q_pe.data<float>();
  p.cache = cache.data<float>();
  p.out = out.data<float>();
  p.positions = d.device[0].data<int32_t>();
  p.seq_starts = d.device[2].data<int32_t>();
  p.block_table = d.device[4].data<int32_t>();
  p.tokens = q_abs.dim(0);
  p.heads = q_abs.dim(1);
  p.kv_lora_rank = q_abs.dim(2);
  p.rope_dim = q_pe.dim(2);
  p.num_seqs = batch.num_seqs();
  p.num_pages = cache.dim(0);
  p.page_size = batch.page_size;
  p.max_pages = batch.block_table.dim(1);
  p.max_context = d.max_context;
  p.scale = scale;
  const size_t bytes = cuda::mla_decode_workspace_bytes(p);
  Tensor workspace;
  if (bytes > 0) {
    workspace = scratch(bytes);
    p.workspace = workspace.raw();
    p.workspace_bytes = workspace.raw() != nullptr ? bytes : 0;
  }
  record(cuda::mla_attention_absorbed(p, stream_));
}

void CudaBackend::moe_route(const Tensor& logits, const Tensor& bias, const RouterParams& params, Tensor& ids,
                            Tensor& weights) {
  check_f32(logits, "moe_route logits");
  check_f32(weights, "moe_route weights");
  const int64_t t = logits.dim(0);
  MINKE_CHECK(logits.ndim() == 2 && logits.dim(1) == params.n_experts && ids.dtype() == DType::kI32 &&
                  ids.numel() == t * params.top_k && weights.numel() == t * params.top_k,
              "moe_route logits {} ids {} weights {}", logits.describe(), ids.describe(), weights.describe());
  if (bias.defined()) check_f32(bias, "moe_route bias");
  if (t == 0 || failed()) return;
  cuda::MoeRouteParams p;
  p.logits = logits.data<float>();
  p.bias = bias.defined() ? bias.data<float>() : nullptr;
  p.ids = ids.data<int32_t>();
  p.weights = weights.data<float>();
  p.tokens = t;
  p.router = params;
  record(cuda::moe_route(p, stream_));
}

void CudaBackend::moe_experts(const Tensor& x, const Tensor& ids, const Tensor& weights,
                              std::span<const MlpWeights> experts, Tensor& out) {
  check_f32(x, "moe_experts x");
  check_f32(weights, "moe_experts weights");
  check_f32(out, "moe_experts out");
  MINKE_CHECK(x.ndim() == 2 && ids.ndim() == 2 && ids.dtype() == DType::kI32 && ids.dim(0) == x.dim(0) &&
                  weights.shape() == ids.shape() && out.shape() == x.shape(),
              "moe_experts x {} ids {} weights {} out {}", x.describe(), ids.describe(), weights.describe(),
              out.describe());
  if (failed()) return;
  // One table per layer; the fingerprint notices a new model whose expert array reuses
  // a freed one's address.
  uint64_t fingerprint = experts.size();
  for (const MlpWeights& e : experts)
    for (const LinearWeight* w : {&e.gate_proj, &e.up_proj, &e.down_proj})
      fingerprint = fingerprint * 1099511628211ull ^ reinterpret_cast<uintptr_t>(w->weight.raw());
  ExpertTableEntry& entry = expert_tables_[experts.data()];
  if (entry.table == nullptr || entry.fingerprint != fingerprint) {
    Result<std::unique_ptr<cuda::MoeExpertTable>> table = cuda::MoeExpertTable::create(experts);
    if (!table.is_ok()) return record(table.status());
    entry.table = std::move(table).value();
    entry.fingerprint = fingerprint;
  }
  const cuda::MoeExpertTable& table = *entry.table;
  const int64_t t = x.dim(0), k = ids.dim(1);
  if (t == 0) return;
  cuda::MoeExpertsParams p;
  table.fill(p);
  p.x = x.data<float>();
  p.ids = ids.data<int32_t>();
  p.weights = weights.data<float>();
  p.out = out.data<float>();
  p.tokens = t;
  p.top_k = k;
  const size_t bytes = cuda::moe_workspace_bytes(t, k, table.experts(), table.hidden(), table.inter(), table.block_k());
  if (bytes == 0) return record(internal_error("moe_experts: the workspace size query failed"));
  Tensor workspace = scratch(bytes);
  if (workspace.raw() == nullptr) return;  // the pool's error is recorded
  p.workspace = workspace.raw();
  p.workspace_bytes = bytes;
  record(cuda::moe_experts(p, stream_));
}

}  // namespace minke
