// The tiled MLA attention kernel shared by the naive (prefill) and absorbed (decode)
// launchers. Internal to mla_prefill.cu / mla_decode.cu.
//
// A block owns ROWS query rows that see the same keys (prefill: 64 or 16 queries of one head;
// decode: up to 64 heads of one token) and walks their keys in tiles of kBK. Per tile:
//   S[ROWS x kBK] = Q K^T, the contraction streamed through shared memory in chunks of kDC
//   columns of Q (Q is too big to keep whole: 64 heads x 576 floats); online softmax in
//   float32 (flash-attention: running max m and sum l per row, rescaling the accumulator);
//   O[ROWS x Dv] += P V with V read from the same shared tile as K.
// A shared key row is [k (Dk cols) | gap | v (Dv cols at voff)]; in decode v aliases the
// first L columns of k (voff = 0). Key tiles and Q chunks arrive by cp.async, double
// buffered, so the next tile loads while this one's P V runs.
// Threads: (ROWS/4) x 16; thread (ty, tx) holds rows ty*4..ty*4+3, score keys tx and tx+16,
// output columns c4*64 + tx*4 + e. Shared rows are padded so the float4 reads are
// conflict-free (row stride / 4 odd).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace minke::cuda::mla {

constexpr int kBK = 32;             // keys per tile
constexpr int kDC = 64;             // Q columns per chunk of the score contraction
constexpr int kTX = 16;             // threads along keys and output columns
constexpr int kKJ = kBK / kTX;      // score keys per thread
constexpr int kQS = kDC + 4;        // Q chunk row stride (floats)

struct TileParams {
  // Query rows: block row r is global row row0 + r * row_step of [qa | qb].
  const float* qa = nullptr;  // [rows_total, qa_dim]
  const float* qb = nullptr;  // [rows_total, qb_dim] (qb_dim may be 0)
  int qa_dim = 0, qb_dim = 0;  // Dk = qa_dim + qb_dim
  // Decode keys: cache rows [num_pages * page_size, qa_dim + qb_dim].
  const float* cache = nullptr;
  const int32_t* block_table = nullptr;  // [num_seqs, max_pages]
  const int32_t* positions = nullptr;    // [tokens]
  const int32_t* seq_starts = nullptr;   // [num_seqs + 1]
  int num_seqs = 0, max_pages = 0, page_size = 0, num_pages = 0, groups = 1;
  // Prefill keys: kv [tk, heads, nope + dv], k_pe [tk, rope] (nope + rope = Dk).
  const float* kv = nullptr;
  const float* k_pe = nullptr;
  const int32_t* q_positions = nullptr;  // [tq]
  int tq = 0, tk = 0, nope = 0, rope = 0;
  int heads = 0;
  int dv = 0;      // output columns
  int voff = 0;    // first v column in a shared key row
  int stride = 0;  // shared key row stride (floats)
  bool vec4 = false;  // every copied segment is a 16-byte multiple at a 16-byte address
  float scale = 1.0f;
  // Output: with one split out [rows_total, dv]; else unnormalized partials.
  float* out = nullptr;
  float* part_o = nullptr;   // [num_splits, rows_total, dv]
  float* part_ml = nullptr;  // [num_splits, rows_total, 2] running max, sum
  int64_t rows_total = 0;
  int num_splits = 1;
  int keys_per_split = 0;
};

