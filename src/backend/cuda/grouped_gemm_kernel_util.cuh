// Device helpers shared by the grouped GEMM kernels: which rows of which group a block owns
// (found from the device-side offsets, so nothing waits for the host), and loads that widen
// f32 / bf16 / e4m3 vectors to f32 exactly as the CPU's widen() does.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <cstdint>
#include <type_traits>

#include "backend/cuda/grouped_gemm_kernel.h"

namespace minke::cuda::detail {

constexpr unsigned kFullMask = 0xffffffffu;

__host__ __device__ inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Tiles of `tile_rows` rows over every group (a group's last tile may be short, an empty group
// has none), numbered group by group. An upper bound on their number, from host-known values.
inline int64_t row_tile_bound(const GemmKernelArgs& a, int64_t tile_rows) {
  const int64_t by_rows = cdiv(a.rows, tile_rows);
  if (a.offsets == nullptr) return by_rows;
  const int64_t most = a.max_group_rows > 0 && a.max_group_rows < a.rows ? a.max_group_rows : a.rows;
  const int64_t by_groups = a.groups * cdiv(most, tile_rows);
  return by_rows + a.groups < by_groups ? by_rows + a.groups : by_groups;
}

// Bytes of one weight element.
inline int64_t weight_bytes(WeightType t) {
  return t == WeightType::kF32 ? 4 : t == WeightType::kBF16 ? 2 : 1;
}

// Whether loads of `vec` consecutive elements stay aligned and inside one scale block (the weight
// pointers are checked on the device: they live in a device array).
inline bool can_vectorize(const GemmKernelArgs& a, int64_t vec) {
  const bool scaled = a.weight_type == WeightType::kF8E4M3 || a.x_q != nullptr;
  const void* x = a.x_q != nullptr ? static_cast<const void*>(a.x_q) : static_cast<const void*>(a.x);
  return a.k % vec == 0 && (!scaled || a.block_k % vec == 0) && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
         (a.weights != nullptr || reinterpret_cast<uintptr_t>(a.weight) % 16 == 0);
}

struct RowTile {
  int32_t group, row0, row1;  // rows [row0, row1) of `group`
};

// Finds tile t. Every lane of the calling warp must take part with the same t (all warps of a
// block compute the same answer, so block-wide branches on it stay uniform).
__device__ inline bool find_row_tile(const GemmKernelArgs& a, int64_t t, int tile_rows, RowTile& out) {
  if (a.offsets == nullptr) {
    const int64_t r0 = t * tile_rows;
    if (r0 >= a.rows) return false;
    out = {0, int32_t(r0), int32_t(r0 + tile_rows < a.rows ? r0 + tile_rows : a.rows)};
    return true;
  }
  const int lane = threadIdx.x & 31;
  int64_t before = 0;  // tiles of the groups before g0
  for (int64_t g0 = 0; g0 < a.groups; g0 += 32) {
    const int64_t g = g0 + lane;
    int32_t start = 0, end = 0;
    if (g < a.groups) {
      start = a.offsets[g];
      end = a.offsets[g + 1];
    }
    const int32_t count = end > start ? int32_t((int64_t(end) - start + tile_rows - 1) / tile_rows) : 0;
    int32_t incl = count;  // inclusive prefix sum over the lanes
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
      const int32_t v = __shfl_up_sync(kFullMask, incl, d);
      if (lane >= d) incl += v;
    }
    const int32_t total = __shfl_sync(kFullMask, incl, 31);
    if (t < before + total) {
      const unsigned hit = __ballot_sync(kFullMask, t < before + incl);
      const int owner = __ffs(int(hit)) - 1;
      const int32_t first = __shfl_sync(kFullMask, incl - count, owner);
      const int32_t s = __shfl_sync(kFullMask, start, owner);
      const int32_t e = __shfl_sync(kFullMask, end, owner);
      const int32_t r0 = s + int32_t(t - before - first) * tile_rows;
      out = {int32_t(g0 + owner), r0, r0 + tile_rows < e ? r0 + tile_rows : e};
      return true;
    }
    before += total;
  }
  return false;
}

// The weight (and its scales) of a group; null weight: the group's rows are zeros.
__device__ inline const void* group_weight(const GemmKernelArgs& a, int32_t g) {
  return a.weights != nullptr ? a.weights[g] : a.weight;
}
__device__ inline const float* group_scales(const GemmKernelArgs& a, int32_t g) {
  if (a.weight_type != WeightType::kF8E4M3) return nullptr;
  return a.weights != nullptr ? a.weight_scales[g] : a.weight_scale;
}

__device__ inline float bf16_lo(uint32_t u) { return __uint_as_float(u << 16); }
__device__ inline float bf16_hi(uint32_t u) { return __uint_as_float(u & 0xffff0000u); }

// Two e4m3 bytes (the low 16 bits; the lower-addressed element in the low byte) as floats.
__device__ inline float2 e4m3x2(uint32_t two) {
  const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(__nv_fp8x2_storage_t(two & 0xffffu), __NV_E4M3);
  return __half22float2(__half2(h));
}

// Four e4m3 bytes of a little-endian word into f[0..4).
__device__ inline void e4m3x4(uint32_t w, float* f) {
  const float2 lo = e4m3x2(w), hi = e4m3x2(w >> 16);
  f[0] = lo.x;
  f[1] = lo.y;
  f[2] = hi.x;
  f[3] = hi.y;
}

// Element i of a matrix of type T, widened.
template <WeightType T>
__device__ inline float load1(const void* base, int64_t i) {
  if constexpr (T == WeightType::kF32) {
    return __ldg(static_cast<const float*>(base) + i);
  } else if constexpr (T == WeightType::kBF16) {
    return __uint_as_float(uint32_t(__ldg(static_cast<const unsigned short*>(base) + i)) << 16);
  } else {
    return e4m3x2(__ldg(static_cast<const unsigned char*>(base) + i)).x;
  }
}

// Elements [i, i + NV) of a matrix of type T, widened. NV > 1 needs the address aligned to
// min(16, NV * sizeof(T)) bytes; NV is 1, 4 (f32), 8 or 16.
template <WeightType T, int NV>
__device__ inline void load_vec(const void* base, int64_t i, float (&f)[NV]) {
  if constexpr (NV == 1) {
    f[0] = load1<T>(base, i);
  } else if constexpr (T == WeightType::kF32) {
    static_assert(NV % 4 == 0, "f32 vectors are float4s");
    const float4* p = reinterpret_cast<const float4*>(static_cast<const float*>(base) + i);
#pragma unroll
    for (int v = 0; v < NV / 4; ++v) {
      const float4 q = __ldg(p + v);
      f[4 * v] = q.x;
      f[4 * v + 1] = q.y;
      f[4 * v + 2] = q.z;
      f[4 * v + 3] = q.w;
    }
  } else if constexpr (T == WeightType::kBF16) {
    static_assert(NV % 8 == 0, "bf16 vectors are 16 bytes");
    const uint4* p = reinterpret_cast<const uint4*>(static_cast<const unsigned short*>(base) + i);
#pragma unroll
    for (int v = 0; v < NV / 8; ++v) {
      const uint4 q = __ldg(p + v);
      const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        f[8 * v + 2 * j] = bf16_lo(w[j]);
        f[8 * v + 2 * j + 1] = bf16_hi(w[j]);
      }
    }
  } else {
    static_assert(NV == 8 || NV == 16, "e4m3 vectors are 8 or 16 bytes");
    const unsigned char* p = static_cast<const unsigned char*>(base) + i;
    if constexpr (NV == 8) {
      const uint2 q = __ldg(reinterpret_cast<const uint2*>(p));
      e4m3x4(q.x, f);
      e4m3x4(q.y, f + 4);
    } else {
      const uint4 q = __ldg(reinterpret_cast<const uint4*>(p));
      e4m3x4(q.x, f);
      e4m3x4(q.y, f + 4);
      e4m3x4(q.z, f + 8);
      e4m3x4(q.w, f + 12);
    }
  }
}

