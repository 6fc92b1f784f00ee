// Section 2 of `minke bench kernels`: cuBLASLt's peak GEMM rates at 8192^3, the compute roofline
// of section 3. BF16 and FP8 block-scaled run through minke's own cuBLASLt plans (the calls
// Gemm::linear makes, f32 output); FP8 with per-tensor scales is a plain cuBLASLt call here.
#if MINKE_HAVE_CUDA

#include <cublasLt.h>

#include <cmath>
#include <cstdio>

#include "apps/bench_kernels_cuda.h"
#include "apps/bench_kernels_report.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/gemm_cublaslt.h"

namespace minke::kbench {
namespace {

using cuda::detail::alignment_of;
using cuda::detail::LtKind;
using cuda::detail::LtPlans;

constexpr int64_t kSize = 8192;
constexpr size_t kWorkspaceBytes = size_t(32) << 20;

Status lt_check(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::ok();
  return internal_error("{}: {}", what, cublasLtGetStatusString(s));
}

// y[m, n] = x[m, k] W[n, k]^T in e4m3 with one f32 scale per operand (TN, column-major as in
// gemm_cublaslt.h), output f32 or, where cuBLASLt has no f32-output kernel, bf16.
class TensorScaledFp8 {
 public:
  ~TensorScaledFp8() {
    if (pref_ != nullptr) cublasLtMatmulPreferenceDestroy(pref_);
    for (cublasLtMatrixLayout_t l : {a_, b_, d_})
      if (l != nullptr) cublasLtMatrixLayoutDestroy(l);
    if (desc_ != nullptr) cublasLtMatmulDescDestroy(desc_);
    if (handle_ != nullptr) cublasLtDestroy(handle_);
  }
  // false (and no error) when cuBLASLt offers no algorithm for either output type.
  Result<bool> init(int64_t m, int64_t n, int64_t k, const float* a_scale, const float* b_scale,
                    void* workspace) {
    workspace_ = workspace;
    MINKE_TRY(lt_check(cublasLtCreate(&handle_), "cublasLtCreate"));
    MINKE_TRY(lt_check(cublasLtMatmulPreferenceCreate(&pref_), "cublasLtMatmulPreferenceCreate"));
    const uint64_t ws = kWorkspaceBytes;
    MINKE_TRY(lt_check(cublasLtMatmulPreferenceSetAttribute(pref_, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                            sizeof(ws)), "MAX_WORKSPACE_BYTES"));
    for (const cudaDataType_t out : {CUDA_R_32F, CUDA_R_16BF}) {
      for (cublasLtMatrixLayout_t* l : {&a_, &b_, &d_})
        if (*l != nullptr) cublasLtMatrixLayoutDestroy(*l), *l = nullptr;
      if (desc_ != nullptr) cublasLtMatmulDescDestroy(desc_), desc_ = nullptr;
      MINKE_TRY(lt_check(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "MatmulDescCreate"));
      const cublasOperation_t t = CUBLAS_OP_T, nt = CUBLAS_OP_N;
      MINKE_TRY(lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof(t)), "TRANSA"));
      MINKE_TRY(lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &nt, sizeof(nt)), "TRANSB"));
      MINKE_TRY(lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &a_scale,
                                                        sizeof(a_scale)), "A_SCALE_POINTER"));
      MINKE_TRY(lt_check(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &b_scale,
                                                        sizeof(b_scale)), "B_SCALE_POINTER"));
      MINKE_TRY(lt_check(cublasLtMatrixLayoutCreate(&a_, CUDA_R_8F_E4M3, uint64_t(k), uint64_t(n), k), "layout A"));
      MINKE_TRY(lt_check(cublasLtMatrixLayoutCreate(&b_, CUDA_R_8F_E4M3, uint64_t(k), uint64_t(m), k), "layout B"));
      MINKE_TRY(lt_check(cublasLtMatrixLayoutCreate(&d_, out, uint64_t(n), uint64_t(m), n), "layout D"));
      cublasLtMatmulHeuristicResult_t result{};
      int returned = 0;
      const cublasStatus_t h =
          cublasLtMatmulAlgoGetHeuristic(handle_, desc_, a_, b_, d_, d_, pref_, 1, &result, &returned);
      if (h == CUBLAS_STATUS_SUCCESS && returned > 0 && result.state == CUBLAS_STATUS_SUCCESS) {
        algo_ = result.algo;
        out_ = out;
        return true;
      }
    }
    return false;
  }
  const char* out_name() const { return out_ == CUDA_R_32F ? "f32" : "bf16"; }
  Status run(const void* w, const void* x, void* d, cudaStream_t stream) {
    const float alpha = 1.0f, beta = 0.0f;
    return lt_check(cublasLtMatmul(handle_, desc_, &alpha, w, a_, x, b_, &beta, d, d_, d, d_, &algo_, workspace_,
                                   kWorkspaceBytes, stream), "cublasLtMatmul (fp8 per-tensor)");
  }

 private:
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
  cublasLtMatmulPreference_t pref_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  cudaDataType_t out_ = CUDA_R_32F;
  void* workspace_ = nullptr;
};

}  // namespace

