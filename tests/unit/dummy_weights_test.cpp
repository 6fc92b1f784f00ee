// --load-format dummy: a model directory with config.json alone loads random weights of the
// checkpoint's shapes and dtypes and runs finite forward passes (also sharded, also with
// hf_overrides); the plan of DeepSeek-V3's real dimensions lists the published tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "backend/cpu/cpu_backend.h"
#include "comm/local_communicator.h"
#include "kv_cache/latent_cache.h"
#include "model/dummy_weights.h"
#include "model/model_loader.h"

namespace minke {
namespace {

namespace fs = std::filesystem;
const std::string kFixtures = MINKE_FIXTURES_DIR;
const std::vector<int32_t> kPrompt = {0, 1921, 1486, 2066, 1752, 626, 2668};

Tensor i32(const std::vector<int32_t>& v) {
  Tensor t = Tensor::zeros(DType::kI32, {int64_t(v.size())});
  std::copy(v.begin(), v.end(), t.data<int32_t>());
  return t;
}

// A directory holding only `fixture`'s config.json: no checkpoint to fall back on.
fs::path config_only(const std::string& fixture) {
  const fs::path dir = fs::temp_directory_path() / ("minke_dummy_test_" + fixture + "_" +
                                                    std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(fs::path(kFixtures) / fixture / "config.json", dir / "config.json");
  return dir;
}

// Prefill of kPrompt plus one MTP step; returns [main logits | mtp logits], each checked finite.
Result<std::vector<float>> run(DeepseekV3& model, Backend& be) {
  KvCacheManager kv(4, 4, false);
  LatentKvCache cache(be, model.num_cache_layers(), 4, 4, model.latent_dim());
  if (!kv.allocate(0, int64_t(kPrompt.size()))) return internal_error("cache too small");
  const int64_t n = int64_t(kPrompt.size());
  const BatchPart s{0, 0, n};
  std::vector<int32_t> rows(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) rows[i] = i;
  ForwardInput in{i32(kPrompt), make_attention_batch(kv, {&s, 1}), i32(rows)};
  MINKE_ASSIGN_OR_RETURN(ForwardOutput out, model.forward(in, cache.layers()));
  std::vector<float> all(out.logits.data<float>(), out.logits.data<float>() + out.logits.numel());
  if (model.num_mtp_modules() > 0) {
    const BatchPart m{0, 0, n - 1};
    ForwardInput mtp_in{i32({kPrompt.begin() + 1, kPrompt.end()}), make_attention_batch(kv, {&m, 1}),
                        i32({rows.begin(), rows.end() - 1})};
    MINKE_ASSIGN_OR_RETURN(ForwardOutput mtp, model.forward_mtp(0, mtp_in, out.hidden.slice_rows(0, n - 1),
                                                                cache.layers()));
    all.insert(all.end(), mtp.logits.data<float>(), mtp.logits.data<float>() + mtp.logits.numel());
  }
  for (size_t i = 0; i < all.size(); ++i)
    if (!std::isfinite(all[i])) return internal_error("logit {} is {}", i, all[i]);
  return all;
}

// Standard deviation of a row of logits: a dead network (all-zero activations) gives 0.
double spread(const std::vector<float>& v, size_t begin, size_t n) {
  double s = 0, sq = 0;
  for (size_t i = begin; i < begin + n; ++i) {
    s += v[i];
    sq += double(v[i]) * v[i];
  }
  return std::sqrt(std::max(0.0, sq / double(n) - (s / double(n)) * (s / double(n))));
}

TEST(DummyWeights, ConfigAloneLoadsAndRunsFiniteForwardPasses) {
  for (const std::string fixture : {"tiny-v3-fp8", "tiny-v3-bf16"}) {
    const fs::path dir = config_only(fixture);
    CpuBackend be(2);
    SingleRankCommunicator comm;
    LoadOptions load;
    load.format = LoadFormat::kDummy;
    // A real load of this directory fails: there is no checkpoint.
    EXPECT_FALSE(load_deepseek_v3(dir.string(), be, comm, LoadOptions{}).is_ok());
    for (MlaMode mode : {MlaMode::kNaive, MlaMode::kAbsorbed}) {
      auto model = load_deepseek_v3(dir.string(), be, comm, load, ModelOptions{mode});
      ASSERT_TRUE(model.is_ok()) << fixture << ": " << model.status().to_string();
      EXPECT_EQ((*model)->num_mtp_modules(), 1);
      auto logits = run(**model, be);
      ASSERT_TRUE(logits.is_ok()) << fixture << ": " << logits.status().to_string();
      const size_t vocab = size_t((*model)->config().vocab_size);
      ASSERT_EQ(logits->size(), (2 * kPrompt.size() - 1) * vocab);
      for (size_t row = 0; row < 2 * kPrompt.size() - 1; ++row) {
        // Weights of std 1/sqrt(in) keep activations O(1): logits neither vanish nor explode.
        const double sd = spread(*logits, row * vocab, vocab);
        EXPECT_GT(sd, 0.05) << fixture << " row " << row;
        EXPECT_LT(sd, 50.0) << fixture << " row " << row;
      }
    }
    fs::remove_all(dir);
  }
}

TEST(DummyWeights, DeterministicAndBothMlaPathsAgree) {
  const fs::path dir = config_only("tiny-v3-bf16");
  CpuBackend be(2);
  SingleRankCommunicator comm;
  LoadOptions load;
  load.format = LoadFormat::kDummy;
  std::vector<std::vector<float>> out;
  for (MlaMode mode : {MlaMode::kNaive, MlaMode::kNaive, MlaMode::kAbsorbed}) {
    auto model = load_deepseek_v3(dir.string(), be, comm, load, ModelOptions{mode});
    ASSERT_TRUE(model.is_ok()) << model.status().to_string();
    auto logits = run(**model, be);
    ASSERT_TRUE(logits.is_ok()) << logits.status().to_string();
    out.push_back(*logits);
  }
  EXPECT_EQ(out[0], out[1]);  // same names, same seeds, same values
  // The absorbed path's w_uk_t / w_uv are derived from the dummy kv_b_proj: same function.
  double d = 0, r = 0;
  for (size_t i = 0; i < out[0].size(); ++i) {
    d += std::pow(double(out[2][i]) - out[0][i], 2);
    r += std::pow(double(out[0][i]), 2);
  }
  EXPECT_LT(std::sqrt(d / r), 1e-4);
  fs::remove_all(dir);
}

TEST(DummyWeights, HfOverridesChangeTheLayerCount) {
  const fs::path dir = config_only("tiny-v3-fp8");
  CpuBackend be(2);
  SingleRankCommunicator comm;
  LoadOptions load;
  load.format = LoadFormat::kDummy;
  load.hf_overrides = R"({"num_hidden_layers": 1})";
  auto model = load_deepseek_v3(dir.string(), be, comm, load);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  EXPECT_EQ((*model)->config().num_hidden_layers, 1);
  EXPECT_EQ((*model)->num_cache_layers(), 2);  // layer 0 and the MTP module (now layer 1)
  ASSERT_TRUE(run(**model, be).is_ok());
  auto plan = plan_dummy_weights((*model)->config(), load);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  for (const TensorInfo& t : *plan) EXPECT_EQ(t.name.find("model.layers.2."), std::string::npos) << t.name;
  // A bad override fails the load and says so.
  load.hf_overrides = R"({"num_hiden_layers": 1})";
  auto bad = load_deepseek_v3(dir.string(), be, comm, load);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("hf_overrides"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("num_hiden_layers"), std::string::npos) << bad.status().message();
  fs::remove_all(dir);
}

TEST(DummyWeights, TensorAndExpertParallelRanksAgree) {
  const fs::path dir = config_only("tiny-v3-bf16");
  for (bool ep : {false, true}) {
    const int world = 2;
    auto group = std::make_shared<LocalGroup>(world);
    std::vector<Result<std::vector<float>>> results(world, internal_error("not run"));
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r)
      threads.emplace_back([&, r] {
        LocalCommunicator comm(group, r);
        CpuBackend be(1);
        LoadOptions load;
        load.format = LoadFormat::kDummy;
        load.parallel = ParallelConfig{r, world, ep};
        auto model = load_deepseek_v3(dir.string(), be, comm, load);
        results[r] = model.is_ok() ? run(**model, be) : Result<std::vector<float>>(model.status());
      });
    for (auto& t : threads) t.join();
    for (int r = 0; r < world; ++r) ASSERT_TRUE(results[r].is_ok()) << results[r].status().to_string();
    EXPECT_EQ(*results[0], *results[1]) << "ranks disagree, ep=" << ep;
  }
  fs::remove_all(dir);
}

// DeepSeek-V3's published config.json (deepseek-ai/DeepSeek-V3), minus auto_map.
constexpr const char* kDeepSeekV3 = R"({
  "architectures": ["DeepseekV3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 0, "eos_token_id": 1, "ep_size": 1, "first_k_dense_replace": 3,
  "hidden_act": "silu", "hidden_size": 7168, "initializer_range": 0.02, "intermediate_size": 18432,
  "kv_lora_rank": 512, "max_position_embeddings": 163840, "model_type": "deepseek_v3",
  "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 8, "n_routed_experts": 256,
  "n_shared_experts": 1, "norm_topk_prob": true, "num_attention_heads": 128,
  "num_experts_per_tok": 8, "num_hidden_layers": 61, "num_key_value_heads": 128,
  "num_nextn_predict_layers": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64,
  "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                          "weight_block_size": [128, 128]},
  "rms_norm_eps": 1e-06,
  "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0,
                   "mscale_all_dim": 1.0, "original_max_position_embeddings": 4096, "type": "yarn"},
  "rope_theta": 10000, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid",
  "tie_word_embeddings": false, "topk_group": 4, "topk_method": "noaux_tc",
  "torch_dtype": "bfloat16", "transformers_version": "4.46.3", "use_cache": true,
  "v_head_dim": 128, "vocab_size": 129280
})";

