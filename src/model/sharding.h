// How weights are divided among ranks: one declarative table from checkpoint
// name to split (as DeepSeek's convert.py), and one function placing experts.
// Model code never slices weights itself; it asks the ShardedLoader.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "backend/backend.h"
#include "checkpoint/checkpoint.h"
#include "model/config.h"
#include "model/weight_source.h"

namespace minke {

// One model-parallel group of tp_size ranks (DeepSeek's own layout): attention heads,
// dense and shared-expert MLP widths and the vocabulary are split across it. Routed
// experts are either split the same way (each rank holds a slice of every expert) or,
// with expert_parallel, placed whole, E / tp_size experts per rank. Either way one
// all-reduce over the group completes the MoE output.
struct ParallelConfig {
  int tp_rank = 0, tp_size = 1;
  bool expert_parallel = false;
  // Checks that every split the table implies divides evenly (heads, widths,
  // experts). Errors name the dimension and the sizes.
  Status validate(const ModelConfig& config) const;
};

enum class Split {
  kReplicated,  // every rank holds the whole tensor
  kOutputs,     // dimension 0 (a linear's output features) split in tp_size parts
  kInputs,      // dimension 1 (a linear's input features) split; partial sums are all-reduced
  kExpert,      // a routed expert's tensor: whole on expert_owner() under expert
                // parallelism, else split like a dense MLP's
};

// The table lookup for a checkpoint tensor name (e.g. "model.layers.3.mlp.experts.7.up_proj.weight").
Split split_of(std::string_view name);
// Under expert parallelism rank r holds experts [r*E/tp, (r+1)*E/tp).
int expert_owner(int64_t expert, int64_t n_experts, int tp_size);

// The part of checkpoint tensor `name` (of `full_shape`) that rank parallel.tp_rank holds:
// rows (dim 0) or columns (dim 1) [begin, end), or all of it (dim -1). An FP8 weight (fp8
// given) must split on whole scale blocks, so its weight_scale_inv splits with it.
struct ShardSlice {
  int dim = -1;
  int64_t begin = 0, end = 0;
  Shape shape_of(const Shape& full_shape) const;  // this rank's shape
};
Result<ShardSlice> shard_slice(const std::string& name, const Shape& full_shape,
                               const ParallelConfig& parallel,
                               const Fp8Quantization* fp8 = nullptr);

// Reads tensors from a checkpoint, checks their full shape against what the config
// implies, and returns this rank's shard (a zero-copy view where it is contiguous), on the host.
class ShardedLoader final : public WeightSource {
 public:
  ShardedLoader(const Checkpoint& checkpoint, const ModelConfig& config, ParallelConfig parallel)
      : ckpt_(checkpoint), config_(config), parallel_(parallel) {}

  // A non-linear tensor (norm, embedding, router weight or bias) of the given full shape.
  Result<Tensor> tensor(const std::string& name, const Shape& full_shape) const override;
  // `prefix`.weight [out, in] (plus `prefix`.weight_scale_inv when it is FP8).
  Result<LinearWeight> linear(const std::string& prefix, int64_t out, int64_t in) const override;
  bool contains(const std::string& name) const override { return ckpt_.contains(name); }
  const ParallelConfig& parallel() const override { return parallel_; }

 private:
  Result<Tensor> full(const std::string& name, const Shape& shape) const;
  const Checkpoint& ckpt_;
  const ModelConfig& config_;
  ParallelConfig parallel_;
};

// The [begin, end) part of dimension `dim` (0 or 1) of a host tensor: a view for
// dim 0, a copy for dim 1.
Tensor slice_dim(const Tensor& t, int dim, int64_t begin, int64_t end);

}  // namespace minke
