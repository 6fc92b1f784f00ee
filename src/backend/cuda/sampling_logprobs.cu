// compute_logprobs on the GPU (engine/logprobs.cpp): one block per row that asked for
// logprobs; log_z = max + log(sum exp(l - max)) in double, the sampled token's logprob and
// vLLM rank, and the top_n entries found by radix select on the key
// (order-preserving bits(l) << 32 | ~id), i.e. descending logit, ties by lower id.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/sampling.h"
#include "backend/cuda/sampling_block.h"

namespace minke::cuda {
namespace {

using namespace sampling_detail;

struct LogitKey {
  const float* logits;  // [vocab] raw
  int vocab;
  __device__ bool operator()(int i, unsigned long long& key, unsigned long long& mass) const {
    float v = logits[i];
    if (v == 0.0f) v = 0.0f;  // -0 and +0 tie on the CPU: give them one key
    const unsigned u = __float_as_uint(v);
    const unsigned ordered = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // float order as unsigned
    key = ((unsigned long long)ordered << 32) | unsigned(vocab - 1 - i);
    mass = 0;
    return true;
  }
};

__global__ void __launch_bounds__(kThreads) logprobs_kernel(LogprobsParams p) {
  __shared__ RadixShared radix;
  __shared__ ArgMax arg_scratch[kWarps];
  __shared__ double sum_scratch[kWarps];
  __shared__ unsigned long long count_scratch[kWarps];
  __shared__ unsigned long long top_keys[kMaxTopLogprobs];
  __shared__ int top_count;

  const int64_t r = blockIdx.x;
  const SamplingRow row = p.rows[r];
  if (row.top_logprobs < 0) return;  // the whole block
  const int vocab = int(p.vocab);
  const float* logits = p.logits + r * p.vocab;  // [vocab] this row, raw
  const int32_t token = p.tokens[r];
  if (token < 0 || token >= vocab) {  // block-uniform; never read outside the row (the host reports it)
    if (threadIdx.x == 0) {
      p.logprob[r] = __int_as_float(0x7fc00000);  // NaN
      p.rank[r] = -1;
    }
    return;
  }
  const float chosen = logits[token];

  const float max_logit = block_argmax(logits, vocab, arg_scratch).value;
  double sum = 0;
  unsigned long long rank = 0;
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float l = logits[i];
    sum += exp(double(l) - double(max_logit));
    rank += l >= chosen ? 1 : 0;
  }
  sum = block_sum(sum, sum_scratch);
  rank = block_sum(rank, count_scratch);
  const double log_z = double(max_logit) + log(sum);
  if (threadIdx.x == 0) {
    p.logprob[r] = float(double(chosen) - log_z);
    p.rank[r] = int64_t(rank);
    top_count = 0;
  }
  int n = row.top_logprobs < kMaxTopLogprobs ? row.top_logprobs : kMaxTopLogprobs;
  n = n < vocab ? n : vocab;
  if (n == 0) return;
  const LogitKey key{logits, vocab};
  const unsigned long long threshold = radix_select(key, vocab, 64, false, (unsigned long long)n, radix);
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    unsigned long long c, q;
    key(i, c, q);
    if (c >= threshold) {
      const int slot = atomicAdd(&top_count, 1);
      if (slot < kMaxTopLogprobs) top_keys[slot] = c;
    }
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  for (int a = 1; a < n; ++a)  // insertion sort, descending: at most 20 entries
    for (int b = a; b > 0 && top_keys[b] > top_keys[b - 1]; --b) {
      const unsigned long long t = top_keys[b];
      top_keys[b] = top_keys[b - 1];
      top_keys[b - 1] = t;
    }
  for (int j = 0; j < n; ++j) {
    const int id = vocab - 1 - int(unsigned(top_keys[j]));
    p.top_ids[r * kMaxTopLogprobs + j] = id;
    p.top_logprobs[r * kMaxTopLogprobs + j] = float(double(logits[id]) - log_z);
  }
}

}  // namespace

Status compute_logprobs(const LogprobsParams& p, cudaStream_t stream) {
  if (p.logits == nullptr || p.rows == nullptr || p.tokens == nullptr || p.logprob == nullptr ||
      p.rank == nullptr || p.top_ids == nullptr || p.top_logprobs == nullptr || p.num_rows < 0 || p.vocab <= 0)
    return invalid_argument("cuda::compute_logprobs: null pointer or bad shape [{}, {}]", p.num_rows, p.vocab);
  if (p.num_rows > int64_t(INT32_MAX) || p.vocab >= int64_t(INT32_MAX))
    return invalid_argument("cuda::compute_logprobs: shape [{}, {}] too large", p.num_rows, p.vocab);
  if (p.num_rows == 0) return Status::ok();
  logprobs_kernel<<<unsigned(p.num_rows), kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("logprobs_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
