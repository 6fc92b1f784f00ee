// Tables, roofline arithmetic and layer byte accounting for `minke bench kernels`.
#include "apps/bench_kernels_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

namespace minke::kbench {

std::string Table::render() const {
  std::vector<size_t> width(header_.size(), 0);
  for (size_t c = 0; c < header_.size(); ++c) width[c] = header_[c].size();
  for (const auto& row : rows_) {
    MINKE_CHECK(row.size() <= header_.size(), "table row of {} cells under {} columns", row.size(),
                header_.size());
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < header_.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : std::string();
      if (c > 0) out += "  ";
      out += c == 0 ? fmt::format("{:<{}}", cell, width[c]) : fmt::format("{:>{}}", cell, width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  size_t total = 0;
  for (size_t c = 0; c < width.size(); ++c) total += width[c] + (c > 0 ? 2 : 0);
  out += std::string(total, '-') + "\n";
  for (const auto& row : rows_) out += line(row);
  return out;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  return fmt::format("{:.{}f}", v, decimals);
}

std::string percent(double fraction) {
  if (!std::isfinite(fraction)) return "n/a";
  return fmt::format("{:.1f}%", 100.0 * fraction);
}

std::string gigabytes(double bytes) { return fixed(bytes / 1e9, 2); }

double tflops(double flops, double us) {
  return std::isfinite(us) && us > 0 ? flops / (us * 1e-6) / 1e12 : kNaN;
}

double gbs(double bytes, double us) {
  return std::isfinite(us) && us > 0 ? bytes / (us * 1e-6) / 1e9 : kNaN;
}

double roofline_us(double flops, double bytes, double peak_tflops, double bandwidth_gbs) {
  double t = kNaN;
  if (std::isfinite(peak_tflops) && peak_tflops > 0) t = flops / (peak_tflops * 1e12) * 1e6;
  if (std::isfinite(bandwidth_gbs) && bandwidth_gbs > 0) {
    const double mem = bytes / (bandwidth_gbs * 1e9) * 1e6;
    t = std::isfinite(t) ? std::max(t, mem) : mem;
  }
  return t;
}

double roofline_fraction(double roof_us, double measured_us) {
  if (!std::isfinite(roof_us) || !std::isfinite(measured_us) || measured_us <= 0) return kNaN;
  return roof_us / measured_us;
}

double spec_dram_gbs(int64_t memory_clock_khz, int64_t bus_width_bits) {
  if (memory_clock_khz <= 0 || bus_width_bits <= 0) return kNaN;
  return 2.0 * double(memory_clock_khz) * 1e3 * double(bus_width_bits / 8) / 1e9;
}

double spec_tensor_tflops(int cc_major, int sms, int64_t clock_khz, bool fp8) {
  if (cc_major != 9 || sms <= 0 || clock_khz <= 0) return kNaN;
  const double per_sm_clock = fp8 ? 8192.0 : 4096.0;  // dense FLOP per clock per SM (Hopper)
  return per_sm_clock * sms * double(clock_khz) * 1e3 / 1e12;
}

double spec_fp32_tflops(int cc_major, int sms, int64_t clock_khz) {
  if (cc_major != 9 || sms <= 0 || clock_khz <= 0) return kNaN;
  return 256.0 * sms * double(clock_khz) * 1e3 / 1e12;
}

std::span<const LinearShape> deepseek_v3_linear_shapes() {
  static constexpr std::array<LinearShape, 6> kShapes = {{
      {"q_a+kv_a", 2112, 7168},   // q_a_proj (1536) and kv_a_proj_with_mqa (576), fused
      {"q_b", 24576, 1536},       // 128 heads x 192
      {"kv_b", 32768, 512},       // 128 heads x (128 + 128)
      {"o_proj", 7168, 16384},    // 128 heads x 128 -> hidden
      {"gate+up", 4096, 7168},    // a 2048-wide expert's gate and up, fused
      {"down", 7168, 2048},       // an expert's down
  }};
  return kShapes;
}

double linear_flops(int64_t m, int64_t n, int64_t k) { return 2.0 * double(m) * double(n) * double(k); }

double fp8_linear_bytes(int64_t m, int64_t n, int64_t k) {
  const double nb = double((n + 127) / 128), kb = double((k + 127) / 128);
  const double weight = double(n) * double(k) + nb * kb * 4.0;
  const double act = double(m) * double(k) + double(m) * kb * 4.0;
  return weight + act + double(m) * double(n) * 4.0;
}

double mla_decode_bytes(int64_t batch, int64_t context, int64_t heads, int64_t l, int64_t r) {
  const double cache = double(batch) * double(context) * double(l + r) * 4.0;
  const double q = double(batch) * double(heads) * double(l + r) * 4.0;
  const double out = double(batch) * double(heads) * double(l) * 4.0;
  return cache + q + out;
}

double mla_decode_flops(int64_t batch, int64_t context, int64_t heads, int64_t l, int64_t r) {
  return 2.0 * double(batch) * double(heads) * double(context) * double(2 * l + r);
}

std::string deepseek_v3_config_json() {
  // deepseek-ai/DeepSeek-V3 config.json (auto_map and training-only fields left out).
  return R"({
  "architectures": ["DeepseekV3ForCausalLM"],
  "model_type": "deepseek_v3",
  "torch_dtype": "bfloat16",
  "vocab_size": 129280,
  "hidden_size": 7168,
  "intermediate_size": 18432,
  "moe_intermediate_size": 2048,
  "num_hidden_layers": 61,
  "num_nextn_predict_layers": 1,
  "num_attention_heads": 128,
  "num_key_value_heads": 128,
  "n_shared_experts": 1,
  "n_routed_experts": 256,
  "num_experts_per_tok": 8,
  "n_group": 8,
  "topk_group": 4,
  "routed_scaling_factor": 2.5,
  "kv_lora_rank": 512,
  "q_lora_rank": 1536,
  "qk_rope_head_dim": 64,
  "v_head_dim": 128,
  "qk_nope_head_dim": 128,
  "topk_method": "noaux_tc",
  "scoring_func": "sigmoid",
  "norm_topk_prob": true,
  "first_k_dense_replace": 3,
  "moe_layer_freq": 1,
  "hidden_act": "silu",
  "max_position_embeddings": 163840,
  "rms_norm_eps": 1e-06,
  "rope_theta": 10000,
  "rope_scaling": {
    "beta_fast": 32,
    "beta_slow": 1,
    "factor": 40,
    "mscale": 1.0,
    "mscale_all_dim": 1.0,
    "original_max_position_embeddings": 4096,
    "type": "yarn"
  },
  "tie_word_embeddings": false,
  "bos_token_id": 0,
  "eos_token_id": 1,
  "attention_bias": false,
  "attention_dropout": 0.0,
  "initializer_range": 0.02,
  "ep_size": 1,
  "quantization_config": {
    "activation_scheme": "dynamic",
    "fmt": "e4m3",
    "quant_method": "fp8",
    "weight_block_size": [128, 128]
  }
}
)";
}

namespace {

bool starts_with(const std::string& s, size_t at, std::string_view prefix) {
  return s.compare(at, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<LayerWeightBytes> layer_weight_bytes(const std::vector<TensorInfo>& tensors, int64_t layer,
                                            bool absorbed_mla) {
  const std::string prefix = fmt::format("model.layers.{}.", layer);
  LayerWeightBytes out;
  std::map<int64_t, int64_t> expert_bytes;  // expert -> its bytes
  bool any = false;
  for (const TensorInfo& t : tensors) {
    if (t.name.compare(0, prefix.size(), prefix) != 0) continue;
    any = true;
    const int64_t bytes = int64_t(t.nbytes());
    const size_t at = prefix.size();
    if (starts_with(t.name, at, "self_attn.")) {
      const bool naive_only = starts_with(t.name, at, "self_attn.kv_b_proj.");
      const bool absorbed_only = ends_with(t.name, ".w_uk_t") || ends_with(t.name, ".w_uv");
      ((absorbed_mla ? naive_only : absorbed_only) ? out.unread : out.attention) += bytes;
    } else if (starts_with(t.name, at, "input_layernorm.") ||
               starts_with(t.name, at, "post_attention_layernorm.")) {
      out.attention += bytes;
    } else if (starts_with(t.name, at, "mlp.gate.")) {
      out.router += bytes;
    } else if (starts_with(t.name, at, "mlp.shared_experts.")) {
      out.shared += bytes;
    } else if (starts_with(t.name, at, "mlp.experts.")) {
      const size_t num = at + std::string_view("mlp.experts.").size();
      const size_t dot = t.name.find('.', num);
      if (dot == std::string::npos || dot == num)
        return invalid_argument("layer_weight_bytes: malformed expert tensor name '{}'", t.name);
      int64_t e = 0;
      for (size_t i = num; i < dot; ++i) {
        if (t.name[i] < '0' || t.name[i] > '9' || e > (int64_t(1) << 40))
          return invalid_argument("layer_weight_bytes: malformed expert tensor name '{}'", t.name);
        e = e * 10 + (t.name[i] - '0');
      }
      expert_bytes[e] += bytes;
    } else if (starts_with(t.name, at, "mlp.")) {
      out.dense_mlp += bytes;
    } else {
      return invalid_argument("layer_weight_bytes: unexpected tensor '{}'", t.name);
    }
  }
  if (!any) return not_found("layer_weight_bytes: no tensor of layer {}", layer);
  out.experts = int64_t(expert_bytes.size());
  for (const auto& [e, bytes] : expert_bytes) {
    if (out.per_expert != 0 && bytes != out.per_expert)
      return invalid_argument("layer_weight_bytes: expert {} holds {} bytes, expert {} {}", e, bytes,
                              expert_bytes.begin()->first, out.per_expert);
    out.per_expert = bytes;
  }
  return out;
}

int64_t count_distinct_experts(std::span<const int32_t> ids, int64_t n_experts) {
  std::set<int32_t> seen;
  for (const int32_t id : ids)
    if (id >= 0 && id < n_experts) seen.insert(id);
  return int64_t(seen.size());
}

}  // namespace minke::kbench
