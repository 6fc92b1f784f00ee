// head_linear on the GPU: out[t, h] = w[h] x[t, h], the per-head products of the absorbed MLA
// path (W_UK^T: K 128 -> N 512, W_UV: K 512 -> N 128, 128 heads), in float32 throughout (no
// TF32). HeadLinear runs them as one cuBLASLt strided-batched GEMM over the heads;
// head_linear_simt is a plain tiled kernel, the fallback when cuBLASLt offers no algorithm.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/status.h"

namespace minke::cuda {

struct HeadLinearParams {
  const float* x = nullptr;  // [tokens, heads, k]
  const float* w = nullptr;  // [heads, n, k]
  float* out = nullptr;      // [tokens, heads, n]; must not alias x or w
  int64_t tokens = 0, heads = 0, n = 0, k = 0;
};

Status head_linear_simt(const HeadLinearParams& p, cudaStream_t stream);

// Owns a cuBLASLt handle, its workspace (kWorkspaceBytes of device memory, from cudaMalloc)
// and the plans (descriptors and chosen algorithm) of the shapes it has seen. Use from one
// thread at a time per stream; plans are guarded by a mutex.
class HeadLinear {
 public:
  static constexpr size_t kWorkspaceBytes = size_t(4) << 20;

  static Result<std::unique_ptr<HeadLinear>> create();
  ~HeadLinear();
  HeadLinear(const HeadLinear&) = delete;
  HeadLinear& operator=(const HeadLinear&) = delete;

  Status run(const HeadLinearParams& p, cudaStream_t stream);

 private:
  struct Plan;
  // tokens, heads, n, k, and the alignments (bytes) of x, w, out.
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, uint32_t, uint32_t, uint32_t>;
  HeadLinear() = default;
  Result<const Plan*> plan(const Key& key);

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  std::mutex mu_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

}  // namespace minke::cuda
