// The CUDA linear layer, y = x W^T, for every weight dtype of the checkpoint: the semantics of
// CpuBackend::linear (src/backend/cpu/cpu_linear.cpp), activations f32 on the device, weights in
// checkpoint dtype. A Gemm owns the cuBLASLt handle, its workspace, cached cuBLASLt plans and
// scratch for converted activations; one Gemm per stream (it is not thread-safe).
//
// Which path serves which shape (m = rows of x; "skinny"/"tiled" are grouped_gemm's kernels with
// one group):
//  - F32 weight: cuBLASLt fp32 GEMM, COMPUTE_32F without TF32 (fp32-exact), any m.
//  - BF16 weight: m <= 16: the skinny kernel on f32 x (decode; weights streamed once, nothing
//    converted). Larger m: x rounded to bf16 in scratch, cuBLASLt bf16 x bf16 -> f32, COMPUTE_32F.
//  - F8E4M3 weight, quantize_input (W8A8): act_quant into scratch (e4m3 + per-128 scales). m <= 16:
//    the skinny kernel on e4m3 x e4m3. Larger m, when block_n = block_k = 128, k % 128 == 0 and
//    n % 16 == 0: cuBLASLt FP8 with block scaling (activations VEC128_32F, weights
//    BLK128x128_32F; m padded to a multiple of 16 in scratch; f32 output, or bf16 widened to f32
//    if this cuBLASLt only offers that). Otherwise, or when cuBLASLt finds no algorithm: the
//    tiled kernel on e4m3 x e4m3.
//  - F8E4M3 weight without quantize_input: f32 x times the dequantized weight, skinny (m <= 16)
//    or tiled.
//  - F32/BF16 weight with quantize_input (the CPU fake-quantizes x whatever the weight): x is
//    copied and fake-quantized in scratch, then as above.
// force_own_kernel takes skinny/tiled for every case (tests compare it with cuBLASLt).
//
// Scratch only grows. Growing allocates (cudaMalloc), so it must not happen during CUDA graph
// capture: run each shape once before capturing. Outgrown buffers are kept until the Gemm goes,
// since queued work or a captured graph may still use them. The cuBLASLt plan of a shape is built on its first call and
// cached (descriptors + the heuristic's algorithm, per m, n, k, kind and pointer alignment).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "backend/cuda/grouped_gemm.h"
#include "core/status.h"

namespace minke::cuda {

struct LinearParams {
  const float* x = nullptr;         // [m, k] device, f32
  const void* w = nullptr;          // [n, k] device, of w_type
  WeightType w_type = WeightType::kBF16;
  const float* w_scales = nullptr;  // [ceil(n / block_n), ceil(k / block_k)] device, f32; e4m3 only
  int64_t block_n = 128, block_k = 128;
  bool quantize_input = false;      // DeepSeek's act_quant on x per block_k columns first
  float* out = nullptr;             // [m, n] device, f32; must not alias x
  int64_t m = 0, n = 0, k = 0;
  bool force_own_kernel = false;    // skip cuBLASLt (tests)
};

enum class GemmPath : uint8_t {
  kCublasF32,       // cuBLASLt fp32
  kCublasBF16,      // x -> bf16, cuBLASLt bf16 x bf16 -> f32
  kCublasBF16Split,  // x = hi + lo, both bf16, stacked as 2m rows in one cuBLASLt GEMM, halves added
  kCublasFp8Block,  // act_quant, cuBLASLt e4m3 x e4m3 with VEC128 / BLK128x128 scales -> f32
  kCublasFp8BlockBf16Out,  // the same into a bf16 scratch, widened (if cuBLASLt refuses f32 out)
  kSkinny,          // grouped_gemm's skinny kernel, one group
  kTiled,           // grouped_gemm's tiled kernel, one group
};

// How Gemm trades accuracy for speed (CudaBackendOptions carries it from the command line).
struct GemmOptions {
  // BF16 weights at m > 16: multiply x split into two bf16 halves (hi + lo, one GEMM of 2m
  // rows, weights read once) so activations keep ~16 bits: rounding them to bf16 alone
  // perturbs MoE routing enough to flip expert choices. Off: x rounded to bf16.
  bool split_bf16_activations = true;
  // Every product through minke's own kernels on exact f32 (or act_quant'ed) operands, as the
  // CPU computes: a diagnostic that isolates cuBLASLt's rounding.
  bool own_kernels_only = false;
};

class Gemm {
 public:
  // Creates the cuBLASLt handle and a 32 MiB workspace on the current device.
  static Result<std::unique_ptr<Gemm>> create();
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // out = x W^T on `stream`. Host-side checks (null pointers, shapes, block sizes, scales) return
  // invalid_argument; nothing aborts. m == 0 is a no-op.
  Status linear(const LinearParams& p, cudaStream_t stream);
  void set_options(const GemmOptions& options);

  // The path linear(p) takes (builds and caches its cuBLASLt plan; launches nothing).
  Result<GemmPath> plan(const LinearParams& p);
  static const char* path_name(GemmPath path);

  struct Impl;  // cuBLASLt state and scratch (gemm.cpp)

 private:
  explicit Gemm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace minke::cuda
