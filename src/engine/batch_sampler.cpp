// HostBatchSampler: the engine's per-sequence sampling path, row after row (exactly what
// Engine::sample_and_emit did before the seam existed).
#include "engine/batch_sampler.h"

namespace minke {

Status check_sample_inputs(const Tensor& logits, std::span<const SampleRow> rows) {
  if (!logits.defined() || logits.dtype() != DType::kF32 || logits.ndim() != 2)
    return invalid_argument("sampling needs F32 logits [rows, vocab], got {}",
                            logits.defined() ? logits.describe() : std::string("none"));
  if (logits.dim(0) != int64_t(rows.size()) || logits.dim(1) <= 0)
    return invalid_argument("sampling {} rows from logits {}", rows.size(), logits.describe());
  for (const SampleRow& r : rows) {
    if (r.params == nullptr || r.tokens == nullptr)
      return invalid_argument("a sampling row without parameters or tokens");
    if (r.top_logprobs > SamplingParams::kMaxLogprobs)
      return invalid_argument("top_logprobs {} > {}", r.top_logprobs, SamplingParams::kMaxLogprobs);
  }
  return Status::ok();
}

Status HostBatchSampler::sample(const Tensor& logits, std::span<const SampleRow> rows,
                                std::vector<SampleResult>& out) {
  MINKE_TRY(check_sample_inputs(logits, rows));
  if (logits.device() != Device::kCpu)
    return invalid_argument("HostBatchSampler needs host logits, got device ones ({})", logits.describe());
  const int64_t vocab = logits.dim(1);
  out.assign(rows.size(), SampleResult{});
  for (size_t i = 0; i < rows.size(); ++i) {
    const SampleRow& r = rows[i];
    if (r.sampler == nullptr) return invalid_argument("HostBatchSampler: row {} has no Sampler", i);
    const std::span<float> row(logits.data<float>() + int64_t(i) * vocab, size_t(vocab));
    const bool want_logprobs = r.top_logprobs >= 0;
    if (want_logprobs) raw_.assign(row.begin(), row.end());
    apply_logits_processors(row, *r.params, *r.tokens);
    out[i].token = r.sampler->sample(row, *r.params);
    if (want_logprobs) out[i].logprobs = compute_logprobs(raw_, out[i].token, r.top_logprobs);
  }
  return Status::ok();
}

}  // namespace minke
