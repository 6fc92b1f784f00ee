// Grouped GEMM: one launch multiplies consecutive row groups of an activation matrix by a
// different weight each (MoE experts after the tokens are sorted by expert; a plain linear
// layer is the one-group case). y[r] = x[r] W_g^T for rows r in [offsets[g], offsets[g+1]).
// Weights are f32, bf16 or float8 e4m3 with one f32 scale per block_n x block_k block
// (DeepSeek's layout). Activations are f32, or float8 e4m3 with one f32 scale per row and
// block_k columns (act_quant's output); the product accumulates in f32, scaled per block.
//
// Which kernel: groups of at most 16 rows (max_group_rows <= 16: decode) take the skinny kernel,
// a warp per 4 output columns streaming each weight row once per 8 rows with 16-byte loads;
// larger groups take a 64x64 shared-memory tiled kernel (grouped_gemm_kernel.h). Both widen
// every operand to f32 as the CPU does (e4m3 * its block scale) and accumulate in f32, so
// they match CpuBackend::linear per group up to summation order. Any k, n, block_k work;
// vector loads are used when k and block_k are multiples of the vector width and the
// pointers are 16-byte aligned (checked per weight on the device), scalar loads otherwise.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"

namespace minke::cuda {

enum class WeightType : uint8_t { kF32, kBF16, kF8E4M3 };

struct GroupedGemmParams {
  // Activations: either x (f32 [rows, k]) or x_q + x_scales (e4m3 [rows, k] and
  // f32 [rows, ceil(k / block_k)]); exactly one of x and x_q is set.
  const float* x = nullptr;
  const uint8_t* x_q = nullptr;
  const float* x_scales = nullptr;
  // Device arrays of `groups` device pointers: weight g is [n, k] of `weight_type`; its scales
  // (e4m3 only) are f32 [ceil(n / block_n), ceil(k / block_k)]. A null weight marks a group
  // this rank does not hold: its output rows are written as zeros.
  const void* const* weights = nullptr;
  const float* const* weight_scales = nullptr;
  WeightType weight_type = WeightType::kBF16;
  int64_t block_n = 128, block_k = 128;
  // Device [groups + 1], non-decreasing, offsets[0] = 0, offsets[groups] = rows. Read on the
  // device only (the launch never waits for the host), so the launch is graph-capturable.
  const int32_t* offsets = nullptr;
  float* out = nullptr;  // [rows, n]
  int64_t rows = 0, n = 0, k = 0, groups = 0;
  // An upper bound on any group's row count (0 or rows when unknown); sizes the grid and picks
  // the kernel. It must not understate: tiles past the bound would be left unwritten.
  int64_t max_group_rows = 0;
};

// Host-side checks (null pointers, shapes, block sizes) then the launch(es).
Status grouped_gemm(const GroupedGemmParams& p, cudaStream_t stream);

}  // namespace minke::cuda
