// Internal entry to the grouped GEMM kernels (grouped_gemm_{skinny,tiled}_kernel.cu). The public
// grouped_gemm() (device arrays of per-group weights) and Gemm::linear (one weight passed by value,
// no device-side pointer array) both land here; callers have validated the arguments.
//
// Two kernels, both one launch for all groups, both reading the group offsets on the device only:
//  - skinny: a warp per 4 output columns and up to 8 rows of one group; each lane streams 16-byte
//    weight vectors along k, so a weight row is read once per chunk of 8 rows (decode, few rows).
//  - tiled: 64x64 output tiles, k steps of 32 through shared memory, 4x4 outputs per thread
//    (prefill, many rows per group).
// Both widen every operand to f32 exactly as the CPU does (bf16 -> f32; e4m3 * its block scale,
// f32 products of the same values as CpuBackend::linear's dequantized rows) and accumulate in f32,
// so they match the CPU up to summation order.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/grouped_gemm.h"
#include "core/status.h"

namespace minke::cuda::detail {

struct GemmKernelArgs {
  const float* x = nullptr;         // [rows, k] f32; or null when x_q is set
  const uint8_t* x_q = nullptr;     // [rows, k] e4m3 bytes (only with e4m3 weights)
  const float* x_scales = nullptr;  // [rows, ceil(k / block_k)] with x_q
  // Per group (device arrays of `groups` device pointers), or null: then `weight` serves all rows.
  const void* const* weights = nullptr;         // [groups] -> [n, k] of weight_type; null entry: zeros
  const float* const* weight_scales = nullptr;  // [groups] -> [ceil(n / block_n), ceil(k / block_k)]
  const void* weight = nullptr;                 // [n, k], when weights is null
  const float* weight_scale = nullptr;          // [ceil(n / block_n), ceil(k / block_k)], e4m3 only
  WeightType weight_type = WeightType::kBF16;
  int64_t block_n = 128, block_k = 128;
  const int32_t* offsets = nullptr;  // [groups + 1] device; null: one group of all rows
  float* out = nullptr;              // [rows, n]
  int64_t rows = 0, n = 0, k = 0, groups = 1;
  int64_t max_group_rows = 0;  // an upper bound on any group's rows (sizes the grid)
};

enum class GemmKernel : uint8_t { kSkinny, kTiled };

// Groups of at most this many rows take the skinny kernel.
inline constexpr int64_t kSkinnyMaxRows = 16;

inline GemmKernel pick_gemm_kernel(int64_t max_group_rows) {
  return max_group_rows <= kSkinnyMaxRows ? GemmKernel::kSkinny : GemmKernel::kTiled;
}

// Either kernel is correct for any row counts; the choice is only speed (tests force each).
Status launch_skinny_gemm(const GemmKernelArgs& a, cudaStream_t stream);
Status launch_tiled_gemm(const GemmKernelArgs& a, cudaStream_t stream);

inline Status launch_gemm_kernel(const GemmKernelArgs& a, GemmKernel kernel, cudaStream_t stream) {
  return kernel == GemmKernel::kSkinny ? launch_skinny_gemm(a, stream) : launch_tiled_gemm(a, stream);
}

// The kernels' arguments for grouped_gemm()'s parameters (max_group_rows as given).
GemmKernelArgs kernel_args(const GroupedGemmParams& p);

// Checks what both entry points need (shapes, blocks, pointer presence); kernel-independent.
Status check_gemm_kernel_args(const GemmKernelArgs& a, const char* who);

}  // namespace minke::cuda::detail
