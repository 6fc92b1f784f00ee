// Backend::fill_uniform on the GPU: element i of an F32, BF16 or F8E4M3 buffer gets
// backend/random_fill.h's value for (seed, i) in [lo, hi), the same bytes CpuBackend writes.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"
#include "tensor/dtype.h"

namespace minke::cuda {

// data [n] of `dtype` (kF32, kBF16 or kF8E4M3) on the device; lo <= hi, both finite.
Status fill_uniform(void* data, DType dtype, int64_t n, float lo, float hi, uint64_t seed,
                    cudaStream_t stream);

}  // namespace minke::cuda
