// The weights of a DeepSeek-V2/V3 model on one backend, loaded by checkpoint name
// through the sharding table from a WeightSource (a checkpoint, or dummy weights).
// Every tensor's shape is checked against the config.
#pragma once

#include <functional>

#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "checkpoint/checkpoint.h"
#include "model/config.h"
#include "model/sharding.h"
#include "model/weight_source.h"

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

// Where the weights come from (vLLM's --load-format).
enum class LoadFormat {
  kAuto,   // the safetensors checkpoint in the model directory
  kDummy,  // no checkpoint: random weights with the checkpoint's names, shapes and dtypes,
           // made on the backend (model/dummy_weights.h); only config.json is read
};

struct LoadOptions {
  ParallelConfig parallel;
  Fp8ActivationQuant fp8_activations = Fp8ActivationQuant::kNone;
  bool load_mtp = true;  // MTP layers, when the checkpoint has them
  LoadFormat format = LoadFormat::kAuto;
  // A JSON object whose fields replace config.json's before validation (vLLM's
  // --hf-overrides, e.g. {"num_hidden_layers": 4}); empty: none. See ModelConfig::from_file.
  std::string hf_overrides;
  std::function<void(int64_t done, int64_t total)> on_layer_loaded;  // progress (may be empty)
};

// One tensor load_weights placed on the backend.
struct TensorInfo {
  std::string name;  // the checkpoint name; for derived tensors "<attention prefix>.w_uk_t" / ".w_uv"
  DType dtype = DType::kF32;
  Shape shape;            // this rank's shard
  bool derived = false;   // computed at load time (absorbed MLA weights), not in a checkpoint
  size_t nbytes() const { return size_t(shape_numel(shape)) * dtype_size(dtype); }
};

Result<ModelWeights> load_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                                  const LoadOptions& options, Backend& backend);
// The same from any source. `manifest`, when given, receives every tensor placed on the
// backend, in load order.
Result<ModelWeights> load_weights(const WeightSource& source, const ModelConfig& config,
                                  const LoadOptions& options, Backend& backend,
                                  std::vector<TensorInfo>* manifest = nullptr);

}  // namespace minke
