// fill_uniform: a grid-stride loop over the elements; each value is a pure function of
// (seed, index) (backend/random_fill.h), so the launch shape never changes the bytes.
#include "backend/cuda/random_fill.h"

#include <algorithm>
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/random_fill.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;  // a grid-stride loop covers the rest

// T: float, uint16_t (bf16 bits) or uint8_t (e4m3 bytes).
template <class T>
__device__ __forceinline__ T narrow(float v);
template <>
__device__ __forceinline__ float narrow<float>(float v) { return v; }
template <>
__device__ __forceinline__ uint16_t narrow<uint16_t>(float v) { return random_fill::to_bf16(v); }
template <>
__device__ __forceinline__ uint8_t narrow<uint8_t>(float v) { return random_fill::to_e4m3(v); }

template <class T>
__global__ void fill_uniform_kernel(T* data,  // [n]
                                    int64_t n, float lo, float hi, uint64_t seed) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    data[i] = narrow<T>(random_fill::uniform(seed, uint64_t(i), lo, hi));
}

template <class T>
Status launch(void* data, int64_t n, float lo, float hi, uint64_t seed, cudaStream_t stream) {
  const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, kMaxBlocks);
  fill_uniform_kernel<T><<<unsigned(blocks), kThreads, 0, stream>>>(static_cast<T*>(data), n, lo,
                                                                     hi, seed);
  MINKE_CUDA_TRY_LAUNCH("fill_uniform_kernel");
  return Status::ok();
}

}  // namespace

Status fill_uniform(void* data, DType dtype, int64_t n, float lo, float hi, uint64_t seed,
                    cudaStream_t stream) {
  if (n < 0) return invalid_argument("cuda::fill_uniform: n = {} < 0", n);
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
    return invalid_argument("cuda::fill_uniform: bad range [{}, {})", lo, hi);
  if (n == 0) return Status::ok();
  if (data == nullptr) return invalid_argument("cuda::fill_uniform: null pointer");
  switch (dtype) {
    case DType::kF32: return launch<float>(data, n, lo, hi, seed, stream);
    case DType::kBF16: return launch<uint16_t>(data, n, lo, hi, seed, stream);
    case DType::kF8E4M3: return launch<uint8_t>(data, n, lo, hi, seed, stream);
    default:
      return invalid_argument("cuda::fill_uniform: dtype {} (expected F32, BF16 or F8_E4M3)",
                              dtype_name(dtype));
  }
}

}  // namespace minke::cuda