Status bench_gemm_peaks(KernelBenchContext& ctx) {
  const int64_t n = kSize, m = kSize, k = kSize, kb = k / 128;
  const double flops = linear_flops(m, n, k);
  const CudaDeviceInfo& d = ctx.info;
  const double spec_bf16 = spec_tensor_tflops(d.cc_major, d.multiprocessors, ctx.clock_khz, false);
  const double spec_fp8 = spec_tensor_tflops(d.cc_major, d.multiprocessors, ctx.clock_khz, true);
  std::printf("== 2. cuBLASLt peak GEMM rates (M = N = K = %lld, f32 accumulate) ==\n", (long long)kSize);

  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<LtPlans> lt, LtPlans::create(kWorkspaceBytes));
  MINKE_ASSIGN_OR_RETURN(DeviceBuffer out, DeviceBuffer::alloc(size_t(m * n) * sizeof(float)));
  Table table({"GEMM", "output", "median us", "TFLOP/s", "% of spec peak"});
  nlohmann::json& j = ctx.json["gemm_peaks"];
  j["m"] = m;
  j["n"] = n;
  j["k"] = k;
  const auto add = [&](const char* name, const char* key, const char* out_type, double spec, const Timing* t) {
    const double rate = t != nullptr ? tflops(flops, t->median_us) : kNaN;
    table.add_row({name, out_type, t != nullptr ? fixed(t->median_us, 1) : "n/a", fixed(rate, 1),
                   percent(rate / spec)});
    j[key] = {{"median_us", t != nullptr ? t->median_us : kNaN}, {"tflops", rate}, {"spec_tflops", spec},
              {"output", out_type}};
    return rate;
  };

  {  // BF16 x BF16 -> f32 (the kBF16 plan Gemm::linear uses for m > 16)
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer w, random_buffer(DType::kBF16, n * k, -1.0f, 1.0f, 11, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer x, random_buffer(DType::kBF16, m * k, -1.0f, 1.0f, 12, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(const bool ok, lt->supported(LtKind::kBF16, m, n, k, alignment_of(w.get()),
                                                        alignment_of(x.get()), alignment_of(out.get())));
    Result<Timing> t = internal_error("cuBLASLt has no BF16 algorithm");
    if (ok) t = ctx.time([&] {
      return lt->run(LtKind::kBF16, m, n, k, w.get(), x.get(), out.as<float>(), nullptr, nullptr, ctx.stream);
    });
    if (!t.is_ok()) std::printf("  bf16: %s\n", t.status().to_string().c_str());
    ctx.roof.bf16_tflops = add("BF16", "bf16", "f32", spec_bf16, t.is_ok() ? &*t : nullptr);
  }
  MINKE_ASSIGN_OR_RETURN(DeviceBuffer w8, random_buffer(DType::kF8E4M3, n * k, -448.0f, 448.0f, 13, ctx.stream));
  MINKE_ASSIGN_OR_RETURN(DeviceBuffer x8, random_buffer(DType::kF8E4M3, m * k, -448.0f, 448.0f, 14, ctx.stream));
  {  // e4m3 with one scale per tensor
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer scales, random_buffer(DType::kF32, 2, 1e-3f, 2e-3f, 15, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer ws, DeviceBuffer::alloc(kWorkspaceBytes));
    TensorScaledFp8 gemm;
    MINKE_ASSIGN_OR_RETURN(const bool ok, gemm.init(m, n, k, scales.as<float>(), scales.as<float>() + 1, ws.get()));
    Result<Timing> t = internal_error("cuBLASLt has no per-tensor FP8 algorithm");
    if (ok) t = ctx.time([&] { return gemm.run(w8.get(), x8.get(), out.get(), ctx.stream); });
    if (!t.is_ok()) std::printf("  fp8 per-tensor: %s\n", t.status().to_string().c_str());
    ctx.roof.fp8_tflops = add("FP8 e4m3, per-tensor scales", "fp8_tensor", ok ? gemm.out_name() : "n/a", spec_fp8,
                              t.is_ok() ? &*t : nullptr);
  }
  {  // e4m3 with DeepSeek's block scales (the kFp8Block plan Gemm::linear uses)
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer w_scales, random_buffer(DType::kF32, (n / 128) * kb, 1e-3f, 2e-3f, 16, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer x_scales, random_buffer(DType::kF32, kb * m, 1e-3f, 2e-3f, 17, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(const bool ok, lt->supported(LtKind::kFp8Block, m, n, k, alignment_of(w8.get()),
                                                        alignment_of(x8.get()), alignment_of(out.get())));
    Result<Timing> t = internal_error("cuBLASLt has no VEC128 x BLK128x128 FP8 algorithm on this device");
    if (ok) t = ctx.time([&] {
      return lt->run(LtKind::kFp8Block, m, n, k, w8.get(), x8.get(), out.as<float>(), w_scales.as<float>(),
                     x_scales.as<float>(), ctx.stream);
    });
    if (!t.is_ok()) std::printf("  fp8 block-scaled: %s\n", t.status().to_string().c_str());
    ctx.roof.fp8_block_tflops = add("FP8 e4m3, VEC128 x BLK128x128", "fp8_block", "f32", spec_fp8,
                                    t.is_ok() ? &*t : nullptr);
  }
  std::printf("median of %d after %d warm-up; spec peak = SMs x SM clock x dense FLOP/clock/SM (Hopper: "
              "BF16 4096, FP8 8192)\n%s",
              ctx.iters(), ctx.warmup(), table.render().c_str());
  std::printf("compute roofline for section 3: %s TFLOP/s (FP8 %s)\n\n", fixed(ctx.roof.fp8_peak(), 1).c_str(),
              std::isfinite(ctx.roof.fp8_tflops) ? "per-tensor" : "block-scaled");
  j["fp8_roofline_tflops"] = ctx.roof.fp8_peak();
  return Status::ok();
}

}  // namespace minke::kbench

#endif  // MINKE_HAVE_CUDA
