// MLA attention on the GPU (float32 activations and latent cache), the CUDA versions of
// CpuBackend's write_latent_cache, gather_latent_cache, mla_attention_naive and
// mla_attention_absorbed (cpu_attention.cpp is the definition of correct). Index arrays are
// device pointers (uploaded once per step); shapes and host-known bounds travel as scalars.
// Launchers validate on the host and never wait for the device (graph-capturable).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace minke::cuda {

// ---- the paged latent cache ----------------------------------------------------------------

// cache row slot_mapping[t] = latent[t]. A slot outside [0, num_slots) is skipped (the host
// validates slots; the guard only keeps a bad one from writing outside the cache).
struct WriteLatentCacheParams {
  const float* latent = nullptr;        // [tokens, dim]
  const int64_t* slot_mapping = nullptr;  // [tokens] device
  float* cache = nullptr;               // [num_slots, dim] = [num_pages, page_size, dim]
  int64_t tokens = 0, dim = 0, num_slots = 0;
};
Status write_latent_cache(const WriteLatentCacheParams& p, cudaStream_t stream);

// out[j] = cache row of position j of sequence `seq`, j in [0, n), through its block-table
// row. A page id outside [0, num_pages) yields a NaN row (the host validates block tables).
struct GatherLatentCacheParams {
  const float* cache = nullptr;          // [num_pages, page_size, dim]
  const int32_t* block_table = nullptr;  // [num_seqs, max_pages] device
  float* out = nullptr;                  // [n, dim]
  int64_t seq = 0, num_seqs = 0, max_pages = 0, page_size = 0, num_pages = 0;
  int64_t n = 0, dim = 0;                // n <= max_pages * page_size (checked)
};
Status gather_latent_cache(const GatherLatentCacheParams& p, cudaStream_t stream);

// ---- naive MLA (prefill over up-projected keys and values) ----------------------------------

// One sequence: key j is visible to query t iff j <= q_positions[t] (< tk);
// score = (q_nope . k_nope_j + q_pe . k_pe_j) * scale, out = softmax(score) . v.
// A flash-attention tiled kernel (64 queries x 32 keys per step, one head per block, online
// softmax in float32). Head dims are runtime values: nope + rope + v (each padded to 4) must
// fit one shared-memory row (about 800 floats) and v <= 512.
struct MlaNaiveParams {
  const float* q = nullptr;              // [tq, heads, nope + rope]
  const float* kv = nullptr;             // [tk, heads, nope + v]
  const float* k_pe = nullptr;           // [tk, rope], shared by all heads
  const int32_t* q_positions = nullptr;  // [tq] device
  float* out = nullptr;                  // [tq, heads, v]
  int64_t tq = 0, tk = 0, heads = 0, nope = 0, rope = 0, v = 0;
  float scale = 1.0f;
};
Status mla_attention_naive(const MlaNaiveParams& p, cudaStream_t stream);

// ---- absorbed MLA (decode over the paged latent cache, FlashMLA's contract) -----------------

// Token t of sequence s (seq_starts[s] <= t < seq_starts[s+1]) attends to cache positions
// [0, positions[t]] of s through block_table row s: score_j = (q_abs . c_j + q_pe . pe_j) *
// scale over the cached row [c_j | pe_j], out = softmax(score) . c. A block handles one
// token and up to 64 heads (each key tile is loaded once into shared memory for all of
// them); with split-KV (flash-decoding) the grid also runs over context chunks and a combine
// kernel merges the partials by their max and sum. L <= 512, L + R within one shared row.
struct MlaDecodeParams {
  const float* q_abs = nullptr;          // [tokens, heads, L]
  const float* q_pe = nullptr;           // [tokens, heads, R]
  const float* cache = nullptr;          // [num_pages, page_size, L + R]
  float* out = nullptr;                  // [tokens, heads, L]
  const int32_t* positions = nullptr;    // [tokens] device
  const int32_t* seq_starts = nullptr;   // [num_seqs + 1] device
  const int32_t* block_table = nullptr;  // [num_seqs, max_pages] device
  int64_t tokens = 0, heads = 0, kv_lora_rank = 0, rope_dim = 0;  // T, H, L, R
  int64_t num_seqs = 0, num_pages = 0, page_size = 0, max_pages = 0;
  // Host-known: max over t of positions[t] + 1. It only sizes the splits (keys past the
  // last split's start all go to the last split, so an underestimate costs time, not keys).
  int64_t max_context = 0;
  float scale = 1.0f;
  // Scratch for split partials (device, >= mla_decode_workspace_bytes(*this)); may be null
  // when the plan uses one split.
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  int num_splits = 0;  // 0: planned from tokens, heads, max_context; >= 1: forced
  int num_sms = 0;     // 0: asked of the current device
};

constexpr int kMlaMaxSplits = 64;

struct MlaDecodePlan {
  int num_splits = 1;
  int64_t keys_per_split = 0;  // a multiple of the key tile (32)
  size_t workspace_bytes = 0;  // 0 with one split
};
// The split the launcher will use for `p` (its workspace fields ignored): forced, or chosen
// so that tokens x head groups x splits fill the GPU, with >= 256 keys per split.
Result<MlaDecodePlan> plan_mla_decode(const MlaDecodeParams& p);
// plan_mla_decode(p).workspace_bytes (0 when p is malformed: the launch reports why).
size_t mla_decode_workspace_bytes(const MlaDecodeParams& p);

Status mla_attention_absorbed(const MlaDecodeParams& p, cudaStream_t stream);

}  // namespace minke::cuda
