// The op interface: every computation the model performs, implemented once per
// backend (cpu/ is the float32 reference, cuda/ the fast path). Model code calls
// only these. Outputs are preallocated by the caller with the shapes written on
// each op; a shape or dtype mismatch is a programmer bug and CHECK-fails.
#pragma once

#include <span>
#include <string>

#include "backend/moe_types.h"
#include "core/status.h"
#include "tensor/tensor.h"

namespace minke {

// A linear layer's weight as the checkpoint stores it: y = x W^T.
struct LinearWeight {
  Tensor weight;     // [out, in]: F32, BF16, F16 or F8E4M3
  Tensor scale_inv;  // F32 [ceil(out/block_n), ceil(in/block_k)]; only with F8E4M3 (multiplies)
  int64_t block_n = 128;
  int64_t block_k = 128;
  // Emulate DeepSeek's act_quant: quantize each input row per block_k channels to
  // float8 e4m3 (scale = amax / 448) and back before the product (the w8a8 goldens).
  bool quantize_input = false;

  bool defined() const { return weight.defined(); }
  int64_t out_features() const { return weight.dim(0); }
  int64_t in_features() const { return weight.dim(1); }
};

struct MlpWeights {  // down(silu(gate(x)) * up(x))
  LinearWeight gate_proj;  // [inter, hidden]
  LinearWeight up_proj;    // [inter, hidden]
  LinearWeight down_proj;  // [hidden, inter]
};

// Where the tokens of one forward step sit in the paged latent KV cache. Host
// tensors; a device backend uploads them once per step. A token at position p of
// sequence s attends to positions [0, p] of s; position j of s lives in slot
// block_table[s][j / page_size] * page_size + j % page_size.
struct AttentionBatch {
  Tensor positions;     // I32 [T]    position of each token in its sequence
  Tensor slot_mapping;  // I64 [T]    cache slot each token's latent is written to
  Tensor seq_starts;    // I32 [S+1]  tokens of sequence s are [seq_starts[s], seq_starts[s+1])
  Tensor context_lens;  // I32 [S]    cached positions of s once this step's tokens are written
  Tensor block_table;   // I32 [S, max_pages] page ids of each sequence
  int64_t page_size = 0;

  int64_t num_tokens() const { return positions.dim(0); }
  int64_t num_seqs() const { return context_lens.dim(0); }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // For logs: the name and what it runs on ("cuda: NVIDIA H100 80GB HBM3").
  virtual std::string description() const { return name(); }
  virtual Device device() const = 0;
  // The dtype of activations between ops (F32 on the CPU).
  virtual DType activation_dtype() const = 0;

  // ---- memory -----------------------------------------------------------
  virtual Tensor empty(DType dtype, const Shape& shape) = 0;  // contents undefined
  // A copy (or, where the memory is already usable, a view) of a host tensor on this device.
  virtual Tensor upload(const Tensor& host) = 0;
  virtual Tensor to_host(const Tensor& t) = 0;
  virtual void synchronize() = 0;
  // Device memory accounting for sizing the KV cache (all zero: host memory, unbounded here).
  struct MemoryStats {
    int64_t limit = 0;   // bytes this backend may hold
    int64_t in_use = 0;  // bytes held by live tensors
    int64_t peak = 0;    // the most in_use since reset_peak_memory()
  };
  virtual MemoryStats memory_stats() const { return {}; }
  virtual void reset_peak_memory() {}
  // The first error an op met since the last call (a CUDA fault, say), cleared by the call.
  // Ops return void for the CPU reference's sake; the model checks this once per forward.
  virtual Status take_error() { return Status::ok(); }
  // Fills t (F32, BF16 or F8E4M3) with values uniform in [lo, hi) drawn from a counter-based
  // hash of (seed, element index): the same values on every backend (--load-format dummy).
  virtual void fill_uniform(Tensor& t, float lo, float hi, uint64_t seed) = 0;

