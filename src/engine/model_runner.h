// StepRunner: what the engine needs from a model, one scheduled step at a time.
// ModelRunner runs DeepseekV3 over the paged latent cache whose block ids the
// KvCacheManager hands out; tests substitute a fake.
#pragma once

#include "engine/scheduler.h"
#include "kv_cache/latent_cache.h"
#include "model/deepseek_v3.h"

namespace minke {

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual int64_t vocab_size() const = 0;
  // Computes the step; returns F32 logits [S, vocab], one row per scheduled sequence with
  // `sample` set, in scheduling order: on the host, unless the runner was asked to keep
  // them on its device (for a device BatchSampler, which then reads them in place).
  virtual Result<Tensor> run(const SchedulerOutput& step) = 0;
};

// The AttentionBatch of a step: positions, slots and block tables from the manager.
AttentionBatch attention_batch_for(const SchedulerOutput& step, const KvCacheManager& kv);

struct ModelRunnerOptions {
  // Return the logits where the backend computed them instead of copying them to the host:
  // set it when the engine's BatchSampler samples on that device (CudaBatchSampler).
  bool logits_on_device = false;
};

class ModelRunner final : public StepRunner {
 public:
  // `cache` must have at least kv.num_blocks() pages of kv.block_size() tokens.
  ModelRunner(DeepseekV3& model, Backend& backend, LatentKvCache& cache, const KvCacheManager& kv,
              ModelRunnerOptions options = {});
  int64_t vocab_size() const override { return model_.config().vocab_size; }
  Result<Tensor> run(const SchedulerOutput& step) override;

 private:
  DeepseekV3& model_;
  Backend& backend_;
  LatentKvCache& cache_;
  const KvCacheManager& kv_;
  ModelRunnerOptions options_;
};

}  // namespace minke
