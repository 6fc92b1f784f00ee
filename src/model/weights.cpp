// load_weights: checkpoint names -> ModelWeights, one layer at a time, through the
// ShardedLoader (shape checks, TP/EP shards) and onto the backend.
#include "model/weights.h"

#include <fmt/format.h>

#include "backend/host_dequant.h"

#include <algorithm>

namespace minke {
namespace {

struct Loader {
  const ShardedLoader& shards;
  const ModelConfig& c;
  const LoadOptions& opt;
  Backend& backend;

  Result<Tensor> tensor(const std::string& name, const Shape& shape) const {
    MINKE_ASSIGN_OR_RETURN(Tensor t, shards.tensor(name, shape));
    return backend.upload(t);
  }

  Result<LinearWeight> linear(const std::string& prefix, int64_t out, int64_t in) const {
    MINKE_ASSIGN_OR_RETURN(LinearWeight w, shards.linear(prefix, out, in));
    w.quantize_input = opt.fp8_activations != Fp8ActivationQuant::kNone &&
                       w.weight.dtype() == DType::kF8E4M3;
    w.weight = backend.upload(w.weight);
    if (w.scale_inv.defined()) w.scale_inv = backend.upload(w.scale_inv);
    return w;
  }

  Result<MlpWeights> mlp(const std::string& prefix, int64_t inter) const {
    MlpWeights m;
    MINKE_ASSIGN_OR_RETURN(m.gate_proj, linear(prefix + ".gate_proj", inter, c.hidden_size));
    MINKE_ASSIGN_OR_RETURN(m.up_proj, linear(prefix + ".up_proj", inter, c.hidden_size));
    MINKE_ASSIGN_OR_RETURN(m.down_proj, linear(prefix + ".down_proj", c.hidden_size, inter));
    return m;
  }

  Result<MlaWeights> mla(const std::string& p) const {
    MlaWeights a;
    const int64_t h = c.num_attention_heads, hd = c.qk_head_dim(), d = c.hidden_size;
    const int64_t l = c.kv_lora_rank, nope = c.qk_nope_head_dim, v = c.v_head_dim;
    if (c.q_lora_rank) {
      MINKE_ASSIGN_OR_RETURN(a.q_a_proj, linear(p + ".q_a_proj", *c.q_lora_rank, d));
      MINKE_ASSIGN_OR_RETURN(a.q_a_layernorm, tensor(p + ".q_a_layernorm.weight", {*c.q_lora_rank}));
      MINKE_ASSIGN_OR_RETURN(a.q_b_proj, linear(p + ".q_b_proj", h * hd, *c.q_lora_rank));
    } else {
      MINKE_ASSIGN_OR_RETURN(a.q_proj, linear(p + ".q_proj", h * hd, d));
    }
    MINKE_ASSIGN_OR_RETURN(a.kv_a_proj_with_mqa, linear(p + ".kv_a_proj_with_mqa", c.kv_latent_dim(), d));
    MINKE_ASSIGN_OR_RETURN(a.kv_a_layernorm, tensor(p + ".kv_a_layernorm.weight", {l}));
    MINKE_ASSIGN_OR_RETURN(LinearWeight kv_b, shards.linear(p + ".kv_b_proj", h * (nope + v), l));
    MINKE_ASSIGN_OR_RETURN(a.o_proj, linear(p + ".o_proj", d, h * v));

    // Absorbed-path weights from this rank's heads of kv_b_proj, rows [head][nope | v].
    const int64_t heads = kv_b.out_features() / (nope + v);
    const Tensor w = dequantize_host(kv_b);
    Tensor uk_t = Tensor::zeros(DType::kF32, {heads, l, nope});
    Tensor uv = Tensor::zeros(DType::kF32, {heads, v, l});
    const float* src = w.data<float>();
    for (int64_t hh = 0; hh < heads; ++hh) {
      for (int64_t i = 0; i < nope; ++i)
        for (int64_t j = 0; j < l; ++j)
          uk_t.data<float>()[(hh * l + j) * nope + i] = src[(hh * (nope + v) + i) * l + j];
      for (int64_t i = 0; i < v; ++i)
        for (int64_t j = 0; j < l; ++j)
          uv.data<float>()[(hh * v + i) * l + j] = src[(hh * (nope + v) + nope + i) * l + j];
    }
    a.w_uk_t = backend.upload(uk_t);
    a.w_uv = backend.upload(uv);
    a.quantize_latent = opt.fp8_activations != Fp8ActivationQuant::kNone &&
                        kv_b.weight.dtype() == DType::kF8E4M3;
    kv_b.quantize_input = false;  // the cache already holds the fake-quantized latent
    kv_b.weight = backend.upload(kv_b.weight);
    if (kv_b.scale_inv.defined()) kv_b.scale_inv = backend.upload(kv_b.scale_inv);
    a.kv_b_proj = kv_b;
    return a;
  }