  // ---- elementwise and data movement --------------------------------------
  // out[t] = table[ids[t]]; ids I32 [T] (checked against the vocab), table [V, D], out [T, D].
  virtual Status embedding(const Tensor& ids, const Tensor& table, Tensor& out) = 0;
  // out = x * rsqrt(mean(x^2) + eps) * w; x, out [T, D] (may alias), w [D].
  virtual void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) = 0;
  // out += x; both [T, D].
  virtual void add_inplace(Tensor& out, const Tensor& x) = 0;
  // The residual add and the norm after it: x += delta, then out = rms_norm(x, w).
  virtual void add_rms_norm(Tensor& x, const Tensor& delta, const Tensor& w, float eps,
                            Tensor& out) {
    add_inplace(x, delta);
    rms_norm(x, w, eps, out);
  }
  // out = silu(gate) * up; all [T, I].
  virtual void silu_mul(const Tensor& gate, const Tensor& up, Tensor& out) = 0;
  // dst[:, dst_col + c] = src[:, src_col + c] for c < ncols; src [R, Cs], dst [R, Cd].
  virtual void copy_cols(const Tensor& src, int64_t src_col, Tensor& dst, int64_t dst_col,
                         int64_t ncols) = 0;
  // out[i] = x[rows[i]]; x [T, D], rows I32 [N], out [N, D].
  virtual void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) = 0;

  // ---- matrix products ------------------------------------------------------
  // out = x W^T (W dequantized by its block scales); x [T, in], out [T, out].
  virtual void linear(const Tensor& x, const LinearWeight& w, Tensor& out) = 0;
  // out[t, h] = w[h] x[t, h]: per-head products for the absorbed MLA path;
  // x [T, H, K], w F32 [H, N, K], out [T, H, N].
  virtual void head_linear(const Tensor& x, const Tensor& w, Tensor& out) = 0;
  // DeepSeek's act_quant and back, in place: each row, per block of `block` columns,
  // scaled by amax/448, rounded to float8 e4m3, scaled back. x [T, K].
  virtual void fp8_fake_quant(Tensor& x, int64_t block) = 0;

  // ---- attention (MLA) ------------------------------------------------------
  // Rotates, in place, the last 2*inv_freq.numel() channels of every head with
  // interleaved pairs (x[2i], x[2i+1]) by angle positions[t] * inv_freq[i], with
  // cos and sin multiplied by attention_factor. x [T, H, Dh], positions I32 [T].
  virtual void rope(Tensor& x, const Tensor& positions, const Tensor& inv_freq,
                    float attention_factor) = 0;
  // Writes each token's latent [kv_lora | k_pe] to its slot; latent [T, C],
  // cache [num_pages, page_size, C].
  virtual void write_latent_cache(const Tensor& latent, const AttentionBatch& batch,
                                  Tensor& cache) = 0;
  // Copies positions [0, n) of sequence `seq` out of the cache into out [n, C].
  virtual void gather_latent_cache(const Tensor& cache, const AttentionBatch& batch, int64_t seq,
                                   Tensor& out) = 0;
  // Naive MLA over one sequence's context: key j (position j) is visible to query
  // t when j <= q_positions[t]. score = (q_nope . k_nope_j + q_pe . k_pe_j) * scale.
  // q [Tq, H, nope + rope], kv [Tk, H, nope + v] (up-projected latents),
  // k_pe [Tk, rope] shared by all heads, q_positions I32 [Tq], out [Tq, H, v].
  virtual void mla_attention_naive(const Tensor& q, const Tensor& kv, const Tensor& k_pe,
                                   const Tensor& q_positions, float scale, Tensor& out) = 0;
  // Absorbed MLA over the paged latent cache (FlashMLA's contract):
  // score_j = (q_abs . c_j + q_pe . pe_j) * scale over the cached [c_j | pe_j],
  // out = softmax(score) . c. q_abs [T, H, L], q_pe [T, H, R], cache [P, page, L + R],
  // out [T, H, L].
  virtual void mla_attention_absorbed(const Tensor& q_abs, const Tensor& q_pe, const Tensor& cache,
                                      const AttentionBatch& batch, float scale, Tensor& out) = 0;

  // ---- mixture of experts ---------------------------------------------------
  // Picks top_k experts per token from router logits [T, E] (see RouterParams);
  // bias [E] F32 (only for kNoauxTc, else undefined). ids I32 [T, k], weights F32 [T, k].
  virtual void moe_route(const Tensor& logits, const Tensor& bias, const RouterParams& params,
                         Tensor& ids, Tensor& weights) = 0;
  // out[t] = sum_k weights[t, k] * expert_{ids[t, k]}(x[t]) over the experts this rank
  // holds (experts[e].gate_proj undefined elsewhere: they contribute nothing here).
  // x [T, D], ids I32 [T, k], weights F32 [T, k], out [T, D].
  virtual void moe_experts(const Tensor& x, const Tensor& ids, const Tensor& weights,
                           std::span<const MlpWeights> experts, Tensor& out) = 0;
};

}  // namespace minke
