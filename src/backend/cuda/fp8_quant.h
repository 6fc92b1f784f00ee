// DeepSeek's activation quantization on the GPU (inference/kernel.py act_quant): per row and
// block of `block` columns, scale = max(amax, 1e-4) / 448 and q = e4m3(x / scale), rounded to
// nearest even. act_quant writes q and the scales (the layout cuBLASLt's VEC128 block scaling
// reads); fp8_fake_quant rounds in place (q * scale), the CPU backend's W8A8 emulation.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"

namespace minke::cuda {

struct ActQuantParams {
  const float* x;   // [rows, k]
  uint8_t* q;       // [rows, k] float8 e4m3fn bytes
  float* scales;    // [rows, ceil(k / block)]
  int64_t rows = 0, k = 0, block = 128;
};
Status act_quant(const ActQuantParams& p, cudaStream_t stream);

// x [rows, k], in place.
Status fp8_fake_quant(float* x, int64_t rows, int64_t k, int64_t block, cudaStream_t stream);

}  // namespace minke::cuda