__device__ __forceinline__ void cp_async16(float* smem, const float* gmem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cp_async4(float* smem, const float* gmem) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() {
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");
}

// n floats from src to dst by the 32 lanes of a warp.
__device__ __forceinline__ void copy_row(float* dst, const float* src, int n, int lane, bool vec4) {
  if (vec4) {
    for (int u = lane * 4; u < n; u += 128) cp_async16(dst + u, src + u);
  } else {
    for (int u = lane; u < n; u += 32) cp_async4(dst + u, src + u);
  }
}
__device__ __forceinline__ void zero_row(float* dst, int stride, int lane) {
  for (int u = lane * 4; u < stride; u += 128)
    *reinterpret_cast<float4*>(dst + u) = make_float4(0.f, 0.f, 0.f, 0.f);
}

__device__ __forceinline__ float group16_max(float v) {
  for (int o = kTX / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float group16_sum(float v) {
  for (int o = kTX / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Shared memory (floats) of one block: two key tiles, two Q chunks, the probability tile.
__host__ __device__ constexpr int64_t tile_smem_floats(int rows, int stride) {
  return 2 * int64_t(kBK) * stride + 2 * int64_t(rows) * kQS + int64_t(kBK) * (rows + 4);
}

template <int ROWS, int CT4, bool DECODE>
__global__ void __launch_bounds__(ROWS / 4 * kTX) mla_tile_kernel(const TileParams p) {
  constexpr int NT = ROWS / 4 * kTX, PS = ROWS + 4;
  extern __shared__ float4 smem_f4[];
  float* kvs = reinterpret_cast<float*>(smem_f4);  // [2][kBK][stride]
  float* qcs = kvs + 2 * kBK * p.stride;           // [2][ROWS][kQS]
  float* pts = qcs + 2 * ROWS * kQS;               // [kBK][PS] probabilities, key-major

  const int tid = threadIdx.x, tx = tid % kTX, ty = tid / kTX;
  const int lane = tid % 32, warp = tid / 32;
  const int dk = p.qa_dim + p.qb_dim, W = dk;  // decode: a cache row is [c | pe], Dk wide

  // This block's rows, the last visible key of each of this thread's rows, and its keys.
  int64_t row0;
  int row_step, rows_valid, kbeg = 0, kend;
  int lim[4];
  int seq = -1, head = 0, split = 0;
  if constexpr (DECODE) {
    const int t = blockIdx.x / p.groups, g = blockIdx.x % p.groups;
    split = blockIdx.y;
    row0 = int64_t(t) * p.heads + int64_t(g) * ROWS;
    row_step = 1;
    rows_valid = min(ROWS, p.heads - g * ROWS);
    for (int lo = 0, hi = p.num_seqs - 1; lo <= hi;) {  // last s with seq_starts[s] <= t
      const int mid = (lo + hi) / 2;
      if (p.seq_starts[mid] <= t) seq = mid, lo = mid + 1; else hi = mid - 1;
    }
    if (seq >= 0 && t >= p.seq_starts[seq + 1]) seq = -1;
    const int last = seq < 0 ? -1 : min(p.positions[t], p.max_pages * p.page_size - 1);
#pragma unroll
    for (int i = 0; i < 4; ++i) lim[i] = last;
    kbeg = split * p.keys_per_split;
    kend = split == p.num_splits - 1 ? last + 1 : min(last + 1, kbeg + p.keys_per_split);
  } else {
    const int qt = gridDim.x - 1 - blockIdx.x;  // the longest (latest) query tiles first
    head = blockIdx.y;
    row0 = int64_t(qt) * ROWS * p.heads + head;
    row_step = p.heads;
    rows_valid = min(ROWS, p.tq - qt * ROWS);
    int mx = -1;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = ty * 4 + i;
      lim[i] = r < rows_valid ? max(-1, min(p.q_positions[qt * ROWS + r], p.tk - 1)) : -1;
      mx = max(mx, lim[i]);
    }
    __shared__ int s_kend;
    if (tid == 0) s_kend = 0;
    __syncthreads();
    atomicMax(&s_kend, mx + 1);
    __syncthreads();
    kend = s_kend;
  }
  const int n_tiles = kend > kbeg ? (kend - kbeg + kBK - 1) / kBK : 0;
  const int nc = (dk + kDC - 1) / kDC;

  // Q chunk `chunk` (columns [chunk * kDC, +kDC) of [qa | qb]) into dst [ROWS][kQS].
  auto load_q = [&](int chunk, float* dst) {
    const int c0 = chunk * kDC;
    const int unit = p.vec4 ? 4 : 1, per_row = kDC / unit;
    for (int idx = tid; idx < ROWS * per_row; idx += NT) {
      const int r = idx / per_row, col = c0 + (idx % per_row) * unit;
      float* d = dst + r * kQS + (col - c0);
      if (r < rows_valid && col < dk) {
        const int64_t grow = row0 + int64_t(r) * row_step;
        const float* src = col < p.qa_dim ? p.qa + grow * p.qa_dim + col
                                          : p.qb + grow * p.qb_dim + (col - p.qa_dim);
        if (p.vec4) cp_async16(d, src); else cp_async4(d, src);
      } else if (p.vec4) {
        *reinterpret_cast<float4*>(d) = make_float4(0.f, 0.f, 0.f, 0.f);
      } else {
        *d = 0.f;
      }
    }
  };
  // Keys [k0, k0 + kBK) into dst [kBK][stride], a warp per row; keys >= kend are zero rows
  // (their probabilities are 0, and 0 * garbage could be NaN).
  auto load_kv = [&](int k0, float* dst) {
    for (int r = warp; r < kBK; r += NT / 32) {
      const int j = k0 + r;
      float* d = dst + r * p.stride;
      if (j >= kend) {
        zero_row(d, p.stride, lane);
        continue;
      }
      if constexpr (DECODE) {
        const int page = p.block_table[int64_t(seq) * p.max_pages + j / p.page_size];
        if (page < 0 || page >= p.num_pages) {
          zero_row(d, p.stride, lane);
          continue;
        }
        copy_row(d, p.cache + (int64_t(page) * p.page_size + j % p.page_size) * W, W, lane, p.vec4);
      } else {
        const float* kvrow = p.kv + (int64_t(j) * p.heads + head) * (p.nope + p.dv);
        copy_row(d, kvrow, p.nope, lane, p.vec4);
        copy_row(d + p.nope, p.k_pe + int64_t(j) * p.rope, p.rope, lane, p.vec4);
        copy_row(d + p.voff, kvrow + p.nope, p.dv, lane, p.vec4);
      }
    }
  };

  float acc[4][CT4 * 4];
  float m[4], l[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    m[i] = -INFINITY;
    l[i] = 0.f;
#pragma unroll
    for (int c = 0; c < CT4 * 4; ++c) acc[i][c] = 0.f;
  }

  if (n_tiles > 0) {
    // Columns no load writes (between k and v, after the row) stay zero: the score chunks
    // and the P V columns read them.
    const int loaded_end = max(dk, p.voff + p.dv);
    const int gap1 = max(0, p.voff - dk), gw = gap1 + (p.stride - loaded_end);
    for (int idx = tid; idx < 2 * kBK * gw; idx += NT) {
      const int r = idx / gw, c = idx % gw;
      kvs[r * p.stride + (c < gap1 ? dk + c : loaded_end + c - gap1)] = 0.f;
    }
    load_kv(kbeg, kvs);
    load_q(0, qcs);
    cp_async_commit();
  }

  for (int it = 0; it < n_tiles; ++it) {
    const int k0 = kbeg + it * kBK;
    const float* kvb = kvs + (it & 1) * kBK * p.stride;

    // S = Q K^T over the chunks of the contraction.
    float s[4][kKJ];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < kKJ; ++j) s[i][j] = 0.f;
    for (int c = 0; c < nc; ++c) {
      cp_async_wait_all();  // this thread's copies of Q chunk c (and at c = 0, of the tile)
      __syncthreads();      // everyone's; and everyone is done with Q chunk c - 1
      if (c + 1 < nc) {
        load_q(c + 1, qcs + ((c + 1) & 1) * ROWS * kQS);
        cp_async_commit();
      }
      const float* qb = qcs + (c & 1) * ROWS * kQS + ty * 4 * kQS;
      const float* kb = kvb + tx * p.stride + c * kDC;
#pragma unroll
      for (int d = 0; d < kDC; d += 4) {
        float4 qv[4], kv4[kKJ];
#pragma unroll
        for (int i = 0; i < 4; ++i) qv[i] = *reinterpret_cast<const float4*>(qb + i * kQS + d);
#pragma unroll
        for (int j = 0; j < kKJ; ++j)
          kv4[j] = *reinterpret_cast<const float4*>(kb + j * kTX * p.stride + d);
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < kKJ; ++j) {
            s[i][j] = fmaf(qv[i].x, kv4[j].x, s[i][j]);
            s[i][j] = fmaf(qv[i].y, kv4[j].y, s[i][j]);
            s[i][j] = fmaf(qv[i].z, kv4[j].z, s[i][j]);
            s[i][j] = fmaf(qv[i].w, kv4[j].w, s[i][j]);
          }
      }
    }

    // Online softmax: masked scores are -inf; a row's max is shared by its 16 lanes.
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      float tile_max = -INFINITY;
#pragma unroll
      for (int j = 0; j < kKJ; ++j) {
        const int key = k0 + tx + j * kTX;
        s[i][j] = key < kend && key <= lim[i] ? s[i][j] * p.scale : -INFINITY;
        tile_max = fmaxf(tile_max, s[i][j]);
      }
      const float m_new = fmaxf(m[i], group16_max(tile_max));
      float alpha = 1.f, sum = 0.f;
      if (m_new == -INFINITY) {  // nothing visible yet: keep acc = 0, l = 0
#pragma unroll
        for (int j = 0; j < kKJ; ++j) s[i][j] = 0.f;
      } else {
        alpha = expf(m[i] - m_new);  // 0 when m[i] = -inf
#pragma unroll
        for (int j = 0; j < kKJ; ++j) sum += (s[i][j] = expf(s[i][j] - m_new));
      }
      m[i] = m_new;
      l[i] = l[i] * alpha + sum;  // this thread's keys only; summed over the row at the end
#pragma unroll
      for (int c = 0; c < CT4 * 4; ++c) acc[i][c] *= alpha;
    }
#pragma unroll
    for (int j = 0; j < kKJ; ++j)
      *reinterpret_cast<float4*>(pts + (tx + j * kTX) * PS + ty * 4) =
          make_float4(s[0][j], s[1][j], s[2][j], s[3][j]);
    __syncthreads();  // P visible; every Q chunk and the other key buffer are free

    if (it + 1 < n_tiles) {
      load_kv(k0 + kBK, kvs + ((it + 1) & 1) * kBK * p.stride);
      load_q(0, qcs);
      cp_async_commit();
    }

    // O += P V over this tile's valid keys.
    const int kn = min(kBK, kend - k0);
    const float* vb = kvb + p.voff + tx * 4;
    for (int k = 0; k < kn; ++k) {
      const float4 pv = *reinterpret_cast<const float4*>(pts + k * PS + ty * 4);
      const float pr[4] = {pv.x, pv.y, pv.z, pv.w};
#pragma unroll
      for (int c4 = 0; c4 < CT4; ++c4) {
        const float4 v = *reinterpret_cast<const float4*>(vb + k * p.stride + c4 * 64);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          acc[i][c4 * 4 + 0] = fmaf(pr[i], v.x, acc[i][c4 * 4 + 0]);
          acc[i][c4 * 4 + 1] = fmaf(pr[i], v.y, acc[i][c4 * 4 + 1]);
          acc[i][c4 * 4 + 2] = fmaf(pr[i], v.z, acc[i][c4 * 4 + 2]);
          acc[i][c4 * 4 + 3] = fmaf(pr[i], v.w, acc[i][c4 * 4 + 3]);
        }
      }
    }
  }

  // Normalized rows, or this split's unnormalized partials with their max and sum.
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float l_row = group16_sum(l[i]);
    const int r = ty * 4 + i;
    if (r >= rows_valid) continue;
    const int64_t grow = row0 + int64_t(r) * row_step;
    float* dst;
    float mul = 1.f;
    if (p.num_splits == 1) {
      dst = p.out + grow * p.dv;
      mul = l_row > 0.f ? 1.f / l_row : 0.f;
    } else {
      const int64_t prow = int64_t(split) * p.rows_total + grow;
      dst = p.part_o + prow * p.dv;
      if (tx == 0) {
        p.part_ml[prow * 2] = m[i];
        p.part_ml[prow * 2 + 1] = l_row;
      }
    }
#pragma unroll
    for (int c4 = 0; c4 < CT4; ++c4)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = c4 * 64 + tx * 4 + e;
        if (col < p.dv) dst[col] = acc[i][c4 * 4 + e] * mul;
      }
  }
}

