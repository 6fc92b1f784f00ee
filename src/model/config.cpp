// ModelConfig::from_json / from_file: reads a Hugging Face config.json, applies the defaults of
// transformers' DeepseekV2Config / DeepseekV3Config, and rejects what minke cannot run with a
// message naming the field and the expected value. No exception leaves this file.
#include "model/config.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string_view>

#include "model/config_json.h"
#include "model/config_overrides.h"

namespace minke {
namespace {

using Json = nlohmann::json;

Status parse_rope(const Fields& top, ModelConfig& c) {
  // Newer transformers write `rope_parameters`; older configs (all DeepSeek releases)
  // `rope_scaling`. Prefer rope_scaling when it is a real object.
  const Json* rope = nullptr;
  std::string section;
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const Json* v = top.find(key);
    if (v == nullptr) continue;
    if (!v->is_object()) {
      return invalid_argument("{} must be an object or null, got {}", key, describe(*v));
    }
    if (rope == nullptr) {
      rope = v;
      section = key;
    }
  }

  // rope_theta sits at the top level, or inside rope_parameters in newer configs.
  MINKE_ASSIGN_OR_RETURN(std::optional<double> theta, top.opt_number("rope_theta"));
  if (const Json* params = top.find("rope_parameters"); !theta && params != nullptr) {
    MINKE_ASSIGN_OR_RETURN(theta, Fields(*params, "rope_parameters").opt_number("rope_theta"));
  }
  c.rope_theta = theta.value_or(10000.0);
  if (!(c.rope_theta > 0)) return invalid_argument("rope_theta = {} must be > 0", c.rope_theta);
  if (rope == nullptr) return Status::ok();

