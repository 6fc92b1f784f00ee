// act_quant / fp8_fake_quant: one CUDA block per (row, column block); a shared-memory max
// reduction for amax, then every thread converts its elements with cuda_fp8's RNE conversion.
#include <cuda_fp8.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/fp8_quant.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 128;

// Returns the block's scale; every thread of the CUDA block must call it.
__device__ float block_scale(const float* x, int64_t n) {
  float amax = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += kThreads) amax = fmaxf(amax, fabsf(x[i]));
  for (int offset = 16; offset > 0; offset /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, offset));
  __shared__ float warp_max[kThreads / 32];
  if (threadIdx.x % 32 == 0) warp_max[threadIdx.x / 32] = amax;
  __syncthreads();
  float m = 0.0f;
  for (int w = 0; w < kThreads / 32; ++w) m = fmaxf(m, warp_max[w]);
  return fmaxf(m, 1e-4f) / 448.0f;
}

__device__ __nv_fp8_storage_t to_e4m3(float v) { return __nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3); }

__device__ float from_e4m3(__nv_fp8_storage_t q) {
  return __half2float(__half(__nv_cvt_fp8_to_halfraw(q, __NV_E4M3)));
}

// grid: (column blocks, rows)
__global__ void act_quant_kernel(ActQuantParams p) {
  const int64_t row = blockIdx.y, c0 = int64_t(blockIdx.x) * p.block;
  const int64_t n = min(p.block, p.k - c0);
  const float* x = p.x + row * p.k + c0;  // [n] this block's columns
  const float scale = block_scale(x, n);
  for (int64_t i = threadIdx.x; i < n; i += kThreads) p.q[row * p.k + c0 + i] = to_e4m3(x[i] / scale);
  if (threadIdx.x == 0) p.scales[row * gridDim.x + blockIdx.x] = scale;
}

__global__ void fake_quant_kernel(float* x, int64_t k, int64_t block) {
  const int64_t row = blockIdx.y, c0 = int64_t(blockIdx.x) * block;
  const int64_t n = min(block, k - c0);
  float* v = x + row * k + c0;
  const float scale = block_scale(v, n);
  __syncthreads();  // every thread has read amax's inputs before any is overwritten
  for (int64_t i = threadIdx.x; i < n; i += kThreads) v[i] = from_e4m3(to_e4m3(v[i] / scale)) * scale;
}

Status check(int64_t rows, int64_t k, int64_t block, const char* what) {
  if (rows < 0 || k <= 0 || block <= 0) return invalid_argument("cuda::{}: bad shape [{}, {}] block {}", what, rows, k, block);
  if (rows > 65535) return invalid_argument("cuda::{}: {} rows (at most 65535 per launch)", what, rows);
  if ((k + block - 1) / block > int64_t(INT32_MAX)) return invalid_argument("cuda::{}: too many blocks", what);
  return Status::ok();
}

}  // namespace

Status act_quant(const ActQuantParams& p, cudaStream_t stream) {
  MINKE_TRY(check(p.rows, p.k, p.block, "act_quant"));
  if (p.rows > 0 && (p.x == nullptr || p.q == nullptr || p.scales == nullptr))
    return invalid_argument("cuda::act_quant: null pointer");
  if (p.rows == 0) return Status::ok();
  act_quant_kernel<<<dim3(unsigned((p.k + p.block - 1) / p.block), unsigned(p.rows)), kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("act_quant_kernel");
  return Status::ok();
}

Status fp8_fake_quant(float* x, int64_t rows, int64_t k, int64_t block, cudaStream_t stream) {
  MINKE_TRY(check(rows, k, block, "fp8_fake_quant"));
  if (rows > 0 && x == nullptr) return invalid_argument("cuda::fp8_fake_quant: null pointer");
  if (rows == 0) return Status::ok();
  fake_quant_kernel<<<dim3(unsigned((k + block - 1) / block), unsigned(rows)), kThreads, 0, stream>>>(x, k, block);
  MINKE_CUDA_TRY_LAUNCH("fake_quant_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
