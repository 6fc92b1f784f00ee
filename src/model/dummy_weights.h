// --load-format dummy (vLLM's): a WeightSource that makes every tensor a checkpoint for this
// config would hold (same names, this rank's shard shapes, the checkpoint's dtypes) directly on
// the backend and fills it with Backend::fill_uniform, one seed per tensor name. No checkpoint
// is read, so full-width models run from a config.json alone (benchmarks, memory planning).
#pragma once

#include <string>
#include <vector>

#include "model/sharding.h"
#include "model/weights.h"

namespace minke {

// How a dummy tensor is made: its dtype and the range its values are drawn from.
// - linears: FP8 e4m3 (with F32 128x128 weight_scale_inv) where DeepSeek's FP8 checkpoints
//   quantize (every *_proj under self_attn and mlp) when config.json has an fp8
//   quantization_config, else BF16. BF16 weights are uniform with std 1/sqrt(in), so y = W x
//   keeps x's scale; FP8 bytes span [-448, 448) and scales are around sqrt(3) / (448 sqrt(in)),
//   the same std once dequantized.
// - norms 1 (a constant); embeddings std 1; e_score_correction_bias F32 in [-0.01, 0.01): with
//   router logits of std ~1 routing is random per token and balanced, never degenerate.
struct DummyFill {
  DType dtype = DType::kBF16;
  float lo = 0.0f, hi = 0.0f;
};
// `name` is the full checkpoint name ("...weight", "...weight_scale_inv"); `in` the full
// input width of a linear (0 for other tensors).
DummyFill dummy_fill(const ModelConfig& config, const std::string& name, int64_t in);

// The seed of a dummy tensor: a hash of its name, mixed with the rank for tensors split across
// a tensor-parallel group (each rank's shard is its own random tensor: a TP group runs a valid
// model, though not the same one as a single rank).
uint64_t dummy_seed(const std::string& name, const ShardSlice& slice, const ParallelConfig& parallel);

class DummyWeightSource final : public WeightSource {
 public:
  // backend == nullptr: a planning source (has_data() false) whose tensors have shapes and
  // dtypes but no memory. `config` must outlive the source.
  DummyWeightSource(const ModelConfig& config, ParallelConfig parallel, Backend* backend)
      : config_(config), parallel_(parallel), backend_(backend) {}

  Result<Tensor> tensor(const std::string& name, const Shape& full_shape) const override;
  Result<LinearWeight> linear(const std::string& prefix, int64_t out, int64_t in) const override;
  // Every name of a layer the config has (MTP layers included).
  bool contains(const std::string& name) const override;
  const ParallelConfig& parallel() const override { return parallel_; }
  bool has_data() const override { return backend_ != nullptr; }

 private:
  Tensor make(const std::string& name, const Shape& shape, const ShardSlice& slice, DummyFill fill) const;

  const ModelConfig& config_;
  ParallelConfig parallel_;
  Backend* backend_;
};

// What loading `config` with --load-format dummy places on the backend for options.parallel's
// rank: every tensor, checkpoint and derived, in load order; nothing is allocated.
Result<std::vector<TensorInfo>> plan_dummy_weights(const ModelConfig& config, const LoadOptions& options);

// The bytes of a plan (or of a load's manifest).
int64_t total_bytes(const std::vector<TensorInfo>& tensors);

}  // namespace minke
