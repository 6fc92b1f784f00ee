// CudaGraphRunner: capture per batch size, padded decode inputs, replay (see the header).
#include "engine/cuda/cuda_graph_runner.h"

#include <algorithm>
#include <cstring>

namespace minke {

std::vector<int64_t> default_graph_batch_sizes(int64_t max_num_seqs) {
  std::vector<int64_t> sizes{1, 2, 4};
  for (int64_t b = 8; b <= 256; b += b < 32 ? 8 : b < 64 ? 16 : 32) sizes.push_back(b);
  std::erase_if(sizes, [&](int64_t b) { return b > max_num_seqs; });
  if (sizes.empty() || (sizes.back() < max_num_seqs && max_num_seqs <= 256)) sizes.push_back(max_num_seqs);
  return sizes;
}

CudaGraphRunner::CudaGraphRunner(DeepseekV3& model, CudaBackend& backend, LatentKvCache& cache,
                                 const KvCacheManager& kv, CudaGraphOptions options)
    : model_(model),
      backend_(backend),
      cache_(cache),
      kv_(kv),
      options_(std::move(options)),
      eager_(model, backend, cache, kv, ModelRunnerOptions{.logits_on_device = true}),
      pad_page_(kv.num_blocks()),
      max_pages_((options_.max_context + kv.block_size() - 1) / kv.block_size()) {}

Result<std::unique_ptr<CudaGraphRunner>> CudaGraphRunner::create(DeepseekV3& model, CudaBackend& backend,
                                                                 LatentKvCache& cache, const KvCacheManager& kv,
                                                                 CudaGraphOptions options) {
  if (cache.num_pages() < kv.num_blocks() + 1)
    return invalid_argument("CUDA graphs need a cache page for padding rows: {} pages for {} blocks",
                            cache.num_pages(), kv.num_blocks());
  if (options.max_context <= 0) return invalid_argument("CUDA graphs: max_context {}", options.max_context);
  std::unique_ptr<CudaGraphRunner> r(new CudaGraphRunner(model, backend, cache, kv, std::move(options)));
  std::vector<int64_t> sizes = r->options_.batch_sizes;
  std::sort(sizes.begin(), sizes.end(), std::greater<>());  // the largest first: it sizes the graph memory
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  for (int64_t b : sizes) {
    if (b <= 0) return invalid_argument("CUDA graph batch size {}", b);
    MINKE_TRY(r->capture(b).with_context(fmt::format("capturing the decode graph of batch {}", b)));
  }
  std::sort(r->graphs_.begin(), r->graphs_.end(), [](const Graph& a, const Graph& b) { return a.batch < b.batch; });
  return r;
}

std::vector<int64_t> CudaGraphRunner::captured_sizes() const {
  std::vector<int64_t> out;
  for (const Graph& g : graphs_) out.push_back(g.batch);
  return out;
}

std::vector<const Tensor*> CudaGraphRunner::Inputs::fields() const {
  return {&in.token_ids,          &in.batch.positions,    &in.batch.slot_mapping, &in.batch.seq_starts,
          &in.batch.context_lens, &in.batch.block_table, &in.logit_rows};
}

CudaGraphRunner::Inputs CudaGraphRunner::padded_inputs(const SchedulerOutput* step, int64_t batch) const {
  const int64_t page = kv_.block_size();
  Inputs x;
  ForwardInput& in = x.in;
  in.token_ids = Tensor::zeros(DType::kI32, {batch});
  in.logit_rows = Tensor::zeros(DType::kI32, {batch});
  AttentionBatch& b = in.batch;
  b.page_size = page;
  b.positions = Tensor::zeros(DType::kI32, {batch});
  b.slot_mapping = Tensor::zeros(DType::kI64, {batch});
  b.seq_starts = Tensor::zeros(DType::kI32, {batch + 1});
  b.context_lens = Tensor::zeros(DType::kI32, {batch});
  b.block_table = Tensor::zeros(DType::kI32, {batch, max_pages_});
  int32_t* table = b.block_table.data<int32_t>();
  std::fill(table, table + batch * max_pages_, int32_t(pad_page_));
  const int64_t real = step != nullptr ? int64_t(step->scheduled.size()) : 0;
  for (int64_t i = 0; i < batch; ++i) {
    in.logit_rows.data<int32_t>()[i] = int32_t(i);
    b.seq_starts.data<int32_t>()[i + 1] = int32_t(i + 1);
    if (i >= real) {  // padding: one token at position 0 on the padding page
      b.context_lens.data<int32_t>()[i] = 1;
      b.slot_mapping.data<int64_t>()[i] = pad_page_ * page;
      continue;
    }
    const ScheduledSeq& s = step->scheduled[i];
    const auto pages = kv_.block_table(s.seq->id);
    std::copy_n(pages.begin(), std::min<int64_t>(int64_t(pages.size()), max_pages_), table + i * max_pages_);
    in.token_ids.data<int32_t>()[i] = s.seq->tokens[s.start];
    b.positions.data<int32_t>()[i] = int32_t(s.start);
    b.context_lens.data<int32_t>()[i] = int32_t(s.start + 1);
    b.slot_mapping.data<int64_t>()[i] = int64_t(pages[s.start / page]) * page + s.start % page;
  }
  return x;
}

Status CudaGraphRunner::capture(int64_t batch) {
  Inputs x = padded_inputs(nullptr, batch);
  // Once eagerly: GEMM plans and scratch, MoE tables and the like exist before the capture.
  MINKE_TRY(model_.forward(x.in, cache_.layers()).status());
  MINKE_TRY(backend_.begin_capture(options_.max_context));
  Result<ForwardOutput> out = model_.forward(x.in, cache_.layers());
  Result<std::unique_ptr<CudaBackend::CapturedGraph>> exec = backend_.end_capture();
  MINKE_TRY(out.status());
  MINKE_TRY(exec.status());
  Graph g;
  g.batch = batch;
  g.exec = std::move(exec).value();
  g.logits = out->logits;
  // Which input each upload copied: matched by the host address it read during the capture.
  const std::vector<const Tensor*> fields = x.fields();
  for (const CudaBackend::GraphUpload& u : g.exec->uploads()) {
    int found = -1;
    for (size_t f = 0; f < fields.size() && found < 0; ++f)
      if (fields[f]->raw() == u.captured_source && fields[f]->nbytes() == u.bytes) found = int(f);
    if (found < 0) return internal_error("the forward pass uploaded a tensor that is not one of its inputs");
    g.source.push_back(found);
  }
  graphs_.push_back(std::move(g));
  return Status::ok();
}

const CudaGraphRunner::Graph* CudaGraphRunner::graph_for(const SchedulerOutput& step) const {
  const int64_t n = int64_t(step.scheduled.size());
  if (n == 0 || step.num_tokens != n) return nullptr;
  for (const ScheduledSeq& s : step.scheduled) {
    if (s.num_tokens != 1 || !s.sample || s.start + 1 > options_.max_context) return nullptr;
    if (s.seq->tokens[s.start] < 0 || s.seq->tokens[s.start] >= model_.config().vocab_size)
      return nullptr;  // the eager path reports it
  }
  for (const Graph& g : graphs_)
    if (g.batch >= n) return &g;
  return nullptr;
}

Result<Tensor> CudaGraphRunner::run(const SchedulerOutput& step) {
  const Graph* g = graph_for(step);
  if (g == nullptr) {
    ++eager_steps_;
    return eager_.run(step);
  }
  const Inputs x = padded_inputs(&step, g->batch);
  const std::vector<const Tensor*> fields = x.fields();
  // The staging buffers are free: the last replay finished before run() returned (take_error).
  for (size_t i = 0; i < g->source.size(); ++i) {
    const CudaBackend::GraphUpload& u = g->exec->uploads()[i];
    std::memcpy(u.staging, fields[size_t(g->source[i])]->raw(), u.bytes);
  }
  MINKE_TRY(backend_.replay(*g->exec));
  MINKE_TRY(backend_.take_error());
  ++graph_steps_;
  return g->logits.slice_rows(0, int64_t(step.scheduled.size()));
}

}  // namespace minke
