// LtPlans: cuBLASLt descriptors and algorithms per problem, cached (see gemm_cublaslt.h).
#include "backend/cuda/gemm_cublaslt.h"

#include "backend/cuda/cuda_check.h"

namespace minke::cuda::detail {
namespace {

Status lt_status(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::ok();
  return internal_error("{}: {} ({})", what, cublasLtGetStatusString(s), cublasLtGetStatusName(s));
}

#define MINKE_LT_TRY(call) MINKE_TRY(lt_status((call), #call))

template <class T>
Status set_desc(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const T& value, const char* what) {
  return lt_status(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof(value)), what);
}

}  // namespace

uint32_t alignment_of(const void* p) {
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 256;
  while (a > 1 && v % a != 0) a /= 2;
  return a;
}

void LtPlans::Plan::destroy() {
  if (d != nullptr) cublasLtMatrixLayoutDestroy(d);
  if (b != nullptr) cublasLtMatrixLayoutDestroy(b);
  if (a != nullptr) cublasLtMatrixLayoutDestroy(a);
  if (desc != nullptr) cublasLtMatmulDescDestroy(desc);
  d = b = a = nullptr;
  desc = nullptr;
  ok = false;
}

Result<std::unique_ptr<LtPlans>> LtPlans::create(size_t workspace_bytes) {
  std::unique_ptr<LtPlans> plans(new LtPlans());
  MINKE_LT_TRY(cublasLtCreate(&plans->handle_));
  MINKE_CUDA_TRY(cudaMalloc(&plans->workspace_, workspace_bytes));
  plans->workspace_bytes_ = workspace_bytes;
  return plans;
}

LtPlans::~LtPlans() {
  for (auto& [key, plan] : plans_) plan.destroy();
  if (workspace_ != nullptr) cudaFree(workspace_);
  if (handle_ != nullptr) cublasLtDestroy(handle_);
}

Status LtPlans::build(const Key& key, Plan& plan) {
  const bool fp8 = key.kind == LtKind::kFp8Block || key.kind == LtKind::kFp8BlockBf16Out;
  const cudaDataType_t ab = key.kind == LtKind::kF32 ? CUDA_R_32F : key.kind == LtKind::kBF16 ? CUDA_R_16BF : CUDA_R_8F_E4M3;
  MINKE_LT_TRY(cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  MINKE_TRY(set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T, "TRANSA"));
  MINKE_TRY(set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N, "TRANSB"));
  if (fp8) {
    // Weight (A): one scale per 128x128 block; activations (B): one per row and 128 columns.
    // The pointers are set per call; the workspace stands in for them while the heuristic runs.
    MINKE_TRY(set_desc(plan.desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, int32_t(CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F), "A_SCALE_MODE"));
    MINKE_TRY(set_desc(plan.desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, int32_t(CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F), "B_SCALE_MODE"));
    const void* placeholder = workspace_;
    MINKE_TRY(set_desc(plan.desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, placeholder, "A_SCALE_POINTER"));
    MINKE_TRY(set_desc(plan.desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, placeholder, "B_SCALE_POINTER"));
  }
  MINKE_LT_TRY(cublasLtMatrixLayoutCreate(&plan.a, ab, uint64_t(key.k), uint64_t(key.n), key.k));
  MINKE_LT_TRY(cublasLtMatrixLayoutCreate(&plan.b, ab, uint64_t(key.k), uint64_t(key.m), key.k));
  const cudaDataType_t dt = key.kind == LtKind::kFp8BlockBf16Out ? CUDA_R_16BF : CUDA_R_32F;
  MINKE_LT_TRY(cublasLtMatrixLayoutCreate(&plan.d, dt, uint64_t(key.n), uint64_t(key.m), key.n));

  cublasLtMatmulPreference_t pref = nullptr;
  MINKE_LT_TRY(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws = workspace_bytes_;
  cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
  const uint32_t aligns[4] = {key.align_a, key.align_b, key.align_d, key.align_d};  // C is D
  const cublasLtMatmulPreferenceAttributes_t align_attrs[4] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  for (int i = 0; i < 4 && s == CUBLAS_STATUS_SUCCESS; ++i)
    s = cublasLtMatmulPreferenceSetAttribute(pref, align_attrs[i], &aligns[i], sizeof(aligns[i]));
  cublasLtMatmulHeuristicResult_t result{};
  int returned = 0;
  if (s == CUBLAS_STATUS_SUCCESS) {
    // A refusal (NOT_SUPPORTED, or INVALID_VALUE for a scale mode this build or GPU lacks) is an
    // answer, not an error: the caller falls back to its own kernel.
    const cublasStatus_t h = cublasLtMatmulAlgoGetHeuristic(handle_, plan.desc, plan.a, plan.b, plan.d, plan.d, pref,
                                                            1, &result, &returned);
    plan.ok = h == CUBLAS_STATUS_SUCCESS && returned > 0 && result.state == CUBLAS_STATUS_SUCCESS;
    if (plan.ok) plan.algo = result.algo;
  }
  cublasLtMatmulPreferenceDestroy(pref);
  return lt_status(s, "cublasLtMatmulPreferenceSetAttribute");
}

Result<LtPlans::Plan*> LtPlans::get(const Key& key) {
  auto it = plans_.find(key);
  if (it != plans_.end()) return &it->second;
  Plan plan;
  const Status s = build(key, plan);
  if (!s.is_ok()) {
    plan.destroy();
    return s;
  }
  return &plans_.emplace(key, plan).first->second;
}

Result<bool> LtPlans::supported(LtKind kind, int64_t m, int64_t n, int64_t k, uint32_t align_a, uint32_t align_b,
                                uint32_t align_d) {
  MINKE_ASSIGN_OR_RETURN(Plan * plan, get({kind, m, n, k, align_a, align_b, align_d}));
  return plan->ok;
}

void LtPlans::disable(LtKind kind, int64_t m, int64_t n, int64_t k, uint32_t align_a, uint32_t align_b,
                      uint32_t align_d) {
  auto it = plans_.find({kind, m, n, k, align_a, align_b, align_d});
  if (it != plans_.end()) it->second.ok = false;
}

Status LtPlans::run(LtKind kind, int64_t m, int64_t n, int64_t k, const void* a, const void* b, void* d,
                    const float* a_scale, const float* b_scale, cudaStream_t stream) {
  MINKE_ASSIGN_OR_RETURN(Plan * plan, get({kind, m, n, k, alignment_of(a), alignment_of(b), alignment_of(d)}));
  if (!plan->ok) return internal_error("cuBLASLt has no algorithm for this {}x{}x{} problem", m, n, k);
  if (kind == LtKind::kFp8Block || kind == LtKind::kFp8BlockBf16Out) {
    if (a_scale == nullptr || b_scale == nullptr) return invalid_argument("cuBLASLt fp8: null block scales");
    MINKE_TRY(set_desc(plan->desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, static_cast<const void*>(a_scale), "A_SCALE_POINTER"));
    MINKE_TRY(set_desc(plan->desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, static_cast<const void*>(b_scale), "B_SCALE_POINTER"));
  }
  const float alpha = 1.0f, beta = 0.0f;
  MINKE_LT_TRY(cublasLtMatmul(handle_, plan->desc, &alpha, a, plan->a, b, plan->b, &beta, d, plan->d, d, plan->d,
                              &plan->algo, workspace_, workspace_bytes_, stream));
  return Status::ok();
}

}  // namespace minke::cuda::detail
