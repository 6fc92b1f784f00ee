// sample_rows: one block per row. The CPU Sampler (engine/sampler.cpp) keeps, in the order
// "weight desc, id asc", a prefix of the candidates w = exp((l - max) / T) > 1e-12: top-k,
// then the top-p nucleus of those, then min-p. Every rule is a threshold on the key
// (bits(w) << 32 | ~id), found exactly by radix select; the draw then picks a kept token with
// probability w / sum(w), with weights in 62-bit fixed point and a Philox draw keyed by
// (seed, tokens generated), so the token is a function of the row alone.
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/sampling.h"
#include "backend/cuda/sampling_block.h"
#include "backend/cuda/sampling_philox.h"

namespace minke::cuda {
namespace {

using namespace sampling_detail;

constexpr float kMinWeight = 1e-12f;  // sampler.cpp drops weights at or below this
// Keys: (bits(w) - bits(kMinWeight)) << 32 | (vocab - 1 - id). Kept weights lie in
// (1e-12, 1], so the high part is < 2^29 and a key has at most 61 bits.
constexpr int kKeyBits = 61;

// The weight, key and fixed-point mass of each token of one row.
struct RowWeights {
  const float* logits;  // [vocab] processed
  float max_logit;
  float inv_t;        // 1 / temperature, rounded as the CPU rounds it
  float mass_scale;   // 2^(62 - bit_width(vocab)): the row's masses sum below 2^62
  uint32_t base;      // bits(kMinWeight)
  int vocab;

  // sampler.cpp: std::exp((logits[i] - max_logit) * inv_t) in float.
  __device__ float weight(int i) const { return expf(__fmul_rn(__fsub_rn(logits[i], max_logit), inv_t)); }
  __device__ bool operator()(int i, unsigned long long& key, unsigned long long& mass) const {
    const float w = weight(i);
    if (!(w > kMinWeight)) return false;
    key = ((unsigned long long)(__float_as_uint(w) - base) << 32) | unsigned(vocab - 1 - i);
    mass = __float2ull_rn(w * mass_scale);
    return true;
  }
};

__global__ void __launch_bounds__(kThreads) sample_rows_kernel(SampleRowsParams p, float mass_scale) {
  __shared__ RadixShared radix;
  __shared__ ArgMax arg_scratch[kWarps];
  __shared__ unsigned long long sum_scratch[kWarps];
  __shared__ int drawn;

  const int64_t r = blockIdx.x;
  const int vocab = int(p.vocab);
  const SamplingRow row = p.rows[r];
  const float* logits = p.logits + r * p.vocab;  // [vocab] this row
  uint8_t* kept = p.kept ? p.kept + r * p.vocab : nullptr;

  const ArgMax best = block_argmax(logits, vocab, arg_scratch);
  int token = best.index;  // greedy, or every logit masked (the CPU's argmax)
  bool drew = false;
  unsigned long long threshold = 0;
  const RowWeights key{logits, best.value, __fdiv_rn(1.0f, row.temperature), mass_scale,
                       __float_as_uint(kMinWeight), vocab};
  if (!row.greedy && best.value > -__int_as_float(0x7f800000)) {  // block-uniform
    unsigned long long c, q, n_local = 0, m_local = 0;
    for (int i = threadIdx.x; i < vocab; i += kThreads)
      if (key(i, c, q)) {
        ++n_local;
        m_local += q;
      }
    const unsigned long long num_candidates = block_sum(n_local, sum_scratch);
    const unsigned long long total = block_sum(m_local, sum_scratch);
    if (num_candidates > 0 && total > 0) {
      unsigned long long kept_total = total;
      if (row.top_k > 0 && (unsigned long long)row.top_k < num_candidates) {
        threshold = radix_select(key, vocab, kKeyBits, false, (unsigned long long)row.top_k, radix);
        unsigned long long m = 0;
        for (int i = threadIdx.x; i < vocab; i += kThreads)
          if (key(i, c, q) && c >= threshold) m += q;
        kept_total = block_sum(m, sum_scratch);
      }
      if (row.top_p < 1.0f) {
        // sampler.cpp keeps the first j with mass_j >= top_p * total. The nucleus lies inside
        // the top-k prefix, so selecting over every candidate finds the same element.
        unsigned long long target = (unsigned long long)ceil(double(row.top_p) * double(kept_total));
        target = target < 1 ? 1 : (target > kept_total ? kept_total : target);
        const unsigned long long t = radix_select(key, vocab, kKeyBits, true, target, radix);
        threshold = t > threshold ? t : threshold;
      }
      if (row.min_p > 0.0f) {
        // sampler.cpp drops w < min_p * best; best = the weight of the max (1). Weights are
        // positive floats, so w >= floor is bits(w) >= bits(floor): a key threshold.
        const float floor_w = __fmul_rn(row.min_p, key.weight(best.index));
        if (floor_w > kMinWeight) {
          const unsigned long long t = (unsigned long long)(__float_as_uint(floor_w) - key.base) << 32;
          threshold = t > threshold ? t : threshold;
        }
      }
      // The draw: threads own their strided elements in index order; the block scan orders
      // the threads, so the kept tokens sit on [0, sum) in a fixed order.
      unsigned long long mine = 0;
      for (int i = threadIdx.x; i < vocab; i += kThreads)
        if (key(i, c, q) && c >= threshold) mine += q;
      if (threadIdx.x == 0) drawn = best.index;  // overwritten below; the scan's barriers order it
      unsigned long long sum;
      const unsigned long long before = block_exclusive_scan(mine, sum_scratch, &sum);
      if (sum > 0) {
        // Uniform in [0, sum): the high word of a 64x64 product (bias below 2^-64 per token).
        const unsigned long long u = __umul64hi(philox_u64(row.seed, row.counter), sum);
        if (u >= before && u < before + mine) {  // exactly one thread
          unsigned long long acc = before;
          for (int i = threadIdx.x; i < vocab; i += kThreads)
            if (key(i, c, q) && c >= threshold) {
              acc += q;
              if (u < acc) {
                drawn = i;
                break;
              }
            }
        }
        __syncthreads();
        token = drawn;
        drew = true;
      }
    }
  }
  if (threadIdx.x == 0) p.tokens[r] = token;
  if (kept != nullptr) {
    unsigned long long c, q;
    for (int i = threadIdx.x; i < vocab; i += kThreads)
      kept[i] = drew ? uint8_t(key(i, c, q) && c >= threshold) : uint8_t(i == token);
  }
}

}  // namespace

Status sample_rows(const SampleRowsParams& p, cudaStream_t stream) {
  if (p.logits == nullptr || p.rows == nullptr || p.tokens == nullptr || p.num_rows < 0 || p.vocab <= 0)
    return invalid_argument("cuda::sample_rows: null pointer or bad shape [{}, {}]", p.num_rows, p.vocab);
  if (p.num_rows > int64_t(INT32_MAX) || p.vocab >= int64_t(INT32_MAX))
    return invalid_argument("cuda::sample_rows: shape [{}, {}] too large", p.num_rows, p.vocab);
  if (p.num_rows == 0) return Status::ok();
  int bits = 0;  // bit_width(vocab)
  while ((int64_t(1) << bits) <= p.vocab) ++bits;
  const float mass_scale = std::ldexp(1.0f, 62 - bits);
  sample_rows_kernel<<<unsigned(p.num_rows), kThreads, 0, stream>>>(p, mass_scale);
  MINKE_CUDA_TRY_LAUNCH("sample_rows_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
