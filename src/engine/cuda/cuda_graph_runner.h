// CudaGraphRunner: the model's StepRunner on a CudaBackend, replaying CUDA graphs for decode.
// A decode step (every scheduled sequence computes one token and samples it) is padded to the
// next captured batch size and replayed as one graph launch: the host launches one graph
// instead of thousands of kernels. Padding rows are sequences of one token at position 0
// whose latents go to a page of their own (the cache has one page more than the manager
// hands out). Every other step (prefill, chunked prefill, contexts longer than the graphs
// were planned for, batches larger than the largest capture) runs eagerly, unchanged.
#pragma once

#include <memory>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "engine/model_runner.h"

namespace minke {

struct CudaGraphOptions {
  std::vector<int64_t> batch_sizes;  // the batch sizes to capture (any order)
  int64_t max_context = 8192;        // graphs serve steps whose contexts are all at most this
};

// vLLM-style capture sizes: 1, 2, 4, 8, then steps of 8 to 32, of 16 to 64, of 32 to 256,
// none above max_num_seqs.
std::vector<int64_t> default_graph_batch_sizes(int64_t max_num_seqs);

class CudaGraphRunner final : public StepRunner {
 public:
  // Captures every graph now (two forward passes per size). `cache` needs kv.num_blocks() + 1
  // pages: the last is the padding rows' page. Logits stay on the device (CudaBatchSampler).
  static Result<std::unique_ptr<CudaGraphRunner>> create(DeepseekV3& model, CudaBackend& backend,
                                                         LatentKvCache& cache, const KvCacheManager& kv,
                                                         CudaGraphOptions options);
  int64_t vocab_size() const override { return model_.config().vocab_size; }
  Result<Tensor> run(const SchedulerOutput& step) override;

  int64_t graph_steps() const { return graph_steps_; }
  int64_t eager_steps() const { return eager_steps_; }
  std::vector<int64_t> captured_sizes() const;

 private:
  struct Graph {
    int64_t batch = 0;
    std::unique_ptr<CudaBackend::CapturedGraph> exec;
    Tensor logits;            // [batch, vocab] in graph memory, rewritten by every replay
    std::vector<int> source;  // per upload: which input it copies (see Inputs::fields)
  };
  // A padded decode step's host inputs; fields() lists them in a fixed order.
  struct Inputs {
    ForwardInput in;
    std::vector<const Tensor*> fields() const;
  };

  CudaGraphRunner(DeepseekV3& model, CudaBackend& backend, LatentKvCache& cache, const KvCacheManager& kv,
                  CudaGraphOptions options);
  Status capture(int64_t batch);
  // The step padded to `batch` rows (real rows first); null step: padding only.
  Inputs padded_inputs(const SchedulerOutput* step, int64_t batch) const;
  const Graph* graph_for(const SchedulerOutput& step) const;

  DeepseekV3& model_;
  CudaBackend& backend_;
  LatentKvCache& cache_;
  const KvCacheManager& kv_;
  CudaGraphOptions options_;
  ModelRunner eager_;
  int64_t pad_page_ = 0;
  int64_t max_pages_ = 0;
  std::vector<Graph> graphs_;  // ascending batch
  int64_t graph_steps_ = 0, eager_steps_ = 0;
};

}  // namespace minke
