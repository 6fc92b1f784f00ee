// cuBLASLt plans for Gemm::linear: the matmul descriptor, layouts and the heuristic's algorithm
// per (kind, m, n, k, pointer alignments), built on first use and cached, so a decode step does
// not query the heuristic again.
//
// cuBLASLt is column-major, so y[m, n] = x[m, k] W[n, k]^T is computed as y^T = W x^T:
// A = W (k x n column-major, ld k, transposed: TN, the only FP8 layout), B = x (k x m, ld k),
// D = y (n x m column-major, ld n = y row-major). For kFp8Block(Bf16Out), A's scales are BLK128x128_32F
// (the checkpoint's [ceil(n/128), k/128] row-major scale_inv with its row length a multiple of 4)
// and B's VEC128_32F (one per 128 k of each x row, laid out [k/128, m]: rows contiguous).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

#include "core/status.h"

namespace minke::cuda::detail {

enum class LtKind : uint8_t {
  kF32,        // f32 x f32 -> f32, COMPUTE_32F (no TF32)
  kBF16,       // bf16 x bf16 -> f32, COMPUTE_32F
  kFp8Block,   // e4m3 x e4m3 -> f32 with block scales, COMPUTE_32F
  kFp8BlockBf16Out,  // the same with a bf16 D, should a cuBLASLt build refuse f32 outputs
};

// The largest power of two <= 256 that divides the address (cuBLASLt assumes 256 by default).
uint32_t alignment_of(const void* p);

class LtPlans {
 public:
  static Result<std::unique_ptr<LtPlans>> create(size_t workspace_bytes);
  ~LtPlans();
  LtPlans(const LtPlans&) = delete;
  LtPlans& operator=(const LtPlans&) = delete;

  // Whether cuBLASLt has an algorithm for this problem with operands of these alignments
  // (a = W, b = x, d = y). Cached; a refusal is cached too.
  Result<bool> supported(LtKind kind, int64_t m, int64_t n, int64_t k, uint32_t align_a, uint32_t align_b,
                         uint32_t align_d);
  // D = A B as above, with supported() true for these pointers' alignments; d is f32, or bf16 for
  // kFp8BlockBf16Out. a_scale / b_scale: the FP8 kinds only (device pointers in the layouts
  // described at the top).
  Status run(LtKind kind, int64_t m, int64_t n, int64_t k, const void* a, const void* b, void* d,
             const float* a_scale, const float* b_scale, cudaStream_t stream);
  // Marks a problem unsupported (after cuBLASLt refused to run it), so later plans fall back.
  void disable(LtKind kind, int64_t m, int64_t n, int64_t k, uint32_t align_a, uint32_t align_b, uint32_t align_d);

 private:
  struct Key {
    LtKind kind;
    int64_t m, n, k;
    uint32_t align_a, align_b, align_d;
    bool operator<(const Key& o) const {
      return std::tie(kind, m, n, k, align_a, align_b, align_d) <
             std::tie(o.kind, o.m, o.n, o.k, o.align_a, o.align_b, o.align_d);
    }
  };
  struct Plan {
    bool ok = false;
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulAlgo_t algo{};
    void destroy();
  };

  LtPlans() = default;
  Result<Plan*> get(const Key& key);
  Status build(const Key& key, Plan& plan);

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;  // device
  size_t workspace_bytes_ = 0;
  std::map<Key, Plan> plans_;
};

}  // namespace minke::cuda::detail