using Plan = std::map<std::string, TensorInfo>;
Plan plan_of(const std::string& overrides, ParallelConfig parallel = {}) {
  auto config = ModelConfig::from_json(kDeepSeekV3, overrides);
  EXPECT_TRUE(config.is_ok()) << config.status().to_string();
  LoadOptions load;
  load.parallel = parallel;
  auto plan = plan_dummy_weights(*config, load);
  EXPECT_TRUE(plan.is_ok()) << plan.status().to_string();
  Plan by_name;
  for (const TensorInfo& t : *plan) EXPECT_TRUE(by_name.emplace(t.name, t).second) << "twice: " << t.name;
  return by_name;
}

void expect(const Plan& plan, const std::string& name, DType dtype, const Shape& shape) {
  const auto it = plan.find(name);
  ASSERT_NE(it, plan.end()) << name;
  EXPECT_EQ(it->second.dtype, dtype) << name;
  EXPECT_EQ(it->second.shape, shape) << name;
}

// The bytes of one FP8 linear [o, i] with its 128x128 F32 scales.
int64_t fp8(int64_t o, int64_t i) { return o * i + ((o + 127) / 128) * ((i + 127) / 128) * 4; }

TEST(DummyWeights, DeepSeekV3PlanHasThePublishedShapesAndDtypes) {
  // Too big to load here; the plan allocates nothing. Layers 0-2 dense, 3 MoE, 4 the MTP module.
  const Plan p = plan_of(R"({"num_hidden_layers": 4})");
  const std::string a = "model.layers.0.self_attn.", m = "model.layers.3.mlp.";
  expect(p, "model.embed_tokens.weight", DType::kBF16, {129280, 7168});
  expect(p, "model.layers.0.input_layernorm.weight", DType::kBF16, {7168});
  expect(p, a + "q_a_proj.weight", DType::kF8E4M3, {1536, 7168});
  expect(p, a + "q_a_proj.weight_scale_inv", DType::kF32, {12, 56});
  expect(p, a + "q_a_layernorm.weight", DType::kBF16, {1536});
  expect(p, a + "q_b_proj.weight", DType::kF8E4M3, {24576, 1536});
  expect(p, a + "q_b_proj.weight_scale_inv", DType::kF32, {192, 12});
  expect(p, a + "kv_a_proj_with_mqa.weight", DType::kF8E4M3, {576, 7168});
  expect(p, a + "kv_a_proj_with_mqa.weight_scale_inv", DType::kF32, {5, 56});  // a partial block
  expect(p, a + "kv_a_layernorm.weight", DType::kBF16, {512});
  expect(p, a + "kv_b_proj.weight", DType::kF8E4M3, {32768, 512});
  expect(p, a + "kv_b_proj.weight_scale_inv", DType::kF32, {256, 4});
  expect(p, a + "o_proj.weight", DType::kF8E4M3, {7168, 16384});
  expect(p, a + "o_proj.weight_scale_inv", DType::kF32, {56, 128});
  expect(p, a + "w_uk_t", DType::kF32, {128, 512, 128});
  expect(p, a + "w_uv", DType::kF32, {128, 128, 512});
  EXPECT_TRUE(p.at(a + "w_uk_t").derived);
  expect(p, "model.layers.2.mlp.gate_proj.weight", DType::kF8E4M3, {18432, 7168});
  expect(p, "model.layers.2.mlp.down_proj.weight_scale_inv", DType::kF32, {56, 144});
  EXPECT_EQ(p.count("model.layers.2.mlp.gate.weight"), 0u);  // dense
  expect(p, m + "gate.weight", DType::kBF16, {256, 7168});
  expect(p, m + "gate.e_score_correction_bias", DType::kF32, {256});
  expect(p, m + "experts.0.gate_proj.weight", DType::kF8E4M3, {2048, 7168});
  expect(p, m + "experts.255.down_proj.weight", DType::kF8E4M3, {7168, 2048});
  expect(p, m + "experts.255.down_proj.weight_scale_inv", DType::kF32, {56, 16});
  expect(p, m + "shared_experts.up_proj.weight", DType::kF8E4M3, {2048, 7168});
  expect(p, "model.norm.weight", DType::kBF16, {7168});
  expect(p, "lm_head.weight", DType::kBF16, {129280, 7168});
  expect(p, "model.layers.4.embed_tokens.weight", DType::kBF16, {129280, 7168});
  expect(p, "model.layers.4.eh_proj.weight", DType::kBF16, {7168, 14336});
  expect(p, "model.layers.4.mlp.experts.7.up_proj.weight", DType::kF8E4M3, {2048, 7168});
  expect(p, "model.layers.4.shared_head.head.weight", DType::kBF16, {129280, 7168});
  EXPECT_EQ(p.count("model.layers.5.input_layernorm.weight"), 0u);

  // Whole-model bytes: every checkpoint tensor of the 61 + 1 layers, from the architecture.
  const Plan full = plan_of("");
  int64_t ckpt = 0, derived = 0;
  for (const auto& [name, t] : full) (t.derived ? derived : ckpt) += int64_t(t.nbytes());
  const int64_t v = 129280, d = 7168, norms = 2 * d * 2;
  const int64_t attn = fp8(1536, d) + 1536 * 2 + fp8(24576, 1536) + fp8(576, d) + 512 * 2 +
                       fp8(32768, 512) + fp8(d, 16384);
  const int64_t dense = norms + attn + 2 * fp8(18432, d) + fp8(d, 18432);
  const int64_t moe = norms + attn + 256 * d * 2 + 256 * 4 + 257 * (2 * fp8(2048, d) + fp8(d, 2048));
  const int64_t mtp = v * d * 2 + 2 * d * 2 + d * 2 * d * 2 + moe + d * 2 + v * d * 2;
  EXPECT_EQ(ckpt, v * d * 2 + 3 * dense + 58 * moe + d * 2 + v * d * 2 + mtp);
  // 688,574,839,360 bytes: the published checkpoint's 163 files hold 688,586,727,753, the
  // difference being about 73 KB of safetensors header per file.
  EXPECT_EQ(ckpt, int64_t{688574839360});
  EXPECT_EQ(derived, 62 * 2 * int64_t{128 * 512 * 128 * 4});
}

