// DeepseekV3 forward passes (see deepseek_v3.h); layer math lives in mla.cpp and ffn.cpp.
#include "model/deepseek_v3.h"

#include "model/ffn.h"
#include "model/mla.h"

namespace minke {

DeepseekV3::DeepseekV3(ModelConfig config, ModelWeights weights, Backend& backend,
                       Communicator& comm, ModelOptions options)
    : config_(std::move(config)),
      weights_(std::move(weights)),
      backend_(backend),
      comm_(comm),
      options_(options),
      rope_(make_rope_params(config_)) {
  Tensor host = Tensor::zeros(DType::kF32, {int64_t(rope_.inv_freq.size())});
  std::copy(rope_.inv_freq.begin(), rope_.inv_freq.end(), host.data<float>());
  inv_freq_ = backend_.upload(host);
  router_.scoring = config_.scoring_func;
  router_.method = config_.topk_method;
  router_.n_experts = config_.n_routed_experts;
  router_.n_group = config_.n_group;
  router_.topk_group = config_.topk_group;
  router_.top_k = config_.num_experts_per_tok;
  router_.norm_topk_prob = config_.norm_topk_prob;
  router_.routed_scaling_factor = float(config_.routed_scaling_factor);
}

LayerContext DeepseekV3::layer_context() const {
  return LayerContext{backend_, comm_, config_, rope_, inv_freq_, router_};
}

Status DeepseekV3::validate(const ForwardInput& in, std::span<Tensor> kv_cache,
                            int64_t layer) const {
  const AttentionBatch& b = in.batch;
  const auto is = [](const Tensor& t, DType d, int nd) {
    return t.defined() && t.dtype() == d && t.ndim() == nd && t.device() == Device::kCpu;
  };
  if (!is(in.token_ids, DType::kI32, 1) || in.token_ids.dim(0) == 0)
    return invalid_argument("forward: token_ids must be a non-empty host I32 vector, got {}",
                            in.token_ids.describe());
  const int64_t t = in.token_ids.dim(0);
  if (!is(b.positions, DType::kI32, 1) || b.positions.dim(0) != t ||
      !is(b.slot_mapping, DType::kI64, 1) || b.slot_mapping.dim(0) != t ||
      !is(b.context_lens, DType::kI32, 1) || !is(b.seq_starts, DType::kI32, 1) ||
      b.seq_starts.dim(0) != b.context_lens.dim(0) + 1 || !is(b.block_table, DType::kI32, 2) ||
      b.block_table.dim(0) != b.context_lens.dim(0) || b.page_size <= 0)
    return invalid_argument("forward: malformed attention batch for {} tokens", t);
  const int32_t* starts = b.seq_starts.data<int32_t>();
  const int32_t* pos = b.positions.data<int32_t>();
  if (starts[0] != 0 || starts[b.num_seqs()] != t)
    return invalid_argument("forward: seq_starts must run from 0 to {}", t);
  for (int64_t s = 0; s < b.num_seqs(); ++s) {
    const int32_t ctx = b.context_lens.data<int32_t>()[s];
    if (starts[s + 1] < starts[s] || ctx > b.block_table.dim(1) * b.page_size)
      return invalid_argument("forward: sequence {} does not fit its pages", s);
    for (int32_t i = starts[s]; i < starts[s + 1]; ++i)
      if (pos[i] < 0 || pos[i] >= ctx)
        return invalid_argument("forward: token {} has position {} outside its context of {}", i,
                                pos[i], ctx);
  }
  if (!is(in.logit_rows, DType::kI32, 1))
    return invalid_argument("forward: logit_rows must be a host I32 vector");
  for (int64_t i = 0; i < in.logit_rows.dim(0); ++i) {
    const int32_t r = in.logit_rows.data<int32_t>()[i];
    if (r < 0 || r >= t) return invalid_argument("forward: logit row {} of {} tokens", r, t);
  }
  if (int64_t(kv_cache.size()) <= layer)
    return invalid_argument("forward: {} cache layers given, layer {} needed", kv_cache.size(),
                            layer);
  for (int64_t i = 0; i <= layer; ++i) {
    const Tensor& cache = kv_cache[i];
    if (!cache.defined() || cache.ndim() != 3 || cache.dim(1) != b.page_size ||
        cache.dim(2) != latent_dim() || cache.device() != backend_.device())
      return invalid_argument("forward: cache layer {} is {}; expected [pages, {}, {}]", i,
                              cache.describe(), b.page_size, latent_dim());
    // Every slot written must lie inside the cache.
    const int64_t slots = cache.dim(0) * cache.dim(1);
    for (int64_t j = 0; j < t; ++j)
      if (b.slot_mapping.data<int64_t>()[j] < 0 || b.slot_mapping.data<int64_t>()[j] >= slots)
        return invalid_argument("forward: slot {} outside a cache of {} slots",
                                b.slot_mapping.data<int64_t>()[j], slots);
  }
  return Status::ok();
}

StepInputs DeepseekV3::step_inputs(const ForwardInput& in) const {
  bool absorbed = options_.mla_mode == MlaMode::kAbsorbed;
  if (options_.mla_mode == MlaMode::kAuto)  // decode: one new token per sequence
    absorbed = in.batch.num_seqs() == in.batch.num_tokens();
  return StepInputs{in.batch, backend_.upload(in.batch.positions), absorbed};
}

Status DeepseekV3::decoder_layer(const DecoderLayerWeights& w, Tensor& x, const StepInputs& step,
                                 Tensor& cache) {
  const LayerContext ctx = layer_context();
  Tensor h = backend_.empty(backend_.activation_dtype(), x.shape());
  backend_.rms_norm(x, w.input_layernorm, float(config_.rms_norm_eps), h);
  MINKE_ASSIGN_OR_RETURN(Tensor attn, mla_forward(ctx, w.attn, h, step, cache));
  backend_.add_rms_norm(x, attn, w.post_attention_layernorm, float(config_.rms_norm_eps), h);
  MINKE_ASSIGN_OR_RETURN(Tensor ffn, ffn_forward(ctx, w, h));
  backend_.add_inplace(x, ffn);
  return Status::ok();
}

Result<Tensor> DeepseekV3::logits(const Tensor& x, const Tensor& rows, const Tensor& norm,
                                  const LinearWeight& head) {
  const int64_t n = rows.dim(0), d = config_.hidden_size;
  Tensor picked = backend_.empty(backend_.activation_dtype(), {n, d});
  backend_.gather_rows(x, backend_.upload(rows), picked);
  backend_.rms_norm(picked, norm, float(config_.rms_norm_eps), picked);
  Tensor local = backend_.empty(DType::kF32, {n, head.out_features()});
  backend_.linear(picked, head, local);
  if (head.out_features() == config_.vocab_size) return local;
  Tensor all = backend_.empty(DType::kF32, {n, config_.vocab_size});  // vocab-split head
  MINKE_TRY(comm_.all_gather_cols(local, all));
  return all;
}

Result<ForwardOutput> DeepseekV3::forward(const ForwardInput& in, std::span<Tensor> kv_cache) {
  MINKE_TRY(validate(in, kv_cache, config_.num_hidden_layers - 1));
  const StepInputs step = step_inputs(in);
  const int64_t t = in.token_ids.dim(0);
  Tensor x = backend_.empty(backend_.activation_dtype(), {t, config_.hidden_size});
  MINKE_TRY(backend_.embedding(backend_.upload(in.token_ids), weights_.embed_tokens, x));
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i)
    MINKE_TRY(decoder_layer(weights_.layers[i], x, step, kv_cache[i]));
  ForwardOutput out;
  MINKE_ASSIGN_OR_RETURN(out.logits, logits(x, in.logit_rows, weights_.norm, weights_.lm_head));
  out.hidden = x;
  MINKE_TRY(backend_.take_error());  // a device fault in any op of the pass
  return out;
}

