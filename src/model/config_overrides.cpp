// apply_hf_overrides: a recursive merge with the unknown-field and type checks that make a
// typo in --hf-overrides an error instead of a silently ignored key.
#include "model/config_overrides.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <string_view>

#include "model/config_json.h"

namespace minke {
namespace {

using Json = nlohmann::json;

// The fields model/config.cpp reads, per section ("" is the top level): overriding one that a
// config.json omits is fine; anything else must already be in config.json.
constexpr std::string_view kTopFields[] = {
    "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_nextn_predict_layers",
    "rms_norm_eps", "max_position_embeddings", "tie_word_embeddings", "hidden_act",
    "intermediate_size", "num_attention_heads", "num_key_value_heads", "q_lora_rank",
    "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "attention_bias",
    "rope_theta", "rope_scaling", "rope_parameters", "n_routed_experts", "moe_intermediate_size",
    "num_experts_per_tok", "n_shared_experts", "n_group", "topk_group", "first_k_dense_replace",
    "moe_layer_freq", "topk_method", "scoring_func", "norm_topk_prob", "routed_scaling_factor",
    "quantization_config", "bos_token_id", "eos_token_id"};
constexpr std::string_view kRopeFields[] = {
    "type", "rope_type", "factor", "original_max_position_embeddings", "beta_fast", "beta_slow",
    "mscale", "mscale_all_dim", "attention_factor", "rope_theta"};
constexpr std::string_view kQuantFields[] = {"quant_method", "fmt", "activation_scheme",
                                             "weight_block_size"};

template <size_t N>
bool in(const std::string_view (&list)[N], std::string_view key) {
  return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

bool read_by_minke(std::string_view section, std::string_view key) {
  if (section.empty()) return in(kTopFields, key);
  if (section == "rope_scaling" || section == "rope_parameters") return in(kRopeFields, key);
  if (section == "quantization_config") return in(kQuantFields, key);
  return false;
}

std::string_view kind(const Json& v) {
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "true or false";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

Status merge(Json& into, const Json& overrides, const std::string& section) {
  for (const auto& item : overrides.items()) {
    const std::string& key = item.key();
    const Json& value = item.value();
    const std::string name = section.empty() ? key : section + "." + key;
    const auto it = into.find(key);
    const bool present = it != into.end() && !it->is_null();
    if (!present && !read_by_minke(section, key))
      return invalid_argument("hf_overrides: unknown field '{}': config.json has no such field and "
                              "minke reads none by that name", name);
    if (value.is_null()) {
      if (it != into.end()) into.erase(it);
      continue;
    }
    if (present && it->is_object() && value.is_object()) {
      MINKE_TRY(merge(*it, value, name));
      continue;
    }
    if (present && !value.is_structured() && !it->is_structured() && kind(*it) != kind(value))
      return invalid_argument("hf_overrides: {} must be {} (as in config.json), got {}", name,
                              kind(*it), describe(value));
    into[key] = value;
  }
  return Status::ok();
}

}  // namespace

Status apply_hf_overrides(Json& config, const std::string& overrides_text) {
  if (!config.is_object()) return Status::ok();  // the config parser reports this
  if (overrides_text.find('\0') != std::string::npos)
    return invalid_argument("hf_overrides: not valid JSON: a NUL byte");
  Json overrides;
  try {
    overrides = Json::parse(overrides_text);
  } catch (const Json::parse_error& e) {
    return invalid_argument("hf_overrides: not valid JSON: {}", e.what());
  }
  if (!overrides.is_object())
    return invalid_argument("hf_overrides must be a JSON object (e.g. {{\"num_hidden_layers\": 4}}), "
                            "got {}", describe(overrides));
  return merge(config, overrides, "");
}

}  // namespace minke
