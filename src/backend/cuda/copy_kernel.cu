// copy_bytes: uint4 (16-byte) loads and stores. Each thread issues four independent loads
// before its stores so enough bytes are in flight to saturate HBM (llm.c dev/cuda style).
#include "backend/cuda/copy_kernel.h"

#include <cstdint>

#include "backend/cuda/cuda_check.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 512;
constexpr int kBlocksPerSm = 4;

__global__ void copy_kernel(const uint4* __restrict__ src,  // [n]
                            uint4* __restrict__ dst,        // [n]
                            int64_t n) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + 3 * stride < n; i += 4 * stride) {
    const uint4 a = __ldcs(src + i);
    const uint4 b = __ldcs(src + i + stride);
    const uint4 c = __ldcs(src + i + 2 * stride);
    const uint4 d = __ldcs(src + i + 3 * stride);
    __stcs(dst + i, a);
    __stcs(dst + i + stride, b);
    __stcs(dst + i + 2 * stride, c);
    __stcs(dst + i + 3 * stride, d);
  }
  for (; i < n; i += stride) __stcs(dst + i, __ldcs(src + i));
}

}  // namespace

Status copy_bytes(const CopyParams& p, cudaStream_t stream) {
  if (p.bytes == 0) return Status::ok();
  if (p.src == nullptr || p.dst == nullptr) return invalid_argument("cuda::copy_bytes: null pointer");
  if (p.bytes % 16 != 0 || reinterpret_cast<uintptr_t>(p.src) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(p.dst) % 16 != 0)
    return invalid_argument("cuda::copy_bytes: {} bytes, pointers and size must be 16-byte aligned",
                            p.bytes);
  const auto* s = static_cast<const char*>(p.src);
  const auto* d = static_cast<const char*>(p.dst);
  if (s < d + p.bytes && d < s + p.bytes) return invalid_argument("cuda::copy_bytes: src and dst overlap");
  int blocks = p.blocks;
  if (blocks <= 0) {
    int device = 0, sms = 0;
    MINKE_CUDA_TRY(cudaGetDevice(&device));
    MINKE_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    blocks = sms * kBlocksPerSm;
  }
  copy_kernel<<<unsigned(blocks), kThreads, 0, stream>>>(static_cast<const uint4*>(p.src),
                                                         static_cast<uint4*>(p.dst),
                                                         int64_t(p.bytes / 16));
  MINKE_CUDA_TRY_LAUNCH("copy_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
