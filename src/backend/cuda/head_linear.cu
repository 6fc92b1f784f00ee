// head_linear: cuBLASLt strided-batched float32 GEMM over the heads (HeadLinear), and a
// tiled SIMT kernel for when cuBLASLt offers no algorithm. Row-major out_h [T, N] =
// x_h [T, K] w_h^T is, column-major, out_h^T (N x T, ld H*N) = op_T(w_h) (K x N, ld K) *
// x_h^T (K x T, ld H*K); head h of each matrix starts h * (N*K | K | N) elements in.
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/head_linear.h"

namespace minke::cuda {
namespace {

constexpr int kTileN = 64, kTileT = 32, kTileK = 32, kThreads = 256;

// A block per (64 outputs, 32 tokens, head); thread (ty, tx) owns tokens ty + 16 i and
// outputs tx + 16 j. Tiles padded by a column so the row-wise reads are conflict-free.
__global__ void __launch_bounds__(kThreads) head_linear_kernel(HeadLinearParams p) {
  __shared__ float ws[kTileN][kTileK + 1];
  __shared__ float xs[kTileT][kTileK + 1];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t n0 = int64_t(blockIdx.x) * kTileN, t0 = int64_t(blockIdx.y) * kTileT;
  const int64_t h = blockIdx.z;
  float acc[2][4] = {};
  for (int64_t k0 = 0; k0 < p.k; k0 += kTileK) {
    for (int idx = threadIdx.x; idx < kTileN * kTileK; idx += kThreads) {
      const int r = idx / kTileK, c = idx % kTileK;
      const int64_t n = n0 + r, k = k0 + c;
      ws[r][c] = n < p.n && k < p.k ? p.w[(h * p.n + n) * p.k + k] : 0.f;
    }
    for (int idx = threadIdx.x; idx < kTileT * kTileK; idx += kThreads) {
      const int r = idx / kTileK, c = idx % kTileK;
      const int64_t t = t0 + r, k = k0 + c;
      xs[r][c] = t < p.tokens && k < p.k ? p.x[(t * p.heads + h) * p.k + k] : 0.f;
    }
    __syncthreads();
#pragma unroll 8
    for (int kk = 0; kk < kTileK; ++kk) {
      const float a0 = xs[ty][kk], a1 = xs[ty + 16][kk];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float b = ws[tx + 16 * j][kk];
        acc[0][j] = fmaf(a0, b, acc[0][j]);
        acc[1][j] = fmaf(a1, b, acc[1][j]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t t = t0 + ty + 16 * i, n = n0 + tx + 16 * j;
      if (t < p.tokens && n < p.n) p.out[(t * p.heads + h) * p.n + n] = acc[i][j];
    }
}

Status check_params(const HeadLinearParams& p) {
  if (p.x == nullptr || p.w == nullptr || p.out == nullptr || p.tokens < 0 || p.heads <= 0 ||
      p.n <= 0 || p.k <= 0)
    return invalid_argument("cuda::head_linear: null pointer or bad shape: x [{}, {}, {}], "
                            "n {}", p.tokens, p.heads, p.k, p.n);
  if (p.heads > 65535 || (p.tokens + kTileT - 1) / kTileT > 65535 || p.n > INT32_MAX)
    return invalid_argument("cuda::head_linear: {} tokens x {} heads x {}", p.tokens, p.heads, p.n);
  return Status::ok();
}

Status lt_status(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::ok();
  return internal_error("cuda::head_linear: {}: {}", what, cublasLtGetStatusString(s));
}
#define MINKE_LT_TRY(call) MINKE_TRY(lt_status((call), #call))

// The largest power of two (<= 256 bytes) dividing the address and every head's offset.
uint32_t alignment(const void* p, int64_t ld, int64_t batch_stride) {
  const uint64_t v = uint64_t(reinterpret_cast<uintptr_t>(p)) | uint64_t(ld * 4) |
                     uint64_t(batch_stride * 4) | 256u;
  return uint32_t(v & (~v + 1));
}

}  // namespace

Status head_linear_simt(const HeadLinearParams& p, cudaStream_t stream) {
  MINKE_TRY(check_params(p));
  if (p.tokens == 0) return Status::ok();
  const dim3 grid(unsigned((p.n + kTileN - 1) / kTileN), unsigned((p.tokens + kTileT - 1) / kTileT),
                  unsigned(p.heads));
  head_linear_kernel<<<grid, kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("head_linear_kernel");
  return Status::ok();
}

struct HeadLinear::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t w = nullptr, x = nullptr, out = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool found = false;  // false: cuBLASLt offers nothing for this shape; use the SIMT kernel
  ~Plan() {
    if (desc != nullptr) cublasLtMatmulDescDestroy(desc);
    for (cublasLtMatrixLayout_t l : {w, x, out})
      if (l != nullptr) cublasLtMatrixLayoutDestroy(l);
  }
};

Result<std::unique_ptr<HeadLinear>> HeadLinear::create() {
  std::unique_ptr<HeadLinear> hl(new HeadLinear());
  MINKE_LT_TRY(cublasLtCreate(&hl->handle_));
  MINKE_CUDA_TRY(cudaMalloc(&hl->workspace_, kWorkspaceBytes));
  return std::move(hl);
}

HeadLinear::~HeadLinear() {
  plans_.clear();
  if (workspace_ != nullptr) cudaFree(workspace_);
  if (handle_ != nullptr) cublasLtDestroy(handle_);
}

Result<const HeadLinear::Plan*> HeadLinear::plan(const Key& key) {
  if (auto it = plans_.find(key); it != plans_.end()) return it->second.get();
  if (plans_.size() >= 256) plans_.clear();  // decode batch sizes vary; keep the map small
  const auto [tokens, heads, n, k, align_x, align_w, align_out] = key;
  auto plan = std::make_unique<Plan>();
  MINKE_LT_TRY(cublasLtMatmulDescCreate(&plan->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t op_t = CUBLAS_OP_T, op_n = CUBLAS_OP_N;
  MINKE_LT_TRY(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_t,
                                              sizeof(op_t)));
  MINKE_LT_TRY(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_n,
                                              sizeof(op_n)));
  const int32_t batch = int32_t(heads);
  auto layout = [&](cublasLtMatrixLayout_t* l, int64_t rows, int64_t cols, int64_t ld,
                    int64_t batch_stride) -> Status {
    MINKE_LT_TRY(cublasLtMatrixLayoutCreate(l, CUDA_R_32F, uint64_t(rows), uint64_t(cols), ld));
    MINKE_LT_TRY(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch,
                                                  sizeof(batch)));
    MINKE_LT_TRY(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                  &batch_stride, sizeof(batch_stride)));
    return Status::ok();
  };
  MINKE_TRY(layout(&plan->w, k, n, k, n * k));                 // w_h: K x N, ld K (op T)
  MINKE_TRY(layout(&plan->x, k, tokens, heads * k, k));        // x_h^T: K x T, ld H*K
  MINKE_TRY(layout(&plan->out, n, tokens, heads * n, n));      // out_h^T: N x T, ld H*N

