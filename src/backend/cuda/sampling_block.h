// Block-wide building blocks of the sampling kernels (include from .cu files only): an
// argmax, sums and an exclusive scan whose result every thread receives (fixed reduction
// order, so deterministic), and an exact radix select over 64-bit keys, unique per element,
// by count (the top `target` keys) or by integer mass (the shortest top prefix whose mass
// reaches `target`). Every function must be called by all kThreads threads of the block.
#pragma once

#include <cuda_runtime.h>

#include <climits>
#include <cstdint>

namespace minke::cuda::sampling_detail {

constexpr int kThreads = 512;  // one block per row (1024 x 64 registers would fill the whole register file)
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kDigitBits = 11;  // 2048 buckets: few same-bucket atomics even on clustered keys
constexpr int kBuckets = 1 << kDigitBits;

struct ArgMax {
  float value;
  int index;
};

// Higher value, then lower index (engine/sampler.cpp argmax: the first index of the max).
__device__ inline bool arg_better(ArgMax a, ArgMax b) {
  return a.value > b.value || (a.value == b.value && a.index < b.index);
}

// x [n]; scratch [kWarps] shared.
__device__ inline ArgMax block_argmax(const float* x, int n, ArgMax* scratch) {
  ArgMax best{-__int_as_float(0x7f800000), INT_MAX};  // -inf, no index yet
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float v = x[i];
    if (best.index == INT_MAX || v > best.value) best = ArgMax{v, i};  // i ascends: first max kept
  }
  for (int o = 16; o > 0; o >>= 1) {
    const ArgMax other{__shfl_xor_sync(kFullMask, best.value, o), __shfl_xor_sync(kFullMask, best.index, o)};
    if (arg_better(other, best)) best = other;
  }
  __syncthreads();  // scratch may still be read by a previous call
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = best;
  __syncthreads();
  ArgMax r = scratch[0];
  for (int w = 1; w < kWarps; ++w)
    if (arg_better(scratch[w], r)) r = scratch[w];
  return r;
}

// The block's sum of v (unsigned long long or double); scratch [kWarps] shared.
template <class T>
__device__ inline T block_sum(T v, T* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  __syncthreads();
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  T r = scratch[0];  // every thread adds the warp sums in the same order: identical results
  for (int w = 1; w < kWarps; ++w) r += scratch[w];
  return r;
}

// The sum of v over threads before this one (thread order), and the block's total.
__device__ inline unsigned long long block_exclusive_scan(unsigned long long v, unsigned long long* scratch,
                                                          unsigned long long* total) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  unsigned long long incl = v;
  for (int o = 1; o < 32; o <<= 1) {
    const unsigned long long t = __shfl_up_sync(kFullMask, incl, o);
    if (lane >= o) incl += t;
  }
  __syncthreads();
  if (lane == 31) scratch[warp] = incl;
  __syncthreads();
  unsigned long long before = 0, all = 0;
  for (int w = 0; w < kWarps; ++w) {
    if (w < warp) before += scratch[w];
    all += scratch[w];
  }
  *total = all;
  return before + incl - v;
}

struct RadixShared {
  unsigned counts[kBuckets];
  unsigned long long masses[kBuckets];
  int chosen;   // the digit picked by the last pass
  int done;     // the threshold is final
  unsigned long long count_above, mass_above;  // elements ranked above the chosen bucket
};

// Warp 0: scans the digit histogram from the highest digit down for the bucket where the
// running count (or mass) first reaches `target`, given what ranks above the current bucket.
__device__ inline void radix_choose_digit(RadixShared& sh, int buckets, bool by_mass, unsigned long long target,
                                          unsigned long long count_above, unsigned long long mass_above) {
  const int lane = threadIdx.x;
  const int per_lane = buckets >= 32 ? buckets / 32 : 1;
  const int top = buckets - 1 - lane * per_lane;  // lane 0 holds the highest digits
  unsigned long long gc = 0, gm = 0;
  for (int j = 0; j < per_lane; ++j) {
    const int d = top - j;
    if (d < 0) break;
    gc += sh.counts[d];
    gm += sh.masses[d];
  }
  unsigned long long ic = gc, im = gm;
  for (int o = 1; o < 32; o <<= 1) {
    const unsigned long long tc = __shfl_up_sync(kFullMask, ic, o), tm = __shfl_up_sync(kFullMask, im, o);
    if (lane >= o) {
      ic += tc;
      im += tm;
    }
  }
  const bool reached = by_mass ? mass_above + im >= target : count_above + ic >= target;
  const unsigned ballot = __ballot_sync(kFullMask, reached);
  if (ballot == 0) {  // a target beyond what is there (a caller bug): keep the whole bucket
    if (lane == 0) {
      sh.chosen = 0;
      sh.done = 1;
      sh.count_above = count_above;
      sh.mass_above = mass_above;
    }
    return;
  }
  if (lane != __ffs(ballot) - 1) return;
  unsigned long long ca = count_above + ic - gc, ma = mass_above + im - gm;
  for (int j = 0; j < per_lane; ++j) {
    const int d = top - j;
    if (d < 0) break;
    const unsigned long long c = sh.counts[d], m = sh.masses[d];
    if (by_mass ? ma + m >= target : ca + c >= target) {
      sh.chosen = d;
      sh.count_above = ca;
      sh.mass_above = ma;
      // Count: the bucket completes the top `target`. Mass: the bucket is the crossing element.
      sh.done = by_mass ? c == 1 : ca + c == target;
      return;
    }
    ca += c;
    ma += m;
  }
}

// key(i, c, q) -> false when element i of [0, n) takes no part; else its key c (distinct per
// element, < 2^key_bits) and mass q. Returns the threshold T (a key prefix, zeros below):
// by count, exactly `target` elements have c >= T (1 <= target <= their number); by mass,
// the elements with c >= T are the shortest prefix in descending key order whose mass
// reaches `target` (1 <= target <= the total mass). Passes of kDigitBits bits, top down,
// each a histogram of the elements in the current bucket; stops once the bucket is decided.
template <class KeyFn>
__device__ unsigned long long radix_select(const KeyFn& key, int n, int key_bits, bool by_mass,
                                          unsigned long long target, RadixShared& sh) {
  unsigned long long prefix = 0, count_above = 0, mass_above = 0;
  int lo = key_bits;  // bits [lo, 64) are decided
  for (;;) {
    const int width = lo < kDigitBits ? lo : kDigitBits;
    const int shift = lo - width;
    const unsigned long long fixed = lo >= 64 ? 0ull : (~0ull << lo);
    const unsigned digit_mask = (1u << width) - 1u;
    for (int b = threadIdx.x; b < kBuckets; b += kThreads) {
      sh.counts[b] = 0;
      sh.masses[b] = 0;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += kThreads) {
      unsigned long long c, q;
      if (!key(i, c, q) || (c & fixed) != prefix) continue;
      const unsigned d = unsigned(c >> shift) & digit_mask;
      atomicAdd(&sh.counts[d], 1u);
      if (by_mass && q != 0) atomicAdd(&sh.masses[d], q);
    }
    __syncthreads();
    if (threadIdx.x < 32) radix_choose_digit(sh, 1 << width, by_mass, target, count_above, mass_above);
    __syncthreads();
    const int d = sh.chosen;
    const bool done = sh.done != 0;
    count_above = sh.count_above;
    mass_above = sh.mass_above;
    prefix |= (unsigned long long)d << shift;
    lo = shift;
    // The next pass (or the next call) writes sh.chosen only after two more barriers.
    if (done || shift == 0) return prefix;
  }
}

}  // namespace minke::cuda::sampling_detail
