// mla_attention_naive: the tiled kernel (mla_attention_kernel.cuh) with a block per
// (tile of queries, head); one sequence, keys [0, tk) visible up to each query's position.
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/mla_attention.h"
#include "backend/cuda/mla_attention_kernel.cuh"

namespace minke::cuda {
namespace {

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

Status mla_attention_naive(const MlaNaiveParams& p, cudaStream_t stream) {
  if (p.q == nullptr || p.kv == nullptr || (p.rope > 0 && p.k_pe == nullptr) ||
      p.q_positions == nullptr || p.out == nullptr)
    return invalid_argument("cuda::mla_attention_naive: null pointer");
  if (p.tq < 0 || p.tk < 0 || p.heads <= 0 || p.nope <= 0 || p.rope < 0 || p.v <= 0)
    return invalid_argument("cuda::mla_attention_naive: tq {} tk {} heads {} nope {} rope {} v {}",
                            p.tq, p.tk, p.heads, p.nope, p.rope, p.v);
  if (p.tq > INT32_MAX / 2 || p.tk > INT32_MAX / 2 || p.heads > 65535)
    return invalid_argument("cuda::mla_attention_naive: {} queries, {} keys, {} heads", p.tq,
                            p.tk, p.heads);
  if (p.tq == 0) return Status::ok();
  const int ct4 = mla::tile_ct4(p.v);
  if (ct4 == 0 || p.nope + p.rope > 4096)
    return unsupported("cuda::mla_attention_naive: head dims nope {} rope {} v {}", p.nope, p.rope,
                       p.v);
  const int dk = int(p.nope + p.rope), voff = (dk + 3) / 4 * 4;
  const int stride = mla::tile_stride(dk, voff, int(p.v), ct4);
  // Few queries (a short chunk over a long prefix) waste less with 16-row blocks.
  const int rows = p.tq <= 16 ? 16 : 64;
  const size_t smem = size_t(mla::tile_smem_floats(rows, stride)) * sizeof(float);
  int device = 0, smem_max = 0;
  MINKE_CUDA_TRY(cudaGetDevice(&device));
  MINKE_CUDA_TRY(cudaDeviceGetAttribute(&smem_max, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  if (smem + 16 > size_t(smem_max))
    return unsupported("cuda::mla_attention_naive: head dims nope {} rope {} v {} need {} bytes "
                       "of shared memory ({} available)", p.nope, p.rope, p.v, smem, smem_max);

  mla::TileParams t;
  t.qa = p.q;
  t.qa_dim = dk;
  t.kv = p.kv;
  t.k_pe = p.k_pe;
  t.q_positions = p.q_positions;
  t.tq = int(p.tq);
  t.tk = int(p.tk);
  t.nope = int(p.nope);
  t.rope = int(p.rope);
  t.heads = int(p.heads);
  t.dv = int(p.v);
  t.voff = voff;
  t.stride = stride;
  t.vec4 = p.nope % 4 == 0 && p.rope % 4 == 0 && p.v % 4 == 0 && aligned16(p.q) &&
           aligned16(p.kv) && aligned16(p.k_pe) && aligned16(p.out);
  t.scale = p.scale;
  t.out = p.out;
  t.rows_total = p.tq * p.heads;
  t.num_splits = 1;

  const mla::TileKernel kernel = rows == 16 ? mla::tile_kernel_for<16, false>(ct4)
                                            : mla::tile_kernel_for<64, false>(ct4);
  int blocks_per_sm = 0;
  MINKE_CUDA_TRY(mla::prepare_tile_kernel(kernel, rows, smem, &blocks_per_sm));
  const dim3 grid(unsigned((p.tq + rows - 1) / rows), unsigned(p.heads));
  kernel<<<grid, rows / 4 * mla::kTX, smem, stream>>>(t);
  MINKE_CUDA_TRY_LAUNCH("mla_tile_kernel (naive)");
  return Status::ok();
}

}  // namespace minke::cuda
