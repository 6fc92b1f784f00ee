// Elementwise kernels: grid-stride loops over elements (or rows x columns), one thread per
// element; bf16 embeddings widened in registers.
#include <cuda_bf16.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/elementwise.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 65535 * 32 ? b : 65535 * 32);  // grid-stride beyond this
}

__global__ void add_kernel(float* out, const float* x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] += x[i];
}

__global__ void silu_mul_kernel(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    out[i] = g / (1.0f + expf(-g)) * up[i];
  }
}

__global__ void embedding_kernel(EmbeddingParams p) {
  const int64_t n = p.tokens * p.dim;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / p.dim, c = i % p.dim;
    const int64_t src = int64_t(p.ids[t]) * p.dim + c;
    p.out[i] = p.table_bf16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(p.table)[src])
                            : static_cast<const float*>(p.table)[src];
  }
}

__global__ void gather_rows_kernel(const float* x, const int32_t* rows, float* out, int64_t n, int64_t dim) {
  const int64_t total = n * dim;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = x[int64_t(rows[i / dim]) * dim + i % dim];
}

// One thread per (token, head, pair).
__global__ void rope_kernel(RopeParams p) {
  const int64_t n = p.tokens * p.heads * p.half;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t f = i % p.half, th = i / p.half, t = th / p.heads;
    const float angle = float(p.positions[t]) * p.inv_freq[f];
    float s, c;
    sincosf(angle, &s, &c);
    c *= p.attention_factor;
    s *= p.attention_factor;
    float* v = p.x + th * p.head_dim + (p.head_dim - 2 * p.half) + 2 * f;
    const float a = v[0], b = v[1];
    v[0] = a * c - b * s;
    v[1] = b * c + a * s;
  }
}

}  // namespace

Status add_inplace(float* out, const float* x, int64_t n, cudaStream_t stream) {
  if (n < 0 || (n > 0 && (out == nullptr || x == nullptr))) return invalid_argument("cuda::add_inplace: bad arguments (n {})", n);
  if (n == 0) return Status::ok();
  add_kernel<<<blocks_for(n), kThreads, 0, stream>>>(out, x, n);
  MINKE_CUDA_TRY_LAUNCH("add_kernel");
  return Status::ok();
}

Status silu_mul(const float* gate, const float* up, float* out, int64_t n, cudaStream_t stream) {
  if (n < 0 || (n > 0 && (gate == nullptr || up == nullptr || out == nullptr)))
    return invalid_argument("cuda::silu_mul: bad arguments (n {})", n);
  if (n == 0) return Status::ok();
  silu_mul_kernel<<<blocks_for(n), kThreads, 0, stream>>>(gate, up, out, n);
  MINKE_CUDA_TRY_LAUNCH("silu_mul_kernel");
  return Status::ok();
}

Status embedding(const EmbeddingParams& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.dim <= 0 || (p.tokens > 0 && (p.ids == nullptr || p.table == nullptr || p.out == nullptr)))
    return invalid_argument("cuda::embedding: bad arguments [{} tokens, dim {}]", p.tokens, p.dim);
  if (p.tokens == 0) return Status::ok();
  embedding_kernel<<<blocks_for(p.tokens * p.dim), kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("embedding_kernel");
  return Status::ok();
}

Status gather_rows(const float* x, const int32_t* rows, float* out, int64_t n, int64_t dim, cudaStream_t stream) {
  if (n < 0 || dim <= 0 || (n > 0 && (x == nullptr || rows == nullptr || out == nullptr)))
    return invalid_argument("cuda::gather_rows: bad arguments [{} rows, dim {}]", n, dim);
  if (n == 0) return Status::ok();
  gather_rows_kernel<<<blocks_for(n * dim), kThreads, 0, stream>>>(x, rows, out, n, dim);
  MINKE_CUDA_TRY_LAUNCH("gather_rows_kernel");
  return Status::ok();
}

Status rope(const RopeParams& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.heads <= 0 || p.half < 0 || 2 * p.half > p.head_dim ||
      (p.tokens > 0 && p.half > 0 && (p.x == nullptr || p.positions == nullptr || p.inv_freq == nullptr)))
    return invalid_argument("cuda::rope: bad arguments [{} tokens, {} heads, head_dim {}, {} pairs]", p.tokens,
                            p.heads, p.head_dim, p.half);
  const int64_t n = p.tokens * p.heads * p.half;
  if (n == 0) return Status::ok();
  rope_kernel<<<blocks_for(n), kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("rope_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
