// The paged latent cache on the GPU: write_latent_cache (scatter this step's latents to their
// slots) and gather_latent_cache (one sequence's positions, in order, through its block
// table). A block per row; float4 copies when the rows allow.
#include <cstdint>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/mla_attention.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 128;

__device__ void copy_row(float* dst, const float* src, int64_t dim, bool vec4) {
  if (vec4) {
    for (int64_t i = threadIdx.x; i < dim / 4; i += kThreads)
      reinterpret_cast<float4*>(dst)[i] = reinterpret_cast<const float4*>(src)[i];
  } else {
    for (int64_t i = threadIdx.x; i < dim; i += kThreads) dst[i] = src[i];
  }
}

__global__ void write_latent_cache_kernel(WriteLatentCacheParams p, bool vec4) {
  const int64_t t = blockIdx.x;
  const int64_t slot = p.slot_mapping[t];
  if (slot < 0 || slot >= p.num_slots) return;  // the host validates; never write outside
  copy_row(p.cache + slot * p.dim, p.latent + t * p.dim, p.dim, vec4);
}

__global__ void gather_latent_cache_kernel(GatherLatentCacheParams p, bool vec4) {
  const int64_t j = blockIdx.x;
  const int32_t page = p.block_table[p.seq * p.max_pages + j / p.page_size];
  float* dst = p.out + j * p.dim;
  if (page < 0 || page >= p.num_pages) {  // a corrupt block table: make it loud, not a fault
    for (int64_t i = threadIdx.x; i < p.dim; i += kThreads) dst[i] = __int_as_float(0x7fc00000);
    return;
  }
  copy_row(dst, p.cache + (int64_t(page) * p.page_size + j % p.page_size) * p.dim, p.dim, vec4);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

Status write_latent_cache(const WriteLatentCacheParams& p, cudaStream_t stream) {
  if (p.latent == nullptr || p.slot_mapping == nullptr || p.cache == nullptr || p.tokens < 0 ||
      p.dim <= 0 || p.num_slots <= 0)
    return invalid_argument("cuda::write_latent_cache: null pointer or bad shape: {} tokens x {}, "
                            "{} slots", p.tokens, p.dim, p.num_slots);
  if (p.tokens > INT32_MAX) return invalid_argument("cuda::write_latent_cache: {} tokens", p.tokens);
  if (p.tokens == 0) return Status::ok();
  const bool vec4 = p.dim % 4 == 0 && aligned16(p.latent) && aligned16(p.cache);
  write_latent_cache_kernel<<<unsigned(p.tokens), kThreads, 0, stream>>>(p, vec4);
  MINKE_CUDA_TRY_LAUNCH("write_latent_cache_kernel");
  return Status::ok();
}

Status gather_latent_cache(const GatherLatentCacheParams& p, cudaStream_t stream) {
  if (p.cache == nullptr || p.block_table == nullptr || p.out == nullptr || p.n < 0 ||
      p.dim <= 0 || p.page_size <= 0 || p.max_pages <= 0 || p.num_pages <= 0 || p.seq < 0 ||
      p.seq >= p.num_seqs)
    return invalid_argument("cuda::gather_latent_cache: null pointer or bad shape: seq {} of {}, "
                            "{} x {}, pages {} of {}", p.seq, p.num_seqs, p.n, p.dim,
                            p.max_pages, p.page_size);
  if (p.n > p.max_pages * p.page_size || p.n > INT32_MAX)
    return invalid_argument("cuda::gather_latent_cache: {} positions beyond {} pages of {}", p.n,
                            p.max_pages, p.page_size);
  if (p.n == 0) return Status::ok();
  const bool vec4 = p.dim % 4 == 0 && aligned16(p.out) && aligned16(p.cache);
  gather_latent_cache_kernel<<<unsigned(p.n), kThreads, 0, stream>>>(p, vec4);
  MINKE_CUDA_TRY_LAUNCH("gather_latent_cache_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
