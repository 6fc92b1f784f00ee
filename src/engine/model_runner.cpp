// ModelRunner: the step's tokens in scheduling order, one AttentionBatch, one forward.
#include "engine/model_runner.h"

#include <algorithm>

namespace minke {

AttentionBatch attention_batch_for(const SchedulerOutput& step, const KvCacheManager& kv) {
  std::vector<BatchPart> parts;
  parts.reserve(step.scheduled.size());
  for (const ScheduledSeq& s : step.scheduled) parts.push_back({s.seq->id, s.start, s.num_tokens});
  return make_attention_batch(kv, parts);
}

ModelRunner::ModelRunner(DeepseekV3& model, Backend& backend, LatentKvCache& cache,
                         const KvCacheManager& kv, ModelRunnerOptions options)
    : model_(model), backend_(backend), cache_(cache), kv_(kv), options_(options) {
  MINKE_CHECK(cache.num_pages() >= kv.num_blocks() && cache.page_size() == kv.block_size(),
              "cache of {} pages of {} for {} blocks of {}", cache.num_pages(), cache.page_size(),
              kv.num_blocks(), kv.block_size());
}

Result<Tensor> ModelRunner::run(const SchedulerOutput& step) {
  Tensor ids = Tensor::zeros(DType::kI32, {step.num_tokens});
  std::vector<int32_t> rows;
  int64_t t = 0;
  for (const ScheduledSeq& s : step.scheduled) {
    std::copy_n(s.seq->tokens.begin() + s.start, s.num_tokens, ids.data<int32_t>() + t);
    t += s.num_tokens;
    if (s.sample) rows.push_back(int32_t(t - 1));
  }
  Tensor logit_rows = Tensor::zeros(DType::kI32, {int64_t(rows.size())});
  std::copy(rows.begin(), rows.end(), logit_rows.data<int32_t>());
  ForwardInput in{ids, attention_batch_for(step, kv_), logit_rows};
  MINKE_ASSIGN_OR_RETURN(ForwardOutput out, model_.forward(in, cache_.layers()));
  if (options_.logits_on_device) return out.logits;  // the device sampler reads them on the backend's stream
  return backend_.to_host(out.logits);
}

}  // namespace minke
