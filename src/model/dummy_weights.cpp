// DummyWeightSource: checkpoint-shaped random tensors made on the backend, and the plan of
// what a dummy load places (the same load_weights run over a source without memory).
#include "model/dummy_weights.h"

#include <cmath>
#include <string_view>

#include "backend/cpu/cpu_backend.h"
#include "backend/random_fill.h"

namespace minke {
namespace {

constexpr float kFp8Max = 448.0f;

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

// DeepSeek's FP8 checkpoints quantize every *_proj (kv_a_proj_with_mqa included) under
// self_attn and mlp, routed and shared experts too; embeddings, lm_head, mlp.gate, norms,
// eh_proj and shared_head.head stay BF16 (the fixtures' README lists the same split).
bool is_fp8_linear(std::string_view prefix) {
  const std::string_view last = prefix.substr(prefix.rfind('.') + 1);
  return last.find("_proj") != std::string_view::npos &&
         (prefix.find(".self_attn.") != std::string_view::npos ||
          prefix.find(".mlp.") != std::string_view::npos);
}

}  // namespace

DummyFill dummy_fill(const ModelConfig& config, const std::string& name, int64_t in) {
  const float sqrt3 = std::sqrt(3.0f);
  if (name.ends_with(".weight_scale_inv")) {
    // q uniform over [-448, 448) has std 448/sqrt(3); times c it has std 1/sqrt(in).
    const float c = sqrt3 / (kFp8Max * std::sqrt(float(in)));
    return {DType::kF32, 0.5f * c, 1.5f * c};
  }
  if (name.ends_with("norm.weight")) return {DType::kBF16, 1.0f, 1.0f};
  if (name.ends_with("e_score_correction_bias")) return {DType::kF32, -0.01f, 0.01f};
  if (name.find("embed_tokens") != std::string::npos) return {DType::kBF16, -sqrt3, sqrt3};
  if (in > 0) {
    const std::string_view prefix = std::string_view(name).substr(0, name.rfind(".weight"));
    if (config.fp8 && is_fp8_linear(prefix)) return {DType::kF8E4M3, -kFp8Max, kFp8Max};
    const float a = std::sqrt(3.0f / float(in));  // uniform [-a, a) has std 1/sqrt(in)
    return {DType::kBF16, -a, a};
  }
  return {DType::kBF16, -1.0f, 1.0f};
}

uint64_t dummy_seed(const std::string& name, const ShardSlice& slice, const ParallelConfig& parallel) {
  const uint64_t h = fnv1a(name);
  if (slice.dim < 0 || parallel.tp_size == 1) return h;
  return random_fill::mix64(h ^ ((uint64_t(parallel.tp_size) << 32) | uint64_t(parallel.tp_rank)));
}

Tensor DummyWeightSource::make(const std::string& name, const Shape& full_shape,
                               const ShardSlice& slice, DummyFill fill) const {
  Shape shape = slice.shape_of(full_shape);
  if (backend_ == nullptr) return Tensor::view_of(nullptr, fill.dtype, std::move(shape), nullptr);
  Tensor t = backend_->empty(fill.dtype, shape);
  backend_->fill_uniform(t, fill.lo, fill.hi, dummy_seed(name, slice, parallel_));
  return t;
}

Result<Tensor> DummyWeightSource::tensor(const std::string& name, const Shape& full_shape) const {
  MINKE_ASSIGN_OR_RETURN(const ShardSlice slice, shard_slice(name, full_shape, parallel_));
  return make(name, full_shape, slice, dummy_fill(config_, name, 0));
}

Result<LinearWeight> DummyWeightSource::linear(const std::string& prefix, int64_t out,
                                               int64_t in) const {
  const std::string name = prefix + ".weight";
  const DummyFill fill = dummy_fill(config_, name, in);
  const bool fp8 = fill.dtype == DType::kF8E4M3;
  MINKE_ASSIGN_OR_RETURN(const ShardSlice slice,
                         shard_slice(name, {out, in}, parallel_, fp8 ? &*config_.fp8 : nullptr));
  LinearWeight w;
  w.weight = make(name, {out, in}, slice, fill);
  if (!fp8) return w;
  w.block_n = config_.fp8->block_n;
  w.block_k = config_.fp8->block_k;
  // The scales split with the weight, on whole blocks (shard_slice checked).
  ShardSlice blocks = slice;
  if (slice.dim >= 0) {
    const int64_t block = slice.dim == 0 ? w.block_n : w.block_k;
    blocks.begin /= block;
    blocks.end /= block;
  }
  const std::string scale = prefix + ".weight_scale_inv";
  w.scale_inv = make(scale, {(out + w.block_n - 1) / w.block_n, (in + w.block_k - 1) / w.block_k},
                     blocks, dummy_fill(config_, scale, in));
  return w;
}

bool DummyWeightSource::contains(const std::string& name) const {
  constexpr std::string_view kLayers = "model.layers.";
  if (!name.starts_with(kLayers)) return true;
  int64_t layer = 0;
  size_t i = kLayers.size();
  if (i >= name.size() || name[i] < '0' || name[i] > '9') return false;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && layer < (int64_t(1) << 40); ++i)
    layer = layer * 10 + (name[i] - '0');
  return layer < config_.num_total_layers();
}

Result<std::vector<TensorInfo>> plan_dummy_weights(const ModelConfig& config,
                                                   const LoadOptions& options) {
  const DummyWeightSource planner(config, options.parallel, nullptr);
  LoadOptions quiet = options;
  quiet.on_layer_loaded = nullptr;
  CpuBackend host(1);  // never touched: the planner's tensors have no memory and need no upload
  std::vector<TensorInfo> plan;
  MINKE_TRY(load_weights(planner, config, quiet, host, &plan).status());
  return plan;
}

int64_t total_bytes(const std::vector<TensorInfo>& tensors) {
  int64_t bytes = 0;
  for (const TensorInfo& t : tensors) bytes += int64_t(t.nbytes());
  return bytes;
}

}  // namespace minke
