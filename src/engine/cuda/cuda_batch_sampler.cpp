// CudaBatchSampler: builds the step's row table and CSR processor lists exactly where
// apply_logits_processors would act (see sampling.h), uploads them in one copy, launches
// processors -> sample_rows -> restore -> logprobs on the stream, and reads the results back.
#include "engine/cuda/cuda_batch_sampler.h"

#include <algorithm>
#include <cstring>

#include "backend/cuda/cuda_check.h"

namespace minke {
namespace {

constexpr size_t kAlign = 256;

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

template <class T>
T* at(void* base, size_t offset) {
  return reinterpret_cast<T*>(static_cast<std::byte*>(base) + offset);
}

}  // namespace

CudaBatchSampler::CudaBatchSampler(cudaStream_t stream) : stream_(stream) {
  if (cudaGetDevice(&device_) != cudaSuccess) device_ = 0;  // reported by the first sample()
}

CudaBatchSampler::~CudaBatchSampler() {
  for (Buffer* b : {&inputs_, &work_, &logits_, &kept_})
    if (b->ptr != nullptr) cudaFree(b->ptr);
}

Status CudaBatchSampler::reserve(Buffer& b, size_t bytes) {
  if (bytes <= b.bytes) return Status::ok();
  if (b.ptr != nullptr) {
    MINKE_CUDA_TRY(cudaFree(b.ptr));  // synchronizes: nothing in flight still uses it
    b = Buffer{};
  }
  const size_t grown = std::max(bytes, b.bytes + b.bytes / 2);
  MINKE_CUDA_TRY(cudaMalloc(&b.ptr, grown));
  b.bytes = grown;
  return Status::ok();
}

Status CudaBatchSampler::build_inputs(std::span<const SampleRow> rows, int64_t vocab) {
  rows_.assign(rows.size(), cuda::SamplingRow{});
  offsets_.assign(4 * rows.size() + 1, 0);
  ids_.clear();
  values_.clear();
  auto add = [&](int32_t id, float value) {
    ids_.push_back(id);
    values_.push_back(value);
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const SamplingParams& p = *rows[i].params;
    const SequenceTokens& t = *rows[i].tokens;
    // The lists in apply_logits_processors' order and under its conditions.
    offsets_[4 * i] = int32_t(ids_.size());
    for (const auto& [id, bias] : p.logit_bias) add(id, bias);
    offsets_[4 * i + 1] = int32_t(ids_.size());
    if (t.num_generated() < p.min_tokens) {
      if (!p.ignore_eos)
        for (int32_t eos : t.eos_ids()) add(eos, 0.0f);
      for (int32_t id : p.stop_token_ids) add(id, 0.0f);
    }
    offsets_[4 * i + 2] = int32_t(ids_.size());
    if (p.repetition_penalty != 1.0f) {
      for (int32_t id : t.prompt_tokens()) add(id, 0.0f);
      for (const auto& [id, count] : t.output_counts())
        if (!t.in_prompt(id)) add(id, 0.0f);
    }
    offsets_[4 * i + 3] = int32_t(ids_.size());
    if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f)
      for (const auto& [id, count] : t.output_counts()) add(id, float(count));
    if (ids_.size() > size_t(INT32_MAX / 2)) return invalid_argument("sampling lists of {} entries", ids_.size());

    cuda::SamplingRow& r = rows_[i];
    r.temperature = p.temperature;
    r.top_p = p.top_p;
    r.min_p = p.min_p;
    r.repetition_penalty = p.repetition_penalty;
    r.frequency_penalty = p.frequency_penalty;
    r.presence_penalty = p.presence_penalty;
    r.top_k = p.top_k;
    r.greedy = p.greedy() ? 1 : 0;
    r.top_logprobs = rows[i].top_logprobs < 0 ? -1 : rows[i].top_logprobs;
    r.seed = rows[i].seed;
    r.counter = uint64_t(rows[i].num_generated);
    if (!r.greedy && !(p.temperature > 0.0f))
      return invalid_argument("row {}: temperature {} without greedy", i, p.temperature);
  }
  offsets_[4 * rows.size()] = int32_t(ids_.size());
  for (int32_t id : ids_)  // a bad id would write outside the row: refuse it here
    if (id < 0 || id >= vocab) return invalid_argument("sampling: token id {} outside the vocabulary [0, {})", id, vocab);
  return Status::ok();
}

