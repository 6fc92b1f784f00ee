// Sampling on the GPU over a step's logits [rows, vocab], one block per row: the logits
// processors from sparse per-row lists, then greedy / temperature / top-k / top-p / min-p
// with a counter-based draw, then logprobs of the raw logits. The CPU references are
// engine/logits_processor.cpp, engine/sampler.cpp and engine/logprobs.cpp; the engine-facing
// adapter is engine/cuda/cuda_batch_sampler.h. Launch order on one stream: apply_logits_processors,
// sample_rows, restore_logits (the input comes back raw), compute_logprobs.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"

namespace minke::cuda {

constexpr int kMaxTopLogprobs = 20;

// One row's parameters, uploaded each step.
struct SamplingRow {
  float temperature = 1.0f;         // used unless greedy
  float top_p = 1.0f;               // (0, 1]; 1: off
  float min_p = 0.0f;               // [0, 1]; 0: off
  float repetition_penalty = 1.0f;  // > 0 (applied to the row's repetition list)
  float frequency_penalty = 0.0f;   // applied to the row's count list
  float presence_penalty = 0.0f;
  int32_t top_k = 0;                // <= 0: off
  int32_t greedy = 0;               // 1: argmax of the processed logits (first index of the max)
  int32_t top_logprobs = -1;        // -1: no logprobs; else top entries, [0, kMaxTopLogprobs]
  int32_t reserved = 0;
  uint64_t seed = 0;                // the draw is Philox4x32-10 keyed by seed at counter
  uint64_t counter = 0;             // tokens the sequence generated so far
};

// The processors of all rows as CSR lists over one entry array. Row r's entries are
// [offsets[4r], offsets[4r+4]): bias [o0, o1) (logit += value; ids distinct), min_tokens
// masks [o1, o2) (logit = -inf), repetition [o2, o3) (distinct ids of prompt and output:
// logit > 0 ? logit / p : logit * p), counts [o3, o4) (distinct output ids, value = count:
// logit -= frequency * count, then -= presence). The host includes a list only where
// apply_logits_processors would apply it, so the lists cost O(#distinct tokens seen).
struct LogitsProcessParams {
  float* logits = nullptr;             // [rows, vocab] device, processed in place
  const SamplingRow* rows = nullptr;   // [rows] device
  const int32_t* offsets = nullptr;    // [4 * rows + 1] device
  const int32_t* ids = nullptr;        // [nnz] device, each in [0, vocab)
  const float* values = nullptr;       // [nnz] device: bias, or the count as float
  float* saved = nullptr;              // [nnz] device: the raw logit at each entry (for restore)
  int64_t num_rows = 0;
  int64_t vocab = 0;
};

// Saves the raw logits at every entry, then applies the four lists in order.
Status apply_logits_processors(const LogitsProcessParams& p, cudaStream_t stream);
// Writes `saved` back: the logits are raw again (same pointers as apply_logits_processors).
Status restore_logits(const LogitsProcessParams& p, cudaStream_t stream);

struct SampleRowsParams {
  const float* logits = nullptr;       // [rows, vocab] device, processed
  const SamplingRow* rows = nullptr;   // [rows] device
  int32_t* tokens = nullptr;           // [rows] device out
  uint8_t* kept = nullptr;             // optional [rows, vocab] device out (tests): 1 where the
                                       // token was in the set drawn from (greedy: the argmax)
  int64_t num_rows = 0;
  int64_t vocab = 0;
};

// Per row: greedy (or every logit -inf): the first index of the max. Otherwise the CPU
// Sampler's set (weights exp((l - max) / T) above 1e-12, top-k, the top-p nucleus over
// them, min-p; ties by lower id), found exactly by radix selection, and one draw from it
// with probability proportional to the weight (in 62-bit fixed point, so deterministic).
Status sample_rows(const SampleRowsParams& p, cudaStream_t stream);

struct LogprobsParams {
  const float* logits = nullptr;       // [rows, vocab] device, raw
  const SamplingRow* rows = nullptr;   // [rows] device; rows with top_logprobs < 0 are skipped
  const int32_t* tokens = nullptr;     // [rows] device: the sampled tokens
  float* logprob = nullptr;            // [rows] device out
  int64_t* rank = nullptr;             // [rows] device out: tokens with logit >= the sampled one
  int32_t* top_ids = nullptr;          // [rows, kMaxTopLogprobs] device out, descending, ties by lower id
  float* top_logprobs = nullptr;       // [rows, kMaxTopLogprobs] device out
  int64_t num_rows = 0;
  int64_t vocab = 0;
};

// log_softmax of the raw logits at the sampled token (double accumulation, like
// compute_logprobs), its vLLM rank, and the top min(top_logprobs, vocab) entries.
Status compute_logprobs(const LogprobsParams& p, cudaStream_t stream);

}  // namespace minke::cuda
