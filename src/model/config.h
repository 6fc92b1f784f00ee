// ModelConfig: the typed, validated form of a Hugging Face config.json for the
// DeepSeek-V2 / V3 / R1 / V3.1 family. Fields decide features; tensor shapes are
// checked against them at load time, never inferred from them silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/moe_types.h"  // ScoringFunc, TopkMethod
#include "core/status.h"

namespace minke {

// YaRN RoPE scaling (rope_scaling / rope_parameters with type "yarn"). mscale, mscale_all_dim
// and attention_factor are stored as written, 0 when absent or null, because Hugging Face
// derives the cos/sin magnitude from their presence (modeling_rope_utils.py,
// _compute_yarn_parameters): attention_factor if given; else, when mscale and mscale_all_dim
// are both nonzero, get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim); else
// get_mscale(factor) with mscale 1, where get_mscale(s, m) = s <= 1 ? 1 : 0.1 * m * ln(s) + 1.
// Separately, DeepSeek's attention multiplies its softmax scale by
// get_mscale(factor, mscale_all_dim)^2 only when mscale_all_dim is nonzero.
struct YarnRope {
  double factor = 1.0;                           // > 0
  int64_t original_max_position_embeddings = 0;  // > 0
  double beta_fast = 32.0;                       // default 32
  double beta_slow = 1.0;                        // default 1
  double mscale = 0.0;                           // 0: absent
  double mscale_all_dim = 0.0;                   // 0: absent
  double attention_factor = 0.0;                 // 0: absent (then derived as above)
};

struct Fp8Quantization {
  int64_t block_n = 128;  // weight_block_size[0]: output rows per scale
  int64_t block_k = 128;  // weight_block_size[1]: input columns per scale
};

struct ModelConfig {
  std::string model_type;  // "deepseek_v3" or "deepseek_v2"

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_nextn_predict_layers = 0;  // MTP modules stored as layers [L, L + n)
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;

  // Attention (MLA).
  int64_t num_attention_heads = 0;
  std::optional<int64_t> q_lora_rank;  // nullopt: a plain q_proj (V2-Lite)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  double rope_theta = 10000.0;
  std::optional<YarnRope> yarn;  // nullopt: plain RoPE

  // Feed-forward.
  int64_t intermediate_size = 0;      // dense layers
  int64_t moe_intermediate_size = 0;  // each routed expert
  int64_t n_routed_experts = 0;       // 0: every layer is dense
  int64_t n_shared_experts = 0;       // one MLP of width n_shared_experts * moe_intermediate_size
  int64_t num_experts_per_tok = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  ScoringFunc scoring_func = ScoringFunc::kSoftmax;
  TopkMethod topk_method = TopkMethod::kGreedy;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;

  std::optional<Fp8Quantization> fp8;  // quantization_config with quant_method "fp8"

  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // config eos_token_id: an int or a list

  // Derived helpers.
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t kv_latent_dim() const { return kv_lora_rank + qk_rope_head_dim; }  // cached per token
  // n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  // the same rule covers the MTP layers (index >= num_hidden_layers), as in Hugging Face.
  bool is_moe_layer(int64_t layer) const;
  int64_t num_total_layers() const { return num_hidden_layers + num_nextn_predict_layers; }

  // Parses config.json text; every error names the offending field. `hf_overrides`, when not
  // empty, is a JSON object whose fields replace config.json's before validation (vLLM's
  // --hf-overrides; model/config_overrides.h has the rules).
  static Result<ModelConfig> from_json(const std::string& json_text,
                                       const std::string& hf_overrides = "");
  static Result<ModelConfig> from_file(const std::string& path,
                                       const std::string& hf_overrides = "");
};

}  // namespace minke
