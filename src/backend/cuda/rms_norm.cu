// rms_norm kernel: a block per row, a strided sum of squares (after the optional residual
// add), a warp-shuffle then shared-memory reduction, then the scaled write.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/rms_norm.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 256;

__device__ float weight(const RmsNormParams& p, int64_t i) {
  return p.w_bf16 != nullptr ? __uint_as_float(uint32_t(p.w_bf16[i]) << 16) : p.w[i];
}

__global__ void rms_norm_kernel(RmsNormParams p) {
  const int64_t row = int64_t(blockIdx.x) * p.dim;
  const float* x = p.x + row;  // [dim] this block's row
  float* out = p.out + row;
  float ss = 0.0f;
  if (p.residual != nullptr) {  // each thread re-reads only the elements it wrote
    for (int64_t i = threadIdx.x; i < p.dim; i += kThreads) {
      const float v = x[i] + p.residual[row + i];
      p.sum_out[row + i] = v;
      ss += v * v;
    }
    x = p.sum_out + row;
  } else {
    for (int64_t i = threadIdx.x; i < p.dim; i += kThreads) ss += x[i] * x[i];
  }
  for (int offset = 16; offset > 0; offset /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, offset);
  __shared__ float warp_sums[kThreads / 32];
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = ss;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < kThreads / 32; ++w) total += warp_sums[w];
  const float inv = rsqrtf(total / float(p.dim) + p.eps);
  for (int64_t i = threadIdx.x; i < p.dim; i += kThreads) out[i] = weight(p, i) * (x[i] * inv);
}

}  // namespace

Status rms_norm(const RmsNormParams& p, cudaStream_t stream) {
  if (p.x == nullptr || (p.w == nullptr && p.w_bf16 == nullptr) || p.out == nullptr || p.rows < 0 || p.dim <= 0)
    return invalid_argument("cuda::rms_norm: null pointer or bad shape [{}, {}]", p.rows, p.dim);
  if ((p.residual == nullptr) != (p.sum_out == nullptr))
    return invalid_argument("cuda::rms_norm: residual and sum_out go together");
  if (p.rows > int64_t(INT32_MAX)) return invalid_argument("cuda::rms_norm: {} rows", p.rows);
  if (p.rows == 0) return Status::ok();
  rms_norm_kernel<<<unsigned(p.rows), kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("rms_norm_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