Status CudaBatchSampler::sample(const Tensor& logits, std::span<const SampleRow> rows,
                                std::vector<SampleResult>& out) {
  return run(logits, rows, out, nullptr);
}

Status CudaBatchSampler::sample_debug(const Tensor& logits, std::span<const SampleRow> rows,
                                      std::vector<SampleResult>& out, CudaSamplerDebug& debug) {
  return run(logits, rows, out, &debug);
}

Status CudaBatchSampler::run(const Tensor& logits, std::span<const SampleRow> rows, std::vector<SampleResult>& out,
                             CudaSamplerDebug* debug) {
  MINKE_TRY(check_sample_inputs(logits, rows));
  const int64_t num_rows = int64_t(rows.size()), vocab = logits.dim(1);
  out.assign(rows.size(), SampleResult{});
  if (num_rows == 0) return Status::ok();
  if (vocab >= int64_t(INT32_MAX)) return invalid_argument("CudaBatchSampler: vocab {} too large", vocab);
  MINKE_CUDA_TRY(cudaSetDevice(device_));
  MINKE_TRY(build_inputs(rows, vocab));
  const size_t nnz = ids_.size(), n = size_t(num_rows), k = size_t(cuda::kMaxTopLogprobs);
  const bool any_logprobs = std::any_of(rows_.begin(), rows_.end(), [](const auto& r) { return r.top_logprobs >= 0; });

  // One upload: [rows | offsets | ids | values].
  const size_t rows_at = 0, offsets_at = align_up(n * sizeof(cuda::SamplingRow));
  const size_t ids_at = offsets_at + align_up(offsets_.size() * sizeof(int32_t));
  const size_t values_at = ids_at + align_up(std::max<size_t>(nnz, 1) * sizeof(int32_t));
  const size_t inputs_bytes = values_at + align_up(std::max<size_t>(nnz, 1) * sizeof(float));
  staging_.resize(inputs_bytes);
  std::memcpy(staging_.data() + rows_at, rows_.data(), n * sizeof(cuda::SamplingRow));
  std::memcpy(staging_.data() + offsets_at, offsets_.data(), offsets_.size() * sizeof(int32_t));
  std::memcpy(staging_.data() + ids_at, ids_.data(), nnz * sizeof(int32_t));
  std::memcpy(staging_.data() + values_at, values_.data(), nnz * sizeof(float));
  MINKE_TRY(reserve(inputs_, inputs_bytes));
  MINKE_CUDA_TRY(cudaMemcpyAsync(inputs_.ptr, staging_.data(), inputs_bytes, cudaMemcpyHostToDevice, stream_));

  // Outputs and scratch: [saved | tokens | logprob | rank | top ids | top logprobs].
  const size_t saved_at = 0, tokens_at = align_up(std::max<size_t>(nnz, 1) * sizeof(float));
  const size_t logprob_at = tokens_at + align_up(n * sizeof(int32_t));
  const size_t rank_at = logprob_at + align_up(n * sizeof(float));
  const size_t top_ids_at = rank_at + align_up(n * sizeof(int64_t));
  const size_t top_lp_at = top_ids_at + align_up(n * k * sizeof(int32_t));
  MINKE_TRY(reserve(work_, top_lp_at + align_up(n * k * sizeof(float))));

  float* dlogits;
  if (logits.device() == Device::kCuda) {
    dlogits = logits.data<float>();
  } else {
    MINKE_TRY(reserve(logits_, logits.nbytes()));
    MINKE_CUDA_TRY(cudaMemcpyAsync(logits_.ptr, logits.raw(), logits.nbytes(), cudaMemcpyHostToDevice, stream_));
    dlogits = static_cast<float*>(logits_.ptr);
  }
  const auto* drows = at<const cuda::SamplingRow>(inputs_.ptr, rows_at);
  int32_t* dtokens = at<int32_t>(work_.ptr, tokens_at);
  const cuda::LogitsProcessParams processors{dlogits, drows, at<const int32_t>(inputs_.ptr, offsets_at),
                                             at<const int32_t>(inputs_.ptr, ids_at),
                                             at<const float>(inputs_.ptr, values_at), at<float>(work_.ptr, saved_at),
                                             num_rows, vocab};
  if (nnz > 0) MINKE_TRY(cuda::apply_logits_processors(processors, stream_));
  uint8_t* dkept = nullptr;
  if (debug != nullptr) {
    debug->processed.resize(n * size_t(vocab));
    MINKE_CUDA_TRY(cudaMemcpyAsync(debug->processed.data(), dlogits, n * size_t(vocab) * sizeof(float),
                                   cudaMemcpyDeviceToHost, stream_));
    MINKE_TRY(reserve(kept_, n * size_t(vocab)));
    dkept = static_cast<uint8_t*>(kept_.ptr);
  }
  // Poison the outputs: a row the kernel did not write reads back as token -1 (refused below)
  // and kept 0xff, never as a stale value of an earlier step.
  MINKE_CUDA_TRY(cudaMemsetAsync(dtokens, 0xff, n * sizeof(int32_t), stream_));
  if (dkept != nullptr) MINKE_CUDA_TRY(cudaMemsetAsync(dkept, 0xff, n * size_t(vocab), stream_));
  MINKE_TRY(cuda::sample_rows({dlogits, drows, dtokens, dkept, num_rows, vocab}, stream_));
  if (nnz > 0) MINKE_TRY(cuda::restore_logits(processors, stream_));
  if (any_logprobs)
    MINKE_TRY(cuda::compute_logprobs({dlogits, drows, dtokens, at<float>(work_.ptr, logprob_at),
                                      at<int64_t>(work_.ptr, rank_at), at<int32_t>(work_.ptr, top_ids_at),
                                      at<float>(work_.ptr, top_lp_at), num_rows, vocab},
                                     stream_));

  tokens_.resize(n);
  MINKE_CUDA_TRY(cudaMemcpyAsync(tokens_.data(), dtokens, n * sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
  if (any_logprobs) {
    logprob_.resize(n);
    rank_.resize(n);
    top_ids_.resize(n * k);
    top_logprobs_.resize(n * k);
    MINKE_CUDA_TRY(cudaMemcpyAsync(logprob_.data(), at<float>(work_.ptr, logprob_at), n * sizeof(float),
                                   cudaMemcpyDeviceToHost, stream_));
    MINKE_CUDA_TRY(cudaMemcpyAsync(rank_.data(), at<int64_t>(work_.ptr, rank_at), n * sizeof(int64_t),
                                   cudaMemcpyDeviceToHost, stream_));
    MINKE_CUDA_TRY(cudaMemcpyAsync(top_ids_.data(), at<int32_t>(work_.ptr, top_ids_at), n * k * sizeof(int32_t),
                                   cudaMemcpyDeviceToHost, stream_));
    MINKE_CUDA_TRY(cudaMemcpyAsync(top_logprobs_.data(), at<float>(work_.ptr, top_lp_at), n * k * sizeof(float),
                                   cudaMemcpyDeviceToHost, stream_));
  }
  if (debug != nullptr) {
    debug->kept.resize(n * size_t(vocab));
    MINKE_CUDA_TRY(cudaMemcpyAsync(debug->kept.data(), dkept, n * size_t(vocab), cudaMemcpyDeviceToHost, stream_));
  }
  MINKE_CUDA_TRY(cudaStreamSynchronize(stream_));
  MINKE_CUDA_TRY(cudaGetLastError());  // an asynchronous fault of any of the step's kernels

  for (size_t i = 0; i < n; ++i)  // a token outside the vocabulary must never reach the engine
    if (tokens_[i] < 0 || int64_t(tokens_[i]) >= vocab)
      return internal_error("CudaBatchSampler: row {} of {} sampled token {} outside [0, {})", i, n, tokens_[i], vocab);

  for (size_t i = 0; i < n; ++i) {
    out[i].token = tokens_[i];
    const int top_n = rows_[i].top_logprobs;
    if (top_n < 0) continue;
    TokenLogprobs lp;
    lp.token = tokens_[i];
    lp.logprob = logprob_[i];
    lp.rank = rank_[i];
    const size_t shown = size_t(std::min<int64_t>(top_n, vocab));
    for (size_t j = 0; j < shown; ++j) lp.top.emplace_back(top_ids_[i * k + j], top_logprobs_[i * k + j]);
    out[i].logprobs = std::move(lp);
  }
  return Status::ok();
}

}  // namespace minke