TEST(DummyWeights, DeepSeekV3PlanShardsAcrossEightRanks) {
  const std::string overrides = R"({"num_hidden_layers": 4, "num_nextn_predict_layers": 0})";
  const Plan tp = plan_of(overrides, ParallelConfig{3, 8, false});
  const std::string a = "model.layers.0.self_attn.", m = "model.layers.3.mlp.";
  expect(tp, a + "q_a_proj.weight", DType::kF8E4M3, {1536, 7168});  // replicated
  expect(tp, a + "q_b_proj.weight", DType::kF8E4M3, {3072, 1536});
  expect(tp, a + "q_b_proj.weight_scale_inv", DType::kF32, {24, 12});
  expect(tp, a + "kv_b_proj.weight", DType::kF8E4M3, {4096, 512});
  expect(tp, a + "o_proj.weight", DType::kF8E4M3, {7168, 2048});
  expect(tp, a + "o_proj.weight_scale_inv", DType::kF32, {56, 16});
  expect(tp, a + "w_uk_t", DType::kF32, {16, 512, 128});
  expect(tp, m + "experts.200.gate_proj.weight", DType::kF8E4M3, {256, 7168});
  expect(tp, m + "experts.200.down_proj.weight", DType::kF8E4M3, {7168, 256});
  expect(tp, "lm_head.weight", DType::kBF16, {16160, 7168});
  EXPECT_EQ(tp.count("model.layers.4.eh_proj.weight"), 0u);

  const Plan ep = plan_of(overrides, ParallelConfig{3, 8, true});
  expect(ep, m + "experts.96.gate_proj.weight", DType::kF8E4M3, {2048, 7168});  // rank 3: 96..127
  expect(ep, m + "experts.127.down_proj.weight_scale_inv", DType::kF32, {56, 16});
  EXPECT_EQ(ep.count(m + "experts.95.gate_proj.weight"), 0u);
  EXPECT_EQ(ep.count(m + "experts.128.gate_proj.weight"), 0u);
}

