// grouped_gemm(): host-side checks, then one launch of the skinny kernel (every group has at most
// kSkinnyMaxRows rows: decode) or the tiled one (prefill). The kernels live in
// grouped_gemm_{skinny,tiled}_kernel.cu; both read the offsets on the device only.
#include "backend/cuda/grouped_gemm.h"
#include "backend/cuda/grouped_gemm_kernel.h"

namespace minke::cuda {
namespace detail {

Status check_gemm_kernel_args(const GemmKernelArgs& a, const char* who) {
  if (a.rows < 0 || a.n < 1 || a.k < 1 || a.groups < 1 || a.block_n < 1 || a.block_k < 1 || a.max_group_rows < 0)
    return invalid_argument("cuda::{}: bad shape: rows {}, n {}, k {}, {} groups, blocks {}x{}, max_group_rows {}", who,
                            a.rows, a.n, a.k, a.groups, a.block_n, a.block_k, a.max_group_rows);
  if (a.rows > INT32_MAX || a.groups > INT32_MAX)
    return invalid_argument("cuda::{}: {} rows in {} groups (int32 offsets)", who, a.rows, a.groups);
  if (a.offsets == nullptr && a.groups != 1)
    return invalid_argument("cuda::{}: {} groups without offsets", who, a.groups);
  if ((a.x == nullptr) == (a.x_q == nullptr))
    return invalid_argument("cuda::{}: set exactly one of x (f32) and x_q (e4m3)", who);
  if (a.x_q != nullptr && (a.x_scales == nullptr || a.weight_type != WeightType::kF8E4M3))
    return invalid_argument("cuda::{}: e4m3 activations need their scales and e4m3 weights", who);
  if (a.out == nullptr) return invalid_argument("cuda::{}: null output", who);
  if (a.weights == nullptr && a.weight == nullptr) return invalid_argument("cuda::{}: no weight", who);
  if (a.weight_type == WeightType::kF8E4M3 && (a.weights != nullptr ? a.weight_scales == nullptr : a.weight_scale == nullptr))
    return invalid_argument("cuda::{}: e4m3 weights without block scales", who);
  if (a.weight_type != WeightType::kF32 && a.weight_type != WeightType::kBF16 && a.weight_type != WeightType::kF8E4M3)
    return invalid_argument("cuda::{}: unknown weight type {}", who, int(a.weight_type));
  return Status::ok();
}

GemmKernelArgs kernel_args(const GroupedGemmParams& p) {
  GemmKernelArgs a;
  a.x = p.x;
  a.x_q = p.x_q;
  a.x_scales = p.x_scales;
  a.weights = p.weights;
  a.weight_scales = p.weight_scales;
  a.weight_type = p.weight_type;
  a.block_n = p.block_n;
  a.block_k = p.block_k;
  a.offsets = p.offsets;
  a.out = p.out;
  a.rows = p.rows;
  a.n = p.n;
  a.k = p.k;
  a.groups = p.groups;
  a.max_group_rows = p.max_group_rows;
  return a;
}

}  // namespace detail

Status grouped_gemm(const GroupedGemmParams& p, cudaStream_t stream) {
  if (p.weights == nullptr) return invalid_argument("cuda::grouped_gemm: null weight array");
  if (p.offsets == nullptr) return invalid_argument("cuda::grouped_gemm: null offsets");
  if (p.max_group_rows < 0) return invalid_argument("cuda::grouped_gemm: max_group_rows {}", p.max_group_rows);
  detail::GemmKernelArgs a = detail::kernel_args(p);
  a.max_group_rows = p.max_group_rows > 0 && p.max_group_rows < p.rows ? p.max_group_rows : p.rows;  // 0: unknown
  MINKE_TRY(detail::check_gemm_kernel_args(a, "grouped_gemm"));
  return detail::launch_gemm_kernel(a, detail::pick_gemm_kernel(a.max_group_rows), stream);
}

}  // namespace minke::cuda
