// WeightSource: where load_weights gets each tensor, by checkpoint name, already cut to this
// rank's shard. Two implementations: ShardedLoader (a checkpoint on disk, host tensors) and
// DummyWeightSource (--load-format dummy: tensors made on the backend and filled with random
// values). Returned tensors live on the host or already on the backend; load_weights uploads
// only the former.
#pragma once

#include <string>

#include "backend/backend.h"

namespace minke {

struct ParallelConfig;  // model/sharding.h

class WeightSource {
 public:
  virtual ~WeightSource() = default;

  // A non-linear tensor (norm, embedding, router bias) of the given full shape.
  virtual Result<Tensor> tensor(const std::string& name, const Shape& full_shape) const = 0;
  // `prefix`.weight [out, in] (plus `prefix`.weight_scale_inv when it is FP8).
  virtual Result<LinearWeight> linear(const std::string& prefix, int64_t out, int64_t in) const = 0;
  virtual bool contains(const std::string& name) const = 0;
  virtual const ParallelConfig& parallel() const = 0;
  // False for a planning source whose tensors have shapes and dtypes but no memory: the
  // loader then derives nothing from values (see plan_dummy_weights).
  virtual bool has_data() const { return true; }
};

}  // namespace minke
