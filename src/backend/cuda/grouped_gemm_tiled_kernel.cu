// The tiled grouped GEMM (many rows per group: prefill). A block of 256 threads computes a 64x64
// output tile (64 rows of one group x 64 columns), stepping through k 32 at a time: each thread
// loads 8 consecutive k of one x row and of one weight row (16-byte loads for bf16, two for f32,
// 8 bytes for e4m3), widens and scales them, and stores them transposed to shared memory
// (consecutive threads -> consecutive banks); then each thread accumulates a 4x4 sub-tile from
// float4 reads (broadcast across the warp's two row groups, no bank conflicts).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/grouped_gemm_kernel_util.cuh"

namespace minke::cuda::detail {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 32;  // tile rows, columns, k step
constexpr int kThreads = 256;
constexpr int kChunk = 8;                    // k elements one thread loads per step
constexpr int kTM = 4, kTN = 4;              // outputs per thread
static_assert(kBM == kBN && kBM * (kBK / kChunk) == kThreads, "one x chunk and one w chunk per thread");
static_assert((kBM / kTM) * (kBN / kTN) == kThreads, "the 4x4 sub-tiles cover the tile");

// Elements [kk, kk + kChunk) of one row (element offset `row`) of a matrix of type T, times the
// row's block scales (`scales`: that row's scale row, or null), zero past k. kVec: k and block_k
// are multiples of kChunk and the pointer is aligned, so the chunk is whole, one load, one scale.
template <WeightType T, bool kVec>
__device__ void load_chunk(const void* p, int64_t row, int64_t kk, int64_t k, const float* scales,
                           int64_t block_k, float (&f)[kChunk]) {
  if constexpr (kVec) {
    if (kk < k) {
      load_vec<T, kChunk>(p, row + kk, f);
      if (scales != nullptr) {
        const float s = __ldg(scales + kk / block_k);
#pragma unroll
        for (int j = 0; j < kChunk; ++j) f[j] *= s;
      }
    } else {
#pragma unroll
      for (int j = 0; j < kChunk; ++j) f[j] = 0.0f;
    }
  } else {
#pragma unroll
    for (int j = 0; j < kChunk; ++j) {
      const int64_t c = kk + j;
      f[j] = c < k ? load1<T>(p, row + c) * (scales != nullptr ? __ldg(scales + c / block_k) : 1.0f) : 0.0f;
    }
  }
}

// One 64x64 output tile: rows [tile.row0, tile.row1) x columns [col0, col0 + kBN).
template <WeightType T, bool kQx, bool kVec>
__device__ void tiled_tile(const GemmKernelArgs& a, const void* w, const float* ws, const RowTile& tile,
                           int64_t col0, float (&As)[kBK][kBM], float (&Bs)[kBK][kBN]) {
  const int t = threadIdx.x;
  const int lr = t % kBM;             // the x row / weight row this thread loads
  const int lk = (t / kBM) * kChunk;  // and where in the k step
  const int tx = t % (kBN / kTN), ty = t / (kBN / kTN);
  const int64_t kblocks = cdiv(a.k, a.block_k);

  const int64_t xr = int64_t(tile.row0) + lr;
  const bool x_live = xr < tile.row1;
  const float* x_scales = kQx && x_live ? a.x_scales + xr * kblocks : nullptr;
  const int64_t wc = col0 + lr;
  const bool w_live = wc < a.n;
  const float* w_scales = T == WeightType::kF8E4M3 && w_live ? ws + (wc / a.block_n) * kblocks : nullptr;

  float acc[kTM][kTN];
#pragma unroll
  for (int i = 0; i < kTM; ++i)
#pragma unroll
    for (int j = 0; j < kTN; ++j) acc[i][j] = 0.0f;

  for (int64_t k0 = 0; k0 < a.k; k0 += kBK) {
    float xf[kChunk], wf[kChunk];
    // Rows past the tile / columns past n load as zeros (their k is pushed past the end).
    const int64_t kk = k0 + lk;
    if constexpr (kQx)
      load_chunk<WeightType::kF8E4M3, kVec>(a.x_q, xr * a.k, x_live ? kk : a.k, a.k, x_scales, a.block_k, xf);
    else
      load_chunk<WeightType::kF32, kVec>(a.x, xr * a.k, x_live ? kk : a.k, a.k, nullptr, a.block_k, xf);
    load_chunk<T, kVec>(w, wc * a.k, w_live ? kk : a.k, a.k, w_scales, a.block_k, wf);
    __syncthreads();  // everyone is done reading the previous step
#pragma unroll
    for (int j = 0; j < kChunk; ++j) {
      As[lk + j][lr] = xf[j];
      Bs[lk + j][lr] = wf[j];
    }
    __syncthreads();
#pragma unroll 8
    for (int q = 0; q < kBK; ++q) {
      const float4 av = *reinterpret_cast<const float4*>(&As[q][ty * kTM]);
      const float4 bv = *reinterpret_cast<const float4*>(&Bs[q][tx * kTN]);
      const float ar[kTM] = {av.x, av.y, av.z, av.w}, br[kTN] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] = fmaf(ar[i], br[j], acc[i][j]);
    }
  }