  Result<MoeWeights> moe(const std::string& p) const {
    MoeWeights m;
    const int64_t e = c.n_routed_experts;
    MINKE_ASSIGN_OR_RETURN(m.router, linear(p + ".gate", e, c.hidden_size));
    m.router.quantize_input = false;
    if (m.router.weight.dtype() == DType::kF8E4M3)
      return corrupt("router '{}.gate.weight' is FP8; DeepSeek checkpoints keep it unquantized", p);
    if (c.topk_method == TopkMethod::kNoauxTc) {
      MINKE_ASSIGN_OR_RETURN(Tensor bias, shards.tensor(p + ".gate.e_score_correction_bias", {e}));
      Tensor bias_f32 = Tensor::zeros(DType::kF32, {e});
      LinearWeight as_row;  // any float dtype -> f32 through the same widening as weights
      as_row.weight = bias.reshape({1, e});
      const Tensor as_f32 = dequantize_host(as_row);
      std::copy_n(as_f32.data<float>(), e, bias_f32.data<float>());
      m.bias = backend.upload(bias_f32);
    }
    m.experts.resize(size_t(e));
    const ParallelConfig& par = shards.parallel();
    for (int64_t i = 0; i < e; ++i) {
      if (par.expert_parallel && expert_owner(i, e, par.tp_size) != par.tp_rank) continue;
      MINKE_ASSIGN_OR_RETURN(m.experts[i], mlp(fmt::format("{}.experts.{}", p, i), c.moe_intermediate_size));
      if (opt.fp8_activations == Fp8ActivationQuant::kExceptRoutedExperts)
        for (LinearWeight* w : {&m.experts[i].gate_proj, &m.experts[i].up_proj, &m.experts[i].down_proj})
          w->quantize_input = false;
    }
    if (c.n_shared_experts > 0) {
      MINKE_ASSIGN_OR_RETURN(MlpWeights shared, mlp(p + ".shared_experts",
                                                    c.n_shared_experts * c.moe_intermediate_size));
      m.shared = std::move(shared);
    }
    return m;
  }

  Result<DecoderLayerWeights> layer(int64_t index) const {
    const std::string p = fmt::format("model.layers.{}", index);
    DecoderLayerWeights w;
    MINKE_ASSIGN_OR_RETURN(w.input_layernorm, tensor(p + ".input_layernorm.weight", {c.hidden_size}));
    MINKE_ASSIGN_OR_RETURN(w.post_attention_layernorm,
                           tensor(p + ".post_attention_layernorm.weight", {c.hidden_size}));
    MINKE_ASSIGN_OR_RETURN(w.attn, mla(p + ".self_attn"));
    if (c.is_moe_layer(index)) {
      MINKE_ASSIGN_OR_RETURN(MoeWeights moe_w, moe(p + ".mlp"));
      w.moe = std::move(moe_w);
    } else {
      MINKE_ASSIGN_OR_RETURN(MlpWeights mlp_w, mlp(p + ".mlp", c.intermediate_size));
      w.mlp = std::move(mlp_w);
    }
    return w;
  }

  Result<MtpWeights> mtp(int64_t index) const {
    const std::string p = fmt::format("model.layers.{}", index);
    MtpWeights m;
    const int64_t d = c.hidden_size;
    MINKE_ASSIGN_OR_RETURN(m.embed_tokens, tensor(p + ".embed_tokens.weight", {c.vocab_size, d}));
    MINKE_ASSIGN_OR_RETURN(m.enorm, tensor(p + ".enorm.weight", {d}));
    MINKE_ASSIGN_OR_RETURN(m.hnorm, tensor(p + ".hnorm.weight", {d}));
    MINKE_ASSIGN_OR_RETURN(m.eh_proj, linear(p + ".eh_proj", d, 2 * d));
    MINKE_ASSIGN_OR_RETURN(m.block, layer(index));
    MINKE_ASSIGN_OR_RETURN(m.shared_head_norm, tensor(p + ".shared_head.norm.weight", {d}));
    MINKE_ASSIGN_OR_RETURN(m.shared_head_head, linear(p + ".shared_head.head", c.vocab_size, d));
    return m;
  }
};

}  // namespace

Result<ModelWeights> load_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                                  const LoadOptions& options, Backend& backend) {
  MINKE_TRY(options.parallel.validate(config));
  const ShardedLoader shards(checkpoint, config, options.parallel);
  const Loader ld{shards, config, options, backend};
  ModelWeights w;
  const int64_t d = config.hidden_size;
  MINKE_ASSIGN_OR_RETURN(w.embed_tokens, ld.tensor("model.embed_tokens.weight", {config.vocab_size, d}));
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    MINKE_ASSIGN_OR_RETURN(DecoderLayerWeights layer, ld.layer(i));
    w.layers.push_back(std::move(layer));
    if (options.on_layer_loaded) options.on_layer_loaded(i + 1, config.num_hidden_layers);
  }
  MINKE_ASSIGN_OR_RETURN(w.norm, ld.tensor("model.norm.weight", {d}));
  const std::string head = config.tie_word_embeddings ? "model.embed_tokens" : "lm_head";
  MINKE_ASSIGN_OR_RETURN(w.lm_head, ld.linear(head, config.vocab_size, d));
  if (options.load_mtp) {
    for (int64_t i = config.num_hidden_layers; i < config.num_total_layers(); ++i) {
      // Some published checkpoints drop the MTP weights though config.json lists them.
      if (!checkpoint.contains(fmt::format("model.layers.{}.eh_proj.weight", i))) break;
      MINKE_ASSIGN_OR_RETURN(MtpWeights m, ld.mtp(i));
      w.mtp.push_back(std::move(m));
    }
  }
  return w;
}

}  // namespace minke