TEST(DummyWeights, WithoutFp8QuantizationLinearsAreBf16) {
  const Plan p = plan_of(R"({"num_hidden_layers": 1, "first_k_dense_replace": 0,
                             "quantization_config": null})");
  expect(p, "model.layers.0.self_attn.q_a_proj.weight", DType::kBF16, {1536, 7168});
  expect(p, "model.layers.0.mlp.experts.3.down_proj.weight", DType::kBF16, {7168, 2048});
  EXPECT_EQ(p.count("model.layers.0.self_attn.q_a_proj.weight_scale_inv"), 0u);
}

TEST(DummyWeights, FillRangesKeepDequantizedWeightsAtUnitGain) {
  auto config = ModelConfig::from_json(kDeepSeekV3);
  ASSERT_TRUE(config.is_ok());
  const DummyFill w = dummy_fill(*config, "model.layers.3.mlp.experts.0.up_proj.weight", 7168);
  const DummyFill s = dummy_fill(*config, "model.layers.3.mlp.experts.0.up_proj.weight_scale_inv", 7168);
  EXPECT_EQ(w.dtype, DType::kF8E4M3);
  EXPECT_EQ(s.dtype, DType::kF32);
  // std(q) * mean(scale) = (448 / sqrt(3)) * c = 1 / sqrt(in).
  EXPECT_NEAR((w.hi - w.lo) / std::sqrt(12.0f) * (s.lo + s.hi) / 2, 1 / std::sqrt(7168.0f), 1e-6);
  const DummyFill norm = dummy_fill(*config, "model.norm.weight", 0);
  EXPECT_EQ(norm.lo, 1.0f);
  EXPECT_EQ(norm.hi, 1.0f);
  const DummyFill gate = dummy_fill(*config, "model.layers.3.mlp.gate.weight", 7168);
  EXPECT_EQ(gate.dtype, DType::kBF16);
  EXPECT_EQ(dummy_fill(*config, "model.layers.61.eh_proj.weight", 14336).dtype, DType::kBF16);
  EXPECT_EQ(dummy_fill(*config, "lm_head.weight", 7168).dtype, DType::kBF16);
  // Names seed the values; split tensors also the rank.
  const ShardSlice whole, rows{0, 0, 64};
  EXPECT_NE(dummy_seed("a.weight", whole, {}), dummy_seed("b.weight", whole, {}));
  EXPECT_NE(dummy_seed("a.weight", rows, {0, 2, false}), dummy_seed("a.weight", rows, {1, 2, false}));
  EXPECT_EQ(dummy_seed("a.weight", whole, {0, 2, false}), dummy_seed("a.weight", whole, {1, 2, false}));
}

}  // namespace
}  // namespace minke
