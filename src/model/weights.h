// The weights of a DeepSeek-V2/V3 model on one backend, loaded by checkpoint name
// through the sharding table. Every tensor's shape is checked against the config.
#pragma once

#include <functional>

#include <optional>
#include <vector>

#include "backend/backend.h"
#include "checkpoint/checkpoint.h"
#include "model/config.h"
#include "model/sharding.h"

namespace minke {

struct MlaWeights {
  // Query: q_b_proj(q_a_layernorm(q_a_proj(x))) with q-LoRA, else q_proj(x).
  LinearWeight q_a_proj;  // [q_lora, hidden]
  Tensor q_a_layernorm;   // [q_lora]
  LinearWeight q_b_proj;  // [H * qk_head_dim, q_lora]
  LinearWeight q_proj;    // [H * qk_head_dim, hidden]
  LinearWeight kv_a_proj_with_mqa;  // [kv_lora + rope, hidden]
  Tensor kv_a_layernorm;            // [kv_lora]
  LinearWeight kv_b_proj;           // [H * (nope + v), kv_lora]
  LinearWeight o_proj;              // [hidden, H * v]
  // kv_b_proj split and dequantized for the absorbed path (F32 on the backend):
  Tensor w_uk_t;  // [H, kv_lora, nope]: q_abs = W_uk^T q_nope
  Tensor w_uv;    // [H, v, kv_lora]:    out = W_uv o_latent
  // W8A8 emulation: kv_b_proj's input (the normalized latent) is fake-quantized
  // once, when it is written to the cache, so both MLA paths read the same values.
  bool quantize_latent = false;
};

struct MoeWeights {
  LinearWeight router;  // mlp.gate.weight [n_experts, hidden], never quantized
  Tensor bias;    // mlp.gate.e_score_correction_bias F32 [n_experts]; noaux_tc only
  std::vector<MlpWeights> experts;  // [n_experts]; undefined for experts other ranks hold
  std::optional<MlpWeights> shared;
};

struct DecoderLayerWeights {
  Tensor input_layernorm;           // [hidden]
  Tensor post_attention_layernorm;  // [hidden]
  MlaWeights attn;
  std::optional<MlpWeights> mlp;  // dense layers
  std::optional<MoeWeights> moe;  // MoE layers
};

struct MtpWeights {  // a multi-token-prediction module (layer index >= num_hidden_layers)
  Tensor embed_tokens;  // [vocab, hidden]: the module's own copy
  Tensor enorm, hnorm;  // [hidden]
  LinearWeight eh_proj;  // [hidden, 2 * hidden]: input is [enorm(embed) | hnorm(h)]
  DecoderLayerWeights block;
  Tensor shared_head_norm;       // [hidden]
  LinearWeight shared_head_head;  // [vocab, hidden]
};

struct ModelWeights {
  Tensor embed_tokens;  // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  Tensor norm;          // [hidden]
  LinearWeight lm_head;  // [vocab, hidden]
  std::vector<MtpWeights> mtp;  // empty when the checkpoint has no MTP layers
};

// W8A8 emulation: which FP8 linears get their input fake-quantized (per token and
// 128 channels to float8 e4m3, scale amax/448: DeepSeek's act_quant).
enum class Fp8ActivationQuant {
  kNone,                  // float32 activations (w8a16)
  kAll,                   // every FP8 linear, as DeepSeek's fp8_gemm path and FP8 GPU kernels do
  kExceptRoutedExperts,   // not the routed experts: what the transformers-5 goldens did
};

struct LoadOptions {
  ParallelConfig parallel;
  Fp8ActivationQuant fp8_activations = Fp8ActivationQuant::kNone;
  bool load_mtp = true;  // MTP layers, when the checkpoint has them
  std::function<void(int64_t done, int64_t total)> on_layer_loaded;  // progress (may be empty)
};

Result<ModelWeights> load_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                                  const LoadOptions& options, Backend& backend);

}  // namespace minke