Status DeepseekV3::forward_layer(int64_t layer, const ForwardInput& in, Tensor& x,
                                 std::span<Tensor> kv_cache) {
  if (layer < 0 || layer >= config_.num_hidden_layers)
    return invalid_argument("forward_layer: layer {} of {}", layer, config_.num_hidden_layers);
  MINKE_TRY(validate(in, kv_cache, layer));
  if (!x.defined() || x.ndim() != 2 || x.dim(0) != in.token_ids.dim(0) ||
      x.dim(1) != config_.hidden_size || x.dtype() != backend_.activation_dtype() ||
      x.device() != backend_.device())
    return invalid_argument("forward_layer: x is {}; expected [{}, {}] on the backend",
                            x.describe(), in.token_ids.dim(0), config_.hidden_size);
  const StepInputs step = step_inputs(in);
  return decoder_layer(weights_.layers[layer], x, step, kv_cache[layer]);
}

Result<ForwardOutput> DeepseekV3::forward_mtp(int64_t k, const ForwardInput& in,
                                              const Tensor& hidden, std::span<Tensor> kv_cache) {
  if (k < 0 || k >= num_mtp_modules())
    return invalid_argument("MTP module {} requested; the model has {}", k, num_mtp_modules());
  const int64_t layer = config_.num_hidden_layers + k;
  MINKE_TRY(validate(in, kv_cache, layer));
  const int64_t t = in.token_ids.dim(0), d = config_.hidden_size;
  if (hidden.ndim() != 2 || hidden.dim(0) != t || hidden.dim(1) != d)
    return invalid_argument("forward_mtp: hidden {} for {} tokens", hidden.describe(), t);
  const MtpWeights& m = weights_.mtp[k];
  const StepInputs step = step_inputs(in);
  const DType act = backend_.activation_dtype();
  const float eps = float(config_.rms_norm_eps);
  // x = eh_proj([enorm(embed(t_{i+1})) | hnorm(h_i)])
  Tensor e = backend_.empty(act, {t, d});
  MINKE_TRY(backend_.embedding(backend_.upload(in.token_ids), m.embed_tokens, e));
  backend_.rms_norm(e, m.enorm, eps, e);
  Tensor h = backend_.empty(act, {t, d});
  backend_.rms_norm(hidden, m.hnorm, eps, h);
  Tensor cat = backend_.empty(act, {t, 2 * d});
  backend_.copy_cols(e, 0, cat, 0, d);
  backend_.copy_cols(h, 0, cat, d, d);
  Tensor x = backend_.empty(act, {t, d});
  backend_.linear(cat, m.eh_proj, x);
  MINKE_TRY(decoder_layer(m.block, x, step, kv_cache[layer]));
  ForwardOutput out;
  MINKE_ASSIGN_OR_RETURN(out.logits, logits(x, in.logit_rows, m.shared_head_norm, m.shared_head_head));
  out.hidden = x;
  MINKE_TRY(backend_.take_error());
  return out;
}

}  // namespace minke