// Raw bits of elements [i, i + NV) of a matrix of type T: one 16-byte load when NV fills 16
// bytes (4 f32, 8 bf16, 16 e4m3; the address aligned), or NV == 1: the element's bits in .x.
template <WeightType T, int NV>
__device__ inline uint4 load_raw(const void* base, int64_t i) {
  if constexpr (NV == 1) {
    uint32_t bits;
    if constexpr (T == WeightType::kF32)
      bits = __float_as_uint(__ldg(static_cast<const float*>(base) + i));
    else if constexpr (T == WeightType::kBF16)
      bits = __ldg(static_cast<const unsigned short*>(base) + i);
    else
      bits = __ldg(static_cast<const unsigned char*>(base) + i);
    return make_uint4(bits, 0u, 0u, 0u);
  } else {
    static_assert(NV * (T == WeightType::kF32 ? 4 : T == WeightType::kBF16 ? 2 : 1) == 16, "16-byte vectors");
    const auto* bytes = static_cast<const unsigned char*>(base) + i * (T == WeightType::kF32 ? 4 : T == WeightType::kBF16 ? 2 : 1);
    return __ldg(reinterpret_cast<const uint4*>(bytes));
  }
}

// Elements [part * S, part * S + S) of a load_raw<T, NV> vector, widened (S = NV or 8 of 16).
template <WeightType T, int NV, int S>
__device__ inline void widen_part(const uint4& r, int part, float (&f)[S]) {
  if constexpr (NV == 1) {
    static_assert(S == 1, "one element");
    f[0] = T == WeightType::kF32 ? __uint_as_float(r.x) : T == WeightType::kBF16 ? bf16_lo(r.x) : e4m3x2(r.x).x;
  } else {
    const uint32_t w[4] = {r.x, r.y, r.z, r.w};
    if constexpr (T == WeightType::kF32) {
      static_assert(S == 4, "f32: the whole vector");
#pragma unroll
      for (int j = 0; j < 4; ++j) f[j] = __uint_as_float(w[j]);
    } else if constexpr (T == WeightType::kBF16) {
      static_assert(S == 8, "bf16: the whole vector");
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        f[2 * j] = bf16_lo(w[j]);
        f[2 * j + 1] = bf16_hi(w[j]);
      }
    } else {
      static_assert(S == 8, "e4m3: half the vector");
      e4m3x4(w[2 * part], f);
      e4m3x4(w[2 * part + 1], f + 4);
    }
  }
}

// Calls launch(weight type, e4m3 activations?) with both as compile-time constants
// (std::integral_constant), for the kernels' template parameters.
template <class Launch>
Status for_weight_type(const GemmKernelArgs& a, Launch&& launch) {
  using F32 = std::integral_constant<WeightType, WeightType::kF32>;
  using BF16 = std::integral_constant<WeightType, WeightType::kBF16>;
  using E4M3 = std::integral_constant<WeightType, WeightType::kF8E4M3>;
  switch (a.weight_type) {
    case WeightType::kF32: return launch(F32{}, std::false_type{});
    case WeightType::kBF16: return launch(BF16{}, std::false_type{});
    case WeightType::kF8E4M3:
      return a.x_q != nullptr ? launch(E4M3{}, std::true_type{}) : launch(E4M3{}, std::false_type{});
  }
  return invalid_argument("cuda::grouped_gemm: unknown weight type {}", int(a.weight_type));
}

}  // namespace minke::cuda::detail