  cublasLtMatmulPreference_t pref = nullptr;
  MINKE_LT_TRY(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws = kWorkspaceBytes;
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> aligns[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_w},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_x},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_out},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_out}};
  for (const auto& [attr, value] : aligns)
    if (st == CUBLAS_STATUS_SUCCESS)
      st = cublasLtMatmulPreferenceSetAttribute(pref, attr, &value, sizeof(value));
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmulAlgoGetHeuristic(handle_, plan->desc, plan->w, plan->x, plan->out,
                                        plan->out, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  // No algorithm (NOT_SUPPORTED, or none returned) is not an error: the SIMT kernel runs.
  if (st != CUBLAS_STATUS_SUCCESS && st != CUBLAS_STATUS_NOT_SUPPORTED)
    return lt_status(st, "cublasLtMatmulAlgoGetHeuristic");
  plan->found = st == CUBLAS_STATUS_SUCCESS && found > 0 && result.state == CUBLAS_STATUS_SUCCESS;
  if (plan->found) plan->algo = result.algo;
  return plans_.emplace(key, std::move(plan)).first->second.get();
}

Status HeadLinear::run(const HeadLinearParams& p, cudaStream_t stream) {
  MINKE_TRY(check_params(p));
  if (p.tokens == 0) return Status::ok();
  const Key key{p.tokens, p.heads, p.n, p.k, alignment(p.x, p.heads * p.k, p.k),
                alignment(p.w, p.k, p.n * p.k), alignment(p.out, p.heads * p.n, p.n)};
  std::lock_guard<std::mutex> lock(mu_);
  MINKE_ASSIGN_OR_RETURN(const Plan* plan, this->plan(key));
  if (!plan->found) return head_linear_simt(p, stream);
  const float alpha = 1.0f, beta = 0.0f;  // beta = 0: out is not read
  MINKE_LT_TRY(cublasLtMatmul(handle_, plan->desc, &alpha, p.w, plan->w, p.x, plan->x, &beta,
                              p.out, plan->out, p.out, plan->out, &plan->algo, workspace_,
                              kWorkspaceBytes, stream));
  return Status::ok();
}

}  // namespace minke::cuda
