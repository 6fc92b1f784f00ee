// CudaBatchSampler: the engine's BatchSampler on the GPU (kernels in sampling.h). Per step it
// uploads each row's parameters and sparse processor lists (O(#distinct tokens seen), never
// O(vocab)), runs the processors, the sampler and the logprobs kernels on one stream, and
// downloads S tokens (plus the logprobs asked for). A row's token depends only on its logits,
// parameters, seed and tokens generated so far, never on the rest of the batch; it follows
// the CPU sampler's distribution but not its mt19937_64 sequence.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cuda/sampling.h"
#include "engine/batch_sampler.h"

namespace minke {

// Test-only outputs of one sample_debug() call.
struct CudaSamplerDebug {
  std::vector<float> processed;  // [rows, vocab] the logits after the processors
  std::vector<uint8_t> kept;     // [rows, vocab] 1 where the token was in the set drawn from
};

class CudaBatchSampler final : public BatchSampler {
 public:
  // `stream`: the stream the logits are computed on (the CUDA backend's), so they are read
  // in order without a device-wide sync; null is the legacy default stream. The current
  // device at construction is the one used (the engine samples from its own thread).
  explicit CudaBatchSampler(cudaStream_t stream = nullptr);
  ~CudaBatchSampler() override;
  CudaBatchSampler(const CudaBatchSampler&) = delete;
  CudaBatchSampler& operator=(const CudaBatchSampler&) = delete;

  Device logits_device() const override { return Device::kCuda; }
  // logits: F32 [rows, vocab] on the device (processed in place, raw again on return) or on
  // the host (uploaded). Returns once the tokens are on the host.
  Status sample(const Tensor& logits, std::span<const SampleRow> rows, std::vector<SampleResult>& out) override;
  // sample() that also returns the processed logits and each row's kept set.
  Status sample_debug(const Tensor& logits, std::span<const SampleRow> rows, std::vector<SampleResult>& out,
                      CudaSamplerDebug& debug);

 private:
  // A device allocation that only grows.
  struct Buffer {
    void* ptr = nullptr;
    size_t bytes = 0;
  };
  Status run(const Tensor& logits, std::span<const SampleRow> rows, std::vector<SampleResult>& out,
             CudaSamplerDebug* debug);
  Status build_inputs(std::span<const SampleRow> rows, int64_t vocab);
  static Status reserve(Buffer& b, size_t bytes);

  cudaStream_t stream_;
  int device_ = 0;
  Buffer inputs_;  // rows, offsets, ids, values: one upload per step
  Buffer work_;    // saved raw logits, tokens, logprob outputs
  Buffer logits_;  // host logits, uploaded
  Buffer kept_;    // sample_debug only
  // Host images of the step's inputs.
  std::vector<cuda::SamplingRow> rows_;
  std::vector<int32_t> offsets_, ids_;
  std::vector<float> values_;
  std::vector<std::byte> staging_;
  // Host copies of the outputs.
  std::vector<int32_t> tokens_;
  std::vector<float> logprob_;
  std::vector<int64_t> rank_;
  std::vector<int32_t> top_ids_;
  std::vector<float> top_logprobs_;
};

}  // namespace minke