  const bool vec_out = a.n % 4 == 0 && reinterpret_cast<uintptr_t>(a.out) % 16 == 0;
  const int64_t c = col0 + tx * kTN;
#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int64_t r = int64_t(tile.row0) + ty * kTM + i;
    if (r >= tile.row1) continue;
    float* o = a.out + r * a.n + c;
    if (vec_out && c + kTN <= a.n) {
      *reinterpret_cast<float4*>(o) = make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
    } else {
#pragma unroll
      for (int j = 0; j < kTN; ++j)
        if (c + j < a.n) o[j] = acc[i][j];
    }
  }
}

// grid: (ceil(n / kBN), min(row tiles, 65535)).
template <WeightType T, bool kQx, bool kVec>
__global__ void __launch_bounds__(kThreads) tiled_kernel(GemmKernelArgs a, int64_t tiles) {
  __shared__ __align__(16) float As[kBK][kBM];  // [k][row]
  __shared__ __align__(16) float Bs[kBK][kBN];  // [k][column]
  const int64_t col0 = int64_t(blockIdx.x) * kBN;
  for (int64_t t = blockIdx.y; t < tiles; t += gridDim.y) {
    RowTile tile;
    if (!find_row_tile(a, t, kBM, tile)) return;  // uniform across the block
    const void* w = group_weight(a, tile.group);
    if (w == nullptr) {  // a group this rank does not hold: zeros
      for (int i = threadIdx.x; i < kBM * kBN; i += kThreads) {
        const int64_t r = int64_t(tile.row0) + i / kBN, c = col0 + i % kBN;
        if (r < tile.row1 && c < a.n) a.out[r * a.n + c] = 0.0f;
      }
      continue;
    }
    const float* ws = group_scales(a, tile.group);
    if constexpr (kVec) {
      if (reinterpret_cast<uintptr_t>(w) % 16 == 0)
        tiled_tile<T, kQx, true>(a, w, ws, tile, col0, As, Bs);
      else
        tiled_tile<T, kQx, false>(a, w, ws, tile, col0, As, Bs);
    } else {
      tiled_tile<T, kQx, false>(a, w, ws, tile, col0, As, Bs);
    }
  }
}

template <WeightType T, bool kQx>
Status launch(const GemmKernelArgs& a, cudaStream_t stream) {
  const int64_t tiles = row_tile_bound(a, kBM);
  const dim3 grid(unsigned(cdiv(a.n, kBN)), unsigned(tiles < 65535 ? tiles : 65535));
  if (can_vectorize(a, kChunk))
    tiled_kernel<T, kQx, true><<<grid, kThreads, 0, stream>>>(a, tiles);
  else
    tiled_kernel<T, kQx, false><<<grid, kThreads, 0, stream>>>(a, tiles);
  MINKE_CUDA_TRY_LAUNCH("tiled_kernel");
  return Status::ok();
}

}  // namespace

Status launch_tiled_gemm(const GemmKernelArgs& a, cudaStream_t stream) {
  MINKE_TRY(check_gemm_kernel_args(a, "tiled gemm"));
  if (a.rows == 0) return Status::ok();
  return for_weight_type(a, [&](auto type, auto quantized_x) {
    return launch<decltype(type)::value, decltype(quantized_x)::value>(a, stream);
  });
}

}  // namespace minke::cuda::detail
