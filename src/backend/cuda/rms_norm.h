// RMSNorm on the GPU: out = x * rsqrt(mean(x^2) + eps) * w, one row per block, optionally
// fused with the residual add before it. CPU reference: CpuBackend::rms_norm (and add_inplace).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"

namespace minke::cuda {

struct RmsNormParams {
  const float* x;     // [rows, dim] device
  const float* w;     // [dim] device f32, or null when w_bf16 is set
  float* out;         // [rows, dim] device; may alias x
  int64_t rows = 0;
  int64_t dim = 0;
  float eps = 1e-6f;
  // Fused residual add: when set, v = x + residual is normalized and stored to sum_out
  // ([rows, dim]; may alias x, not out unless out aliases x too).
  const float* residual = nullptr;  // [rows, dim]
  float* sum_out = nullptr;         // [rows, dim]
  const uint16_t* w_bf16 = nullptr;  // [dim] device bf16 bits (checkpoint norms), instead of w
};

Status rms_norm(const RmsNormParams& p, cudaStream_t stream);

}  // namespace minke::cuda
