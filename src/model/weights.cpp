// load_weights: checkpoint names -> ModelWeights, one layer at a time, through a
// WeightSource (ShardedLoader: shape checks, TP/EP shards; or dummy weights) onto the backend.
#include "model/weights.h"

#include <fmt/format.h>

#include "backend/host_dequant.h"

#include <algorithm>

namespace minke {
namespace {

struct Loader {
  const WeightSource& source;
  const ModelConfig& c;
  const LoadOptions& opt;
  Backend& backend;
  std::vector<TensorInfo>* manifest;  // may be null

  // Puts a tensor from the source (host, or already on the backend) on the backend.
  Tensor place(const std::string& name, const Tensor& t, bool derived = false) const {
    if (manifest != nullptr) manifest->push_back({name, t.dtype(), t.shape(), derived});
    return t.device() == backend.device() ? t : backend.upload(t);
  }
  Tensor on_host(const Tensor& t) const {
    return t.device() == Device::kCpu ? t : backend.to_host(t);
  }
  // A tensor with a shape and no memory, for a planning source (!source.has_data()).
  Tensor shape_only(DType dtype, Shape shape) const {
    return Tensor::view_of(nullptr, dtype, std::move(shape), nullptr, backend.device());
  }

  Result<Tensor> tensor(const std::string& name, const Shape& shape) const {
    MINKE_ASSIGN_OR_RETURN(Tensor t, source.tensor(name, shape));
    return place(name, t);
  }

  LinearWeight place(const std::string& prefix, LinearWeight w) const {
    w.quantize_input = opt.fp8_activations != Fp8ActivationQuant::kNone &&
                       w.weight.dtype() == DType::kF8E4M3;
    w.weight = place(prefix + ".weight", w.weight);
    if (w.scale_inv.defined()) w.scale_inv = place(prefix + ".weight_scale_inv", w.scale_inv);
    return w;
  }

  Result<LinearWeight> linear(const std::string& prefix, int64_t out, int64_t in) const {
    MINKE_ASSIGN_OR_RETURN(LinearWeight w, source.linear(prefix, out, in));
    return place(prefix, std::move(w));
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
    MINKE_ASSIGN_OR_RETURN(LinearWeight kv_b, source.linear(p + ".kv_b_proj", h * (nope + v), l));
    a.kv_b_proj = place(p + ".kv_b_proj", kv_b);
    a.quantize_latent = a.kv_b_proj.quantize_input;
    a.kv_b_proj.quantize_input = false;  // the cache already holds the fake-quantized latent

    // Absorbed-path weights from this rank's heads of kv_b_proj, rows [head][nope | v],
    // derived on the host (a copy back when the source made kv_b_proj on the device).
    const int64_t heads = kv_b.out_features() / (nope + v);
    Tensor uk_t = shape_only(DType::kF32, {heads, l, nope});
    Tensor uv = shape_only(DType::kF32, {heads, v, l});
    if (source.has_data()) {
      LinearWeight host_kv_b = kv_b;
      host_kv_b.weight = on_host(kv_b.weight);
      if (kv_b.scale_inv.defined()) host_kv_b.scale_inv = on_host(kv_b.scale_inv);
      const Tensor w = dequantize_host(host_kv_b);
      uk_t = Tensor::zeros(DType::kF32, {heads, l, nope});
      uv = Tensor::zeros(DType::kF32, {heads, v, l});
      const float* src = w.data<float>();
      for (int64_t hh = 0; hh < heads; ++hh) {
        for (int64_t i = 0; i < nope; ++i)
          for (int64_t j = 0; j < l; ++j)
            uk_t.data<float>()[(hh * l + j) * nope + i] = src[(hh * (nope + v) + i) * l + j];
        for (int64_t i = 0; i < v; ++i)
          for (int64_t j = 0; j < l; ++j)
            uv.data<float>()[(hh * v + i) * l + j] = src[(hh * (nope + v) + nope + i) * l + j];
      }
    }
    a.w_uk_t = place(p + ".w_uk_t", uk_t, /*derived=*/true);
    a.w_uv = place(p + ".w_uv", uv, /*derived=*/true);
    MINKE_ASSIGN_OR_RETURN(a.o_proj, linear(p + ".o_proj", d, h * v));
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
      const std::string bias_name = p + ".gate.e_score_correction_bias";
      MINKE_ASSIGN_OR_RETURN(Tensor bias, source.tensor(bias_name, {e}));
      if (source.has_data()) {
        LinearWeight as_row;  // any float dtype -> f32 through the same widening as weights
        as_row.weight = on_host(bias).reshape({1, e});
        bias = dequantize_host(as_row).reshape({e});
      } else if (bias.dtype() != DType::kF32) {
        bias = shape_only(DType::kF32, {e});
      }
      m.bias = place(bias_name, bias);
    }
    m.experts.resize(size_t(e));
    const ParallelConfig& par = source.parallel();
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
  return load_weights(shards, config, options, backend);
}

Result<ModelWeights> load_weights(const WeightSource& source, const ModelConfig& config,
                                  const LoadOptions& options, Backend& backend,
                                  std::vector<TensorInfo>* manifest) {
  MINKE_TRY(source.parallel().validate(config));
  const Loader ld{source, config, options, backend, manifest};
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
      if (!source.contains(fmt::format("model.layers.{}.eh_proj.weight", i))) break;
      MINKE_ASSIGN_OR_RETURN(MtpWeights m, ld.mtp(i));
      w.mtp.push_back(std::move(m));
    }
  }
  return w;
}

}  // namespace minke