  const Fields f(*rope, section);
  MINKE_ASSIGN_OR_RETURN(std::optional<std::string> type, f.opt_string("type"));
  MINKE_ASSIGN_OR_RETURN(std::optional<std::string> rope_type, f.opt_string("rope_type"));
  if (type && rope_type && *type != *rope_type) {
    return invalid_argument("{} = \"{}\" and {} = \"{}\" disagree", f.name("type"), *type,
                            f.name("rope_type"), *rope_type);
  }
  const std::string kind = type ? *type : rope_type.value_or("default");
  if (kind == "default") return Status::ok();
  if (kind != "yarn") {
    return unsupported("{} = \"{}\" is not supported; minke supports \"yarn\" and \"default\"",
                       f.name(type ? "type" : "rope_type"), kind);
  }
  YarnRope y;
  MINKE_ASSIGN_OR_RETURN(std::optional<double> factor, f.opt_number("factor"));
  if (!factor) return invalid_argument("{} is required for yarn", f.name("factor"));
  if (!(*factor > 0)) return invalid_argument("{} = {} must be > 0", f.name("factor"), *factor);
  y.factor = *factor;
  MINKE_ASSIGN_OR_RETURN(y.original_max_position_embeddings,
                         f.required_dim("original_max_position_embeddings", kMaxPositions));
  MINKE_ASSIGN_OR_RETURN(y.beta_fast, f.positive_number_or("beta_fast", 32.0));
  MINKE_ASSIGN_OR_RETURN(y.beta_slow, f.positive_number_or("beta_slow", 1.0));
  MINKE_ASSIGN_OR_RETURN(y.mscale, f.number_or("mscale", 0.0));
  MINKE_ASSIGN_OR_RETURN(y.mscale_all_dim, f.number_or("mscale_all_dim", 0.0));
  MINKE_ASSIGN_OR_RETURN(std::optional<double> attention_factor, f.opt_number("attention_factor"));
  if (attention_factor) {
    if (!(*attention_factor > 0)) {
      return invalid_argument("{} = {} must be > 0", f.name("attention_factor"),
                              *attention_factor);
    }
    y.attention_factor = *attention_factor;
  }
  c.yarn = y;
  return Status::ok();
}

Status parse_attention(const Fields& f, ModelConfig& c) {
  MINKE_ASSIGN_OR_RETURN(c.num_attention_heads, f.required_dim("num_attention_heads"));
  MINKE_ASSIGN_OR_RETURN(std::optional<int64_t> kv_heads, f.opt_int("num_key_value_heads"));
  if (kv_heads && *kv_heads != c.num_attention_heads) {
    return invalid_argument(
        "num_key_value_heads = {} must equal num_attention_heads = {} (MLA has no GQA)", *kv_heads,
        c.num_attention_heads);
  }
  MINKE_ASSIGN_OR_RETURN(c.q_lora_rank, f.opt_int("q_lora_rank"));
  if (c.q_lora_rank) MINKE_TRY(check_dim("q_lora_rank", *c.q_lora_rank, kMaxDim));
  MINKE_ASSIGN_OR_RETURN(c.kv_lora_rank, f.required_dim("kv_lora_rank"));
  MINKE_ASSIGN_OR_RETURN(c.qk_nope_head_dim, f.required_dim("qk_nope_head_dim"));
  MINKE_ASSIGN_OR_RETURN(c.qk_rope_head_dim, f.required_dim("qk_rope_head_dim"));
  if (c.qk_rope_head_dim % 2 != 0) {
    return invalid_argument("qk_rope_head_dim = {} must be even (RoPE rotates pairs)",
                            c.qk_rope_head_dim);
  }
  MINKE_ASSIGN_OR_RETURN(c.v_head_dim, f.required_dim("v_head_dim"));
  MINKE_ASSIGN_OR_RETURN(bool bias, f.bool_or("attention_bias", false));
  if (bias) return unsupported("attention_bias = true is not supported; expected false");
  return parse_rope(f, c);
}

Result<TopkMethod> parse_topk_method(const Fields& f) {
  MINKE_ASSIGN_OR_RETURN(std::string s, f.string_or("topk_method", "greedy"));
  if (s == "greedy") return TopkMethod::kGreedy;
  if (s == "group_limited_greedy") return TopkMethod::kGroupLimitedGreedy;
  if (s == "noaux_tc") return TopkMethod::kNoauxTc;
  return unsupported(
      "topk_method = \"{}\" is not supported; expected \"greedy\", \"group_limited_greedy\" or "
      "\"noaux_tc\"", s);
}

Result<ScoringFunc> parse_scoring_func(const Fields& f) {
  MINKE_ASSIGN_OR_RETURN(std::string s, f.string_or("scoring_func", "softmax"));
  if (s == "softmax") return ScoringFunc::kSoftmax;
  if (s == "sigmoid") return ScoringFunc::kSigmoid;
  return unsupported("scoring_func = \"{}\" is not supported; expected \"softmax\" or \"sigmoid\"",
                     s);
}

// The routed-expert fields; read only when n_routed_experts > 0 (dense configs may omit them).
Status parse_moe(const Fields& f, ModelConfig& c) {
  MINKE_ASSIGN_OR_RETURN(c.n_routed_experts, f.int_or("n_routed_experts", 0));
  MINKE_TRY(check_range("n_routed_experts", c.n_routed_experts, 0, kMaxDim));
  if (c.n_routed_experts == 0) return Status::ok();

  MINKE_ASSIGN_OR_RETURN(c.moe_intermediate_size, f.required_dim("moe_intermediate_size"));
  MINKE_ASSIGN_OR_RETURN(c.num_experts_per_tok, f.required_dim("num_experts_per_tok"));
  MINKE_ASSIGN_OR_RETURN(c.n_shared_experts, f.int_or("n_shared_experts", 0));
  MINKE_TRY(check_range("n_shared_experts", c.n_shared_experts, 0, kMaxDim));
  MINKE_ASSIGN_OR_RETURN(c.n_group, f.int_or("n_group", 1));
  MINKE_TRY(check_range("n_group", c.n_group, 1, kMaxDim));
  MINKE_ASSIGN_OR_RETURN(c.topk_group, f.int_or("topk_group", 1));
  MINKE_ASSIGN_OR_RETURN(c.first_k_dense_replace, f.int_or("first_k_dense_replace", 0));
  MINKE_ASSIGN_OR_RETURN(c.moe_layer_freq, f.int_or("moe_layer_freq", 1));
  MINKE_TRY(check_range("moe_layer_freq", c.moe_layer_freq, 1, kMaxLayers));
  MINKE_ASSIGN_OR_RETURN(c.topk_method, parse_topk_method(f));
  MINKE_ASSIGN_OR_RETURN(c.scoring_func, parse_scoring_func(f));
  MINKE_ASSIGN_OR_RETURN(c.norm_topk_prob, f.bool_or("norm_topk_prob", false));
  MINKE_ASSIGN_OR_RETURN(c.routed_scaling_factor,
                         f.positive_number_or("routed_scaling_factor", 1.0));

  if (c.n_routed_experts % c.n_group != 0) {
    return invalid_argument("n_group = {} must divide n_routed_experts = {}", c.n_group,
                            c.n_routed_experts);
  }
  if (c.topk_group < 1 || c.topk_group > c.n_group) {
    return invalid_argument("topk_group = {} must be in [1, n_group = {}]", c.topk_group,
                            c.n_group);
  }
  const int64_t per_group = c.n_routed_experts / c.n_group;
  if (c.num_experts_per_tok > c.n_routed_experts) {
    return invalid_argument("num_experts_per_tok = {} must be <= n_routed_experts = {}",
                            c.num_experts_per_tok, c.n_routed_experts);
  }
  if (c.num_experts_per_tok > c.topk_group * per_group) {
    return invalid_argument(
        "num_experts_per_tok = {} must be <= topk_group * (n_routed_experts / n_group) = {} * {}",
        c.num_experts_per_tok, c.topk_group, per_group);
  }
  if (c.topk_method == TopkMethod::kNoauxTc && per_group < 2) {
    return invalid_argument(
        "topk_method \"noaux_tc\" ranks groups by the sum of their top-2 experts, so "
        "n_routed_experts / n_group = {} / {} must be >= 2", c.n_routed_experts, c.n_group);
  }
  if (c.first_k_dense_replace < 0 || c.first_k_dense_replace > c.num_hidden_layers) {
    return invalid_argument("first_k_dense_replace = {} must be in [0, num_hidden_layers = {}]",
                            c.first_k_dense_replace, c.num_hidden_layers);
  }
  return Status::ok();
}

Status parse_quantization(const Fields& top, ModelConfig& c) {
  const Json* q = top.find("quantization_config");
  if (q == nullptr) return Status::ok();
  if (!q->is_object()) {
    return invalid_argument("quantization_config must be an object, got {}", describe(*q));
  }
  const Fields f(*q, "quantization_config");
  MINKE_ASSIGN_OR_RETURN(std::optional<std::string> method, f.opt_string("quant_method"));
  if (!method) return invalid_argument("{} is required", f.name("quant_method"));
  if (*method != "fp8") {
    return unsupported("{} = \"{}\" is not supported; minke supports \"fp8\" (block-wise e4m3)",
                       f.name("quant_method"), *method);
  }
  MINKE_ASSIGN_OR_RETURN(std::string fmt, f.string_or("fmt", "e4m3"));
  if (fmt != "e4m3") {
    return unsupported("{} = \"{}\" is not supported; expected \"e4m3\"", f.name("fmt"), fmt);
  }
  MINKE_ASSIGN_OR_RETURN(std::string act, f.string_or("activation_scheme", "dynamic"));
  if (act != "dynamic") {
    return unsupported("{} = \"{}\" is not supported; expected \"dynamic\"",
                       f.name("activation_scheme"), act);
  }
  const std::string block_name = f.name("weight_block_size");
  const Json* block = f.find("weight_block_size");
  if (block == nullptr) {
    return unsupported("{} is required: minke supports only block-wise fp8", block_name);
  }
  if (!block->is_array() || block->size() != 2) {
    return invalid_argument("{} must be a list of 2 positive integers, got {}", block_name,
                            describe(*block));
  }
  Fp8Quantization fp8;
  MINKE_ASSIGN_OR_RETURN(fp8.block_n, as_int((*block)[0], block_name + "[0]"));
  MINKE_ASSIGN_OR_RETURN(fp8.block_k, as_int((*block)[1], block_name + "[1]"));
  MINKE_TRY(check_dim(block_name + "[0]", fp8.block_n, kMaxDim));
  MINKE_TRY(check_dim(block_name + "[1]", fp8.block_k, kMaxDim));
  c.fp8 = fp8;
  return Status::ok();
}

Status check_token(std::string_view name, int64_t id, int64_t vocab_size) {
  if (id < 0 || id >= vocab_size) {
    return invalid_argument("{} = {} must be in [0, vocab_size = {})", name, id, vocab_size);
  }
  return Status::ok();
}

Status parse_tokens(const Fields& f, ModelConfig& c) {
  MINKE_ASSIGN_OR_RETURN(c.bos_token_id, f.opt_int("bos_token_id"));
  if (c.bos_token_id) MINKE_TRY(check_token("bos_token_id", *c.bos_token_id, c.vocab_size));
  const Json* eos = f.find("eos_token_id");
  if (eos == nullptr) return Status::ok();
  if (!eos->is_array()) {
    MINKE_ASSIGN_OR_RETURN(int64_t id, as_int(*eos, "eos_token_id"));
    MINKE_TRY(check_token("eos_token_id", id, c.vocab_size));
    c.eos_token_ids.push_back(id);
    return Status::ok();
  }
  for (size_t i = 0; i < eos->size(); ++i) {
    const std::string name = fmt::format("eos_token_id[{}]", i);
    MINKE_ASSIGN_OR_RETURN(int64_t id, as_int((*eos)[i], name));
    MINKE_TRY(check_token(name, id, c.vocab_size));
    c.eos_token_ids.push_back(id);
  }
  return Status::ok();
}

Result<ModelConfig> parse_config(const Json& root) {
  if (!root.is_object()) {
    return invalid_argument("the top level must be a JSON object, got {}", describe(root));
  }
  const Fields f(root, "");
  ModelConfig c;
  MINKE_ASSIGN_OR_RETURN(std::optional<std::string> model_type, f.opt_string("model_type"));
  if (!model_type) {
    return invalid_argument("model_type is required; expected \"deepseek_v3\" or \"deepseek_v2\"");
  }
  if (*model_type != "deepseek_v3" && *model_type != "deepseek_v2") {
    return unsupported("model_type = \"{}\" is not supported; expected \"deepseek_v3\" or "
                       "\"deepseek_v2\"", *model_type);
  }
  c.model_type = *model_type;

  MINKE_ASSIGN_OR_RETURN(c.vocab_size, f.required_dim("vocab_size"));
  MINKE_ASSIGN_OR_RETURN(c.hidden_size, f.required_dim("hidden_size"));
  MINKE_ASSIGN_OR_RETURN(c.num_hidden_layers, f.required_dim("num_hidden_layers", kMaxLayers));
  MINKE_ASSIGN_OR_RETURN(c.num_nextn_predict_layers, f.int_or("num_nextn_predict_layers", 0));
  MINKE_TRY(check_range("num_nextn_predict_layers", c.num_nextn_predict_layers, 0, kMaxLayers));
  MINKE_ASSIGN_OR_RETURN(c.rms_norm_eps, f.positive_number_or("rms_norm_eps", 1e-6));
  MINKE_ASSIGN_OR_RETURN(c.max_position_embeddings, f.int_or("max_position_embeddings", 0));
  MINKE_TRY(check_range("max_position_embeddings", c.max_position_embeddings, 0, kMaxPositions));
  MINKE_ASSIGN_OR_RETURN(c.tie_word_embeddings, f.bool_or("tie_word_embeddings", false));
  MINKE_ASSIGN_OR_RETURN(std::string act, f.string_or("hidden_act", "silu"));
  if (act != "silu") {
    return unsupported("hidden_act = \"{}\" is not supported; expected \"silu\"", act);
  }
  MINKE_ASSIGN_OR_RETURN(c.intermediate_size, f.required_dim("intermediate_size"));

  MINKE_TRY(parse_attention(f, c));
  MINKE_TRY(parse_moe(f, c));
  MINKE_TRY(parse_quantization(f, c));
  MINKE_TRY(parse_tokens(f, c));
  return c;
}

Result<ModelConfig> parse_text(const std::string& text, std::string source,
                               const std::string& hf_overrides) {
  // Library exceptions stop here: a parse error carries its byte offset; anything else
  // (a type_error the field checks missed, bad_alloc) becomes an internal error.
  // nlohmann stops at a NUL byte as if the input ended there; JSON never holds a raw one.
  if (const size_t nul = text.find('\0'); nul != std::string::npos)
    return invalid_argument("{}: not valid JSON: a NUL byte at offset {}", source, nul);
  try {
    Json root = Json::parse(text);
    if (!hf_overrides.empty()) {
      MINKE_TRY(apply_hf_overrides(root, hf_overrides));
      source += " with hf_overrides";
    }
    Result<ModelConfig> config = parse_config(root);
    if (!config.is_ok()) return config.status().with_context(source);
    return config;
  } catch (const Json::parse_error& e) {
    return invalid_argument("{}: not valid JSON: {}", source, e.what());
  } catch (const std::exception& e) {
    return internal_error("{}: unexpected error while reading the config: {}", source, e.what());
  }
}

}  // namespace

bool ModelConfig::is_moe_layer(int64_t layer) const {
  return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
}

Result<ModelConfig> ModelConfig::from_json(const std::string& json_text,
                                           const std::string& hf_overrides) {
  return parse_text(json_text, "config.json", hf_overrides);
}

Result<ModelConfig> ModelConfig::from_file(const std::string& path,
                                           const std::string& hf_overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("{}: cannot open the model config", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return io_error("{}: read failed", path);
  return parse_text(text.str(), path, hf_overrides);
}

}  // namespace minke
