// The skinny grouped GEMM (few rows per group: decode). A warp owns 4 output columns and a chunk
// of up to 8 rows of one group; its lanes stride along k with 16-byte weight loads (4 f32, 8 bf16
// or 16 e4m3 elements), widen them once and use them for every row of the chunk, then the warp
// reduces. Memory-bound: each weight row is streamed once per 8-row chunk.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/grouped_gemm_kernel_util.cuh"

namespace minke::cuda::detail {
namespace {

constexpr int kWarps = 4;  // per block
constexpr int kThreads = kWarps * 32;
constexpr int kCols = 4;   // output columns per warp
constexpr int kRows = 8;   // rows per chunk; kRows * kCols == 32: one output per lane at the end

static_assert(kRows * kCols == 32, "the final store gives each lane one output");

// acc[r][c] += sum over k of x[row0 + r] . w[col0 + c], this lane's share of k, NV elements at a
// time (one 16-byte load per column), widened S at a time to bound the registers. T: the weight
// type; kQx: x is e4m3 with per-(row, block_k) scales.
template <WeightType T, bool kQx, int NV>
__device__ void skinny_accumulate(const GemmKernelArgs& a, const void* w, const float* ws, int64_t col0,
                                  int64_t row0, int rows, float (&acc)[kRows][kCols]) {
  constexpr int S = NV < 8 ? NV : 8;
  const int lane = threadIdx.x & 31;
  const int64_t kblocks = cdiv(a.k, a.block_k);
  const float* wscale[kCols];  // the column's row of block scales (e4m3)
  bool live[kCols];
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
    live[c] = col0 + c < a.n;
    wscale[c] = T == WeightType::kF8E4M3 && live[c] ? ws + ((col0 + c) / a.block_n) * kblocks : nullptr;
  }
  for (int64_t kk = int64_t(lane) * NV; kk < a.k; kk += 32 * NV) {
    // One scale block for the whole vector: the launcher vectorizes only when block_k % NV == 0.
    const int64_t kb = (T == WeightType::kF8E4M3 || kQx) ? kk / a.block_k : 0;
    uint4 raw[kCols];
    float wsc[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      raw[c] = live[c] ? load_raw<T, NV>(w, (col0 + c) * a.k + kk) : make_uint4(0u, 0u, 0u, 0u);  // 0 widens to 0
      wsc[c] = T == WeightType::kF8E4M3 && live[c] ? __ldg(wscale[c] + kb) : 1.0f;
    }
    float xsc[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) xsc[r] = kQx && r < rows ? __ldg(a.x_scales + (row0 + r) * kblocks + kb) : 1.0f;
#pragma unroll
    for (int part = 0; part < NV / S; ++part) {
      float wf[kCols][S];
#pragma unroll
      for (int c = 0; c < kCols; ++c) {
        widen_part<T, NV, S>(raw[c], part, wf[c]);
        if constexpr (T == WeightType::kF8E4M3) {
#pragma unroll
          for (int j = 0; j < S; ++j) wf[c][j] *= wsc[c];  // the CPU's dequant_row: q * scale
        }
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        if (r < rows) {
          float xf[S];
          const int64_t at = (row0 + r) * a.k + kk + part * S;
          if constexpr (kQx) {
            load_vec<WeightType::kF8E4M3, S>(a.x_q, at, xf);
#pragma unroll
            for (int j = 0; j < S; ++j) xf[j] *= xsc[r];  // the CPU's fake quant: e4m3(x / s) * s
          } else {
            load_vec<WeightType::kF32, S>(a.x, at, xf);
          }
#pragma unroll
          for (int c = 0; c < kCols; ++c)
#pragma unroll
            for (int j = 0; j < S; ++j) acc[r][c] = fmaf(xf[j], wf[c][j], acc[r][c]);
        }
      }
    }
  }
}

// grid: (ceil(n / (kWarps * kCols)), min(row tiles, 65535)); NV: the vector width when the
// launcher found x and k aligned for it, else 1.
template <WeightType T, bool kQx, int NV>
__global__ void __launch_bounds__(kThreads, 4) skinny_kernel(GemmKernelArgs a, int64_t tiles) {
  const int lane = threadIdx.x & 31;
  const int64_t col0 = (int64_t(blockIdx.x) * kWarps + threadIdx.x / 32) * kCols;
  for (int64_t t = blockIdx.y; t < tiles; t += gridDim.y) {
    RowTile tile;
    if (!find_row_tile(a, t, kRows, tile)) return;  // tiles are numbered in order: none after t
    const void* w = group_weight(a, tile.group);
    const int rows = tile.row1 - tile.row0;
    float acc[kRows][kCols];
#pragma unroll
    for (int r = 0; r < kRows; ++r)
#pragma unroll
      for (int c = 0; c < kCols; ++c) acc[r][c] = 0.0f;
    if (w != nullptr && col0 < a.n) {
      const float* ws = group_scales(a, tile.group);
      if constexpr (NV > 1) {
        if (reinterpret_cast<uintptr_t>(w) % 16 == 0)
          skinny_accumulate<T, kQx, NV>(a, w, ws, col0, tile.row0, rows, acc);
        else
          skinny_accumulate<T, kQx, 1>(a, w, ws, col0, tile.row0, rows, acc);
      } else {
        skinny_accumulate<T, kQx, 1>(a, w, ws, col0, tile.row0, rows, acc);
      }
    }
    float mine = 0.0f;  // lane r * kCols + c stores output (r, c)
#pragma unroll
    for (int r = 0; r < kRows; ++r)
#pragma unroll
      for (int c = 0; c < kCols; ++c) {
        float v = acc[r][c];
#pragma unroll
        for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(kFullMask, v, off);
        if (lane == r * kCols + c) mine = v;
      }
    const int r = lane / kCols, c = lane % kCols;
    if (r < rows && col0 + c < a.n) a.out[(int64_t(tile.row0) + r) * a.n + col0 + c] = mine;
  }
}

template <WeightType T, bool kQx>
Status launch(const GemmKernelArgs& a, cudaStream_t stream) {
  constexpr int kVec = int(16 / (T == WeightType::kF32 ? 4 : T == WeightType::kBF16 ? 2 : 1));
  const int64_t tiles = row_tile_bound(a, kRows);
  const dim3 grid(unsigned(cdiv(a.n, kWarps * kCols)), unsigned(tiles < 65535 ? tiles : 65535));
  if (can_vectorize(a, kVec))
    skinny_kernel<T, kQx, kVec><<<grid, kThreads, 0, stream>>>(a, tiles);
  else
    skinny_kernel<T, kQx, 1><<<grid, kThreads, 0, stream>>>(a, tiles);
  MINKE_CUDA_TRY_LAUNCH("skinny_kernel");
  return Status::ok();
}

}  // namespace

Status launch_skinny_gemm(const GemmKernelArgs& a, cudaStream_t stream) {
  MINKE_TRY(check_gemm_kernel_args(a, "skinny gemm"));
  if (a.rows == 0) return Status::ok();
  return for_weight_type(a, [&](auto type, auto quantized_x) {
    return launch<decltype(type)::value, decltype(quantized_x)::value>(a, stream);
  });
}

}  // namespace minke::cuda::detail
