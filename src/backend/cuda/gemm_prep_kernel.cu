// Layout kernels for Gemm::linear's cuBLASLt paths: grid-stride loops, one thread per element.
#include <cuda_bf16.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/gemm_prep_kernel.h"

namespace minke::cuda::detail {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 65535 * 32 ? b : 65535 * 32);  // grid-stride beyond this
}

__global__ void to_bf16_kernel(const float* x, __nv_bfloat16* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(x[i]);
}

__global__ void split_bf16_kernel(const float* x, __nv_bfloat16* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const __nv_bfloat16 hi = __float2bfloat16_rn(x[i]);
    out[i] = hi;
    out[n + i] = __float2bfloat16_rn(x[i] - __bfloat162float(hi));
  }
}

__global__ void add_halves_kernel(const float* y, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = y[i] + y[n + i];
}

__global__ void from_bf16_kernel(const __nv_bfloat16* x, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __bfloat162float(x[i]);
}

__global__ void transpose_scales_kernel(const float* in, float* out, int64_t m, int64_t kb, int64_t m_pad) {
  const int64_t total = kb * m_pad;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = i / m_pad, r = i % m_pad;
    out[i] = r < m ? in[r * kb + b] : 1.0f;
  }
}

__global__ void pad_scales_kernel(const float* in, float* out, int64_t nb, int64_t kb, int64_t kb_pad) {
  const int64_t total = nb * kb_pad;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / kb_pad, c = i % kb_pad;
    out[i] = c < kb ? in[r * kb + c] : 0.0f;
  }
}

}  // namespace

Status split_to_bf16(const float* x, uint16_t* out, int64_t n, cudaStream_t stream) {
  if (n < 0 || (n > 0 && (x == nullptr || out == nullptr))) return invalid_argument("cuda::split_to_bf16: bad args");
  if (n == 0) return Status::ok();
  split_bf16_kernel<<<blocks_for(n), kThreads, 0, stream>>>(x, reinterpret_cast<__nv_bfloat16*>(out), n);
  MINKE_CUDA_TRY_LAUNCH("split_bf16_kernel");
  return Status::ok();
}

Status add_halves(const float* y, float* out, int64_t n, cudaStream_t stream) {
  if (n < 0 || (n > 0 && (y == nullptr || out == nullptr))) return invalid_argument("cuda::add_halves: bad args");
  if (n == 0) return Status::ok();
  add_halves_kernel<<<blocks_for(n), kThreads, 0, stream>>>(y, out, n);
  MINKE_CUDA_TRY_LAUNCH("add_halves_kernel");
  return Status::ok();
}

Status convert_to_bf16(const float* x, uint16_t* out, int64_t n, cudaStream_t stream) {
  if (n < 0 || (n > 0 && (x == nullptr || out == nullptr))) return invalid_argument("cuda::convert_to_bf16: bad args");
  if (n == 0) return Status::ok();
  to_bf16_kernel<<<blocks_for(n), kThreads, 0, stream>>>(x, reinterpret_cast<__nv_bfloat16*>(out), n);
  MINKE_CUDA_TRY_LAUNCH("to_bf16_kernel");
  return Status::ok();
}

Status convert_from_bf16(const uint16_t* x, float* out, int64_t n, cudaStream_t stream) {
  if (n < 0 || (n > 0 && (x == nullptr || out == nullptr))) return invalid_argument("cuda::convert_from_bf16: bad args");
  if (n == 0) return Status::ok();
  from_bf16_kernel<<<blocks_for(n), kThreads, 0, stream>>>(reinterpret_cast<const __nv_bfloat16*>(x), out, n);
  MINKE_CUDA_TRY_LAUNCH("from_bf16_kernel");
  return Status::ok();
}

Status transpose_act_scales(const float* in, float* out, int64_t m, int64_t kb, int64_t m_pad, cudaStream_t stream) {
  if (m < 0 || kb < 1 || m_pad < m || in == nullptr || out == nullptr)
    return invalid_argument("cuda::transpose_act_scales: bad args ({} rows, {} blocks, {} padded)", m, kb, m_pad);
  if (m_pad == 0) return Status::ok();
  transpose_scales_kernel<<<blocks_for(kb * m_pad), kThreads, 0, stream>>>(in, out, m, kb, m_pad);
  MINKE_CUDA_TRY_LAUNCH("transpose_scales_kernel");
  return Status::ok();
}

Status pad_weight_scales(const float* in, float* out, int64_t nb, int64_t kb, int64_t kb_pad, cudaStream_t stream) {
  if (nb < 1 || kb < 1 || kb_pad < kb || in == nullptr || out == nullptr)
    return invalid_argument("cuda::pad_weight_scales: bad args ({} x {} padded to {})", nb, kb, kb_pad);
  pad_scales_kernel<<<blocks_for(nb * kb_pad), kThreads, 0, stream>>>(in, out, nb, kb, kb_pad);
  MINKE_CUDA_TRY_LAUNCH("pad_scales_kernel");
  return Status::ok();
}

}  // namespace minke::cuda::detail