// ---- host helpers ---------------------------------------------------------------------------

// Column groups of 64 a thread row needs for dv output columns (0: too wide).
inline int tile_ct4(int64_t dv) { return dv <= 64 ? 1 : dv <= 128 ? 2 : dv <= 256 ? 4 : dv <= 512 ? 8 : 0; }

// Shared key-row stride for k in [0, dk) and v in [voff, voff + dv): it covers the rows as
// loaded, the whole score chunks and the CT4 * 64 columns P V reads; stride / 4 is odd so
// the float4 reads of 8 consecutive rows hit distinct banks.
inline int tile_stride(int dk, int voff, int dv, int ct4) {
  int s = std::max({dk, voff + dv, (dk + kDC - 1) / kDC * kDC, voff + 64 * ct4});
  s = (s + 3) / 4 * 4;
  if ((s / 4) % 2 == 0) s += 4;
  return s;
}

using TileKernel = void (*)(TileParams);

template <int ROWS, bool DECODE>
TileKernel tile_kernel_for(int ct4) {
  switch (ct4) {
    case 1: return mla_tile_kernel<ROWS, 1, DECODE>;
    case 2: return mla_tile_kernel<ROWS, 2, DECODE>;
    case 4: return mla_tile_kernel<ROWS, 4, DECODE>;
    case 8: return mla_tile_kernel<ROWS, 8, DECODE>;
    default: return nullptr;
  }
}

// Opts the kernel into `smem` bytes of dynamic shared memory; then its resident blocks per SM.
inline cudaError_t prepare_tile_kernel(TileKernel k, int rows, size_t smem, int* blocks_per_sm) {
  cudaError_t e = cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  if (e != cudaSuccess) return e;
  return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks_per_sm, k, rows / 4 * kTX, smem);
}

}  // namespace minke::cuda::mla
