// BatchSampler: turns one step's logits [S, vocab] into S tokens (and their logprobs) at
// once, so a device implementation can sample every row in a few kernels. Contract per row:
// the logits processors (logits_processor.h) in vLLM v1's order, then greedy / temperature /
// top-k / top-p / min-p (sampler.h), then logprobs of the RAW logits (logprobs.h).
// HostBatchSampler is the CPU reference; engine/cuda/cuda_batch_sampler.h the GPU one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/status.h"
#include "engine/logits_processor.h"
#include "engine/logprobs.h"
#include "engine/sampler.h"
#include "tensor/tensor.h"

namespace minke {

// One row of the step: what the sequence asked for and what it has generated so far.
// The pointers are borrowed for the duration of sample().
struct SampleRow {
  const SamplingParams* params = nullptr;
  const SequenceTokens* tokens = nullptr;  // prompt set, output counts, eos ids
  Sampler* sampler = nullptr;  // the sequence's host generator (HostBatchSampler draws from it)
  // The seed `sampler` was made from (Sampler::seed_for). Counter-based samplers draw the
  // row's token from (seed, num_generated) alone, so it never depends on the batch.
  uint64_t seed = 0;
  int64_t num_generated = 0;  // tokens generated so far (== tokens->num_generated())
  int top_logprobs = -1;      // -1: no logprobs; else top entries wanted, [0, kMaxLogprobs]
};

struct SampleResult {
  int32_t token = -1;
  std::optional<TokenLogprobs> logprobs;  // when the row asked for them
};

class BatchSampler {
 public:
  virtual ~BatchSampler() = default;
  // Where this sampler wants the step's logits (a runner may keep them there).
  virtual Device logits_device() const { return Device::kCpu; }
  // logits: F32 [rows.size(), vocab], host or device as the implementation accepts; they are
  // scratch (processed in place; a device sampler restores them). out gets one entry per row.
  // Errors (a device fault, logits it cannot read) fail the whole step.
  virtual Status sample(const Tensor& logits, std::span<const SampleRow> rows,
                        std::vector<SampleResult>& out) = 0;
};

// Row by row on the host: apply_logits_processors, the row's Sampler (its mt19937_64),
// compute_logprobs on a copy of the raw row. Host logits only.
class HostBatchSampler final : public BatchSampler {
 public:
  Status sample(const Tensor& logits, std::span<const SampleRow> rows,
                std::vector<SampleResult>& out) override;

 private:
  std::vector<float> raw_;  // reused copy of the raw row for logprobs
};

// Checks what every BatchSampler needs: F32 [rows, vocab] with vocab > 0 and complete rows.
Status check_sample_inputs(const Tensor& logits, std::span<const SampleRow> rows);

}  // namespace minke
