// Elementwise and data-movement ops on the GPU (float32 activations), each the CUDA version
// of the CpuBackend op of the same name; launchers validate shapes and pointers on the host.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"

namespace minke::cuda {

// out[i] += x[i]; both [n].
Status add_inplace(float* out, const float* x, int64_t n, cudaStream_t stream);

// out[i] = silu(gate[i]) * up[i]; all [n].
Status silu_mul(const float* gate, const float* up, float* out, int64_t n, cudaStream_t stream);

// out[t] = table[ids[t]] as float32. ids [T] device, already checked against the vocabulary
// (the caller validates on the host: a device-side error would need a read-back every step).
struct EmbeddingParams {
  const int32_t* ids;  // [tokens]
  const void* table;   // [vocab, dim], f32 or bf16 (table_bf16)
  bool table_bf16 = false;
  float* out;          // [tokens, dim]
  int64_t tokens = 0, dim = 0;
};
Status embedding(const EmbeddingParams& p, cudaStream_t stream);

// out[i] = x[rows[i]]; x [T, D], rows [N] (each in [0, T)), out [N, D].
Status gather_rows(const float* x, const int32_t* rows, float* out, int64_t n, int64_t dim,
                   cudaStream_t stream);

// RoPE on interleaved pairs, in place: in each head, the last 2 * half channels, pair f of
// token t rotated by positions[t] * inv_freq[f] (float32 angle, as Hugging Face), cos and sin
// scaled by attention_factor (YaRN's mscale).
struct RopeParams {
  float* x;                // [tokens, heads, head_dim]
  const int32_t* positions;  // [tokens]
  const float* inv_freq;   // [half]
  int64_t tokens = 0, heads = 0, head_dim = 0, half = 0;
  float attention_factor = 1.0f;
};
Status rope(const RopeParams& p, cudaStream_t stream);

}  // namespace minke::cuda
