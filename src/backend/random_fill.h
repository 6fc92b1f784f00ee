// The counter-based uniform generator behind Backend::fill_uniform, shared by the CPU
// backend (C++20) and the CUDA kernel (nvcc, C++17): element i of a fill with `seed` is a
// pure function of (seed, i), computed with integer ops and one correctly rounded fma, and
// narrowed to bf16 / e4m3 by integer bit manipulation, so every backend writes the same bytes.
#pragma once

#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define MINKE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MINKE_HOST_DEVICE inline
#endif

namespace minke::random_fill {

// splitmix64's finalizer (Steele, Lea, Flood: "Fast splittable pseudorandom number generators").
MINKE_HOST_DEVICE uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// 64 random bits for element `index`: the index-th output of a SplitMix64 stream whose
// state starts at mix64(seed), so fills with different seeds are unrelated streams.
MINKE_HOST_DEVICE uint64_t bits(uint64_t seed, uint64_t index) {
  return mix64(mix64(seed) + (index + 1) * 0x9e3779b97f4a7c15ull);
}

// Single IEEE operations, never contracted or reordered by either compiler (the _rn
// intrinsics are exempt from nvcc's fma contraction).
MINKE_HOST_DEVICE float fma_f32(float a, float b, float c) {
#ifdef __CUDA_ARCH__
  return __fmaf_rn(a, b, c);
#else
  return __builtin_fmaf(a, b, c);  // correctly rounded, like the device's fma
#endif
}
MINKE_HOST_DEVICE float sub_f32(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

// A float in [lo, hi) (lo when lo == hi): lo + (hi - lo) * u with u = k / 2^24, k < 2^24.
// u is exact; the product and sum are one fma, rounded once, identically on host and device.
// Rounding may land on hi itself; that value maps to lo so the interval stays half-open.
MINKE_HOST_DEVICE float uniform(uint64_t seed, uint64_t index, float lo, float hi) {
  const float u = float(uint32_t(bits(seed, index) >> 40)) * 0x1p-24f;  // exact: k < 2^24
  const float v = fma_f32(sub_f32(hi, lo), u, lo);
  return v < hi ? v : lo;
}

MINKE_HOST_DEVICE uint32_t float_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

// float -> bfloat16 bits, round to nearest even (as tensor/numeric.h's f32_to_bf16).
MINKE_HOST_DEVICE uint16_t to_bf16(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

// float -> float8 e4m3fn byte, round to nearest even, |x| > 448 saturating to 448, NaN -> 0x7f
// (as tensor/numeric.h's f32_to_e4m3). e4m3fn: bias 7, 3 mantissa bits, normals from 2^-6,
// subnormals m * 2^-9, largest finite 0x7e = 448.
MINKE_HOST_DEVICE uint8_t to_e4m3(float f) {
  const uint32_t u = float_bits(f);
  const uint8_t sign = uint8_t((u >> 24) & 0x80u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return 0x7f;                   // NaN
  if (a >= 0x43e00000u) return uint8_t(sign | 0x7eu);  // >= 448 (and infinity): saturate
  if (a < 0x3c800000u) {                               // below 2^-6: e4m3 subnormal or zero
    // |x| / 2^-9 = mant * 2^(e - 141) for a normal float of biased exponent e (e <= 120);
    // float subnormals (e = 0) have no implicit bit and the exponent of e = 1.
    const uint32_t e = a >> 23;
    const uint32_t mant = e == 0 ? (a & 0x7fffffu) : ((a & 0x7fffffu) | 0x800000u);
    const uint32_t shift = 141u - (e == 0 ? 1u : e);  // >= 21
    if (shift > 24) return sign;                      // mant < 2^24 <= half a quantum: 0
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) ++r;  // r == 8 is 2^-6, the smallest normal
    return uint8_t(sign | r);
  }
  // Normal: rebias the exponent from 127 to 7 and keep 3 of the 23 mantissa bits, rounding
  // on the other 20 (a carry into the exponent is the correct next binade; a < 448 stays <= 0x7e).
  const uint32_t v = a - (120u << 23);
  uint32_t r = v >> 20;
  const uint32_t rem = v & 0xfffffu;
  if (rem > 0x80000u || (rem == 0x80000u && (r & 1u))) ++r;
  return uint8_t(sign | r);
}

}  // namespace minke::random_fill

#undef MINKE_HOST_DEVICE
