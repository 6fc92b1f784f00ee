// The sharding table and the loader that applies it.
#include "model/sharding.h"

#include <array>
#include <cstring>
#include <utility>

namespace minke {
namespace {

// Checked in order; the first suffix or infix that matches wins.
struct ShardRule {
  std::string_view pattern;
  Split split;
};
constexpr std::array<ShardRule, 11> kShardTable = {{
    {".mlp.experts.", Split::kExpert},
    {"self_attn.q_b_proj.", Split::kOutputs},
    {"self_attn.q_proj.", Split::kOutputs},
    {"self_attn.kv_b_proj.", Split::kOutputs},
    {"self_attn.o_proj.", Split::kInputs},
    {"gate_proj.", Split::kOutputs},  // dense MLP and shared experts
    {"up_proj.", Split::kOutputs},
    {"down_proj.", Split::kInputs},
    {"lm_head.", Split::kOutputs},
    {"shared_head.head.", Split::kOutputs},
    // q_a_proj, kv_a_proj_with_mqa, norms, embeddings, mlp.gate, eh_proj: replicated.
    {"", Split::kReplicated},
}};

}  // namespace

Split split_of(std::string_view name) {
  for (const auto& rule : kShardTable)
    if (name.find(rule.pattern) != std::string_view::npos) return rule.split;
  return Split::kReplicated;
}

int expert_owner(int64_t expert, int64_t n_experts, int tp_size) {
  return int(expert / (n_experts / tp_size));
}

Status ParallelConfig::validate(const ModelConfig& c) const {
  if (tp_size < 1 || tp_rank < 0 || tp_rank >= tp_size)
    return invalid_argument("tensor-parallel rank {} of {}", tp_rank, tp_size);
  const std::pair<const char*, int64_t> divided[] = {
      {"num_attention_heads", c.num_attention_heads},
      {"intermediate_size", c.intermediate_size},
      {"vocab_size", c.vocab_size},
      {"n_shared_experts * moe_intermediate_size", c.n_shared_experts * c.moe_intermediate_size},
      {expert_parallel ? "n_routed_experts" : "moe_intermediate_size",
       expert_parallel ? c.n_routed_experts : c.moe_intermediate_size}};
  for (const auto& [field, value] : divided)
    if (value % tp_size != 0)
      return invalid_argument("{} = {} is not divisible by the tensor-parallel size {}", field,
                              value, tp_size);
  return Status::ok();
}

Tensor slice_dim(const Tensor& t, int dim, int64_t begin, int64_t end) {
  if (dim == 0) return t.slice_rows(begin, end);
  MINKE_CHECK(dim == 1 && t.ndim() == 2 && 0 <= begin && begin <= end && end <= t.dim(1),
              "slice_dim({}, {}, {}) of {}", dim, begin, end, t.describe());
  Tensor out = Tensor::zeros(t.dtype(), {t.dim(0), end - begin});
  const size_t es = dtype_size(t.dtype());
  for (int64_t r = 0; r < t.dim(0); ++r)
    std::memcpy(static_cast<std::byte*>(out.raw()) + size_t(r * (end - begin)) * es,
                static_cast<const std::byte*>(t.raw()) + size_t(r * t.dim(1) + begin) * es,
                size_t(end - begin) * es);
  return out;
}

Result<Tensor> ShardedLoader::full(const std::string& name, const Shape& shape) const {
  MINKE_ASSIGN_OR_RETURN(Tensor t, ckpt_.tensor(name));
  if (t.shape() != shape)
    return corrupt("tensor '{}' has shape {} but config.json implies {}", name,
                   shape_to_string(t.shape()), shape_to_string(shape));
  return t;
}

Shape ShardSlice::shape_of(const Shape& full_shape) const {
  Shape shape = full_shape;
  if (dim >= 0) shape[size_t(dim)] = end - begin;
  return shape;
}

Result<ShardSlice> shard_slice(const std::string& name, const Shape& full_shape,
                               const ParallelConfig& parallel, const Fp8Quantization* fp8) {
  Split split = split_of(name);
  if (split == Split::kExpert && !parallel.expert_parallel)  // TP inside every expert
    split = name.find("down_proj.") != std::string::npos ? Split::kInputs : Split::kOutputs;
  if (parallel.tp_size == 1 || (split != Split::kOutputs && split != Split::kInputs)) return ShardSlice{};
  ShardSlice s;
  s.dim = split == Split::kOutputs ? 0 : 1;
  MINKE_CHECK(int(full_shape.size()) > s.dim, "'{}' of shape {} split along dim {}", name,
              shape_to_string(full_shape), s.dim);
  const int64_t part = full_shape[size_t(s.dim)] / parallel.tp_size;
  s.begin = part * parallel.tp_rank;
  s.end = s.begin + part;
  if (fp8 != nullptr) {
    const int64_t block = s.dim == 0 ? fp8->block_n : fp8->block_k;
    if (part % block != 0)
      return unsupported("'{}': a tensor-parallel shard of {} is not a whole number of {}-wide "
                         "FP8 blocks", name, part, block);
  }
  return s;
}

Result<Tensor> ShardedLoader::tensor(const std::string& name, const Shape& full_shape) const {
  MINKE_ASSIGN_OR_RETURN(Tensor t, full(name, full_shape));
  if (!is_float(t.dtype()) || t.dtype() == DType::kF8E4M3)
    return unsupported("tensor '{}' has dtype {}; expected F32, BF16 or F16", name,
                       dtype_name(t.dtype()));
  MINKE_ASSIGN_OR_RETURN(const ShardSlice s, shard_slice(name, full_shape, parallel_));
  return s.dim < 0 ? t : slice_dim(t, s.dim, s.begin, s.end);
}

Result<LinearWeight> ShardedLoader::linear(const std::string& prefix, int64_t out,
                                           int64_t in) const {
  LinearWeight w;
  const std::string name = prefix + ".weight";
  MINKE_ASSIGN_OR_RETURN(w.weight, full(name, {out, in}));
  const bool fp8 = w.weight.dtype() == DType::kF8E4M3;
  if (fp8) {
    if (!config_.fp8)
      return corrupt("tensor '{}' is F8_E4M3 but config.json has no fp8 quantization_config", name);
    w.block_n = config_.fp8->block_n;
    w.block_k = config_.fp8->block_k;
    const std::string scale_name = prefix + ".weight_scale_inv";
    if (!ckpt_.contains(scale_name))
      return corrupt("FP8 tensor '{}' has no '{}' next to it", name, scale_name);
    MINKE_ASSIGN_OR_RETURN(w.scale_inv, full(scale_name, {(out + w.block_n - 1) / w.block_n,
                                                          (in + w.block_k - 1) / w.block_k}));
    if (w.scale_inv.dtype() != DType::kF32)
      return unsupported("'{}' has dtype {}; expected F32", scale_name,
                         dtype_name(w.scale_inv.dtype()));
  } else if (!is_float(w.weight.dtype())) {
    return unsupported("tensor '{}' has dtype {}; expected a float type", name,
                       dtype_name(w.weight.dtype()));
  }
  MINKE_ASSIGN_OR_RETURN(const ShardSlice s,
                         shard_slice(name, {out, in}, parallel_, fp8 ? &*config_.fp8 : nullptr));
  if (s.dim < 0) return w;
  if (fp8) {
    const int64_t block = s.dim == 0 ? w.block_n : w.block_k;
    w.scale_inv = slice_dim(w.scale_inv, s.dim, s.begin / block, s.end / block);
  }
  w.weight = slice_dim(w.weight, s.dim, s.begin, s.end);
  return w;
}

}  // namespace minke
