// A vectorized device-to-device copy (16-byte loads and stores, a grid-stride loop with four
// loads in flight per thread): the bandwidth probe of `minke bench kernels`, beside cudaMemcpy.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "core/status.h"

namespace minke::cuda {

struct CopyParams {
  const void* src = nullptr;  // [bytes] device, 16-byte aligned
  void* dst = nullptr;        // [bytes] device, 16-byte aligned, not overlapping src
  size_t bytes = 0;           // a multiple of 16
  int blocks = 0;             // grid size; 0: 4 blocks of 512 threads per SM of the current device
};

Status copy_bytes(const CopyParams& p, cudaStream_t stream);

}  // namespace minke::cuda
