// The host-side parts of `minke bench kernels` (the GPU parts run only on a GPU host): table
// layout, the roofline and spec arithmetic, the DeepSeek-V3 config it writes and the weight bytes
// it counts per decode step, the route-recording backend, and DeepseekV3::forward_layer (the
// layer the benchmark times) against forward() on the tiny fixture.
#include <gtest/gtest.h>

#include <cmath>

#include "apps/bench_kernels_report.h"
#include "apps/route_recording_backend.h"
#include "backend/cpu/cpu_backend.h"
#include "checkpoint/checkpoint.h"
#include "kv_cache/latent_cache.h"
#include "model/dummy_weights.h"
#include "model/model_loader.h"

namespace minke::kbench {
namespace {

const std::string kBf16 = std::string(MINKE_FIXTURES_DIR) + "/tiny-v3-bf16";

Tensor i32(const std::vector<int32_t>& v) {
  Tensor t = Tensor::zeros(DType::kI32, {int64_t(v.size())});
  std::copy(v.begin(), v.end(), t.data<int32_t>());
  return t;
}

TEST(BenchKernelsReport, TableAlignsColumns) {
  Table t({"shape", "us", "%roof"});
  t.add_row({"2112 x 7168", "12.5", "87.1%"});
  t.add_row({"q", "1234.0"});  // a short row: the missing cell prints empty
  EXPECT_EQ(t.render(),
            "shape            us  %roof\n"
            "--------------------------\n"
            "2112 x 7168    12.5  87.1%\n"
            "q            1234.0\n");
}

TEST(BenchKernelsReport, FormatsAndRates) {
  EXPECT_EQ(fixed(3.14159, 2), "3.14");
  EXPECT_EQ(fixed(kNaN, 1), "n/a");
  EXPECT_EQ(percent(0.8734), "87.3%");
  EXPECT_EQ(percent(kNaN), "n/a");
  EXPECT_EQ(gigabytes(2.5e9), "2.50");
  EXPECT_DOUBLE_EQ(tflops(2e12, 1e6), 2.0);  // 2e12 FLOP in one second
  EXPECT_DOUBLE_EQ(gbs(3e9, 1e6), 3.0);
  EXPECT_TRUE(std::isnan(tflops(1, 0)));
}

TEST(BenchKernelsReport, RooflineIsTheSlowerBound) {
  // 1e12 FLOP at 1000 TFLOP/s: 1000 us; 1e9 bytes at 2000 GB/s: 500 us.
  EXPECT_DOUBLE_EQ(roofline_us(1e12, 1e9, 1000, 2000), 1000);
  EXPECT_DOUBLE_EQ(roofline_us(1e9, 1e9, 1000, 2000), 500);
  EXPECT_DOUBLE_EQ(roofline_us(1e12, 1e9, kNaN, 2000), 500);  // no compute peak: memory only
  EXPECT_DOUBLE_EQ(roofline_us(1e12, 1e9, 1000, 0), 1000);
  EXPECT_TRUE(std::isnan(roofline_us(1, 1, kNaN, kNaN)));
  EXPECT_DOUBLE_EQ(roofline_fraction(500, 1000), 0.5);
  EXPECT_TRUE(std::isnan(roofline_fraction(500, kNaN)));
}

TEST(BenchKernelsReport, SpecPeaksOfAnH100Sxm) {
  // 2619 MHz HBM3 on a 5120-bit bus; 132 SMs at 1980 MHz.
  EXPECT_NEAR(spec_dram_gbs(2619000, 5120), 3352.32, 1e-6);
  EXPECT_NEAR(spec_tensor_tflops(9, 132, 1980000, false), 1070.53, 0.01);
  EXPECT_NEAR(spec_tensor_tflops(9, 132, 1980000, true), 2141.06, 0.01);
  EXPECT_NEAR(spec_fp32_tflops(9, 132, 1980000), 66.91, 0.01);
  EXPECT_TRUE(std::isnan(spec_tensor_tflops(8, 108, 1410000, false)));  // not Hopper: unknown
  EXPECT_TRUE(std::isnan(spec_dram_gbs(0, 5120)));
}

TEST(BenchKernelsReport, GemmAndMlaCounts) {
  ASSERT_EQ(deepseek_v3_linear_shapes().size(), 6u);
  EXPECT_EQ(deepseek_v3_linear_shapes()[3].n, 7168);
  EXPECT_EQ(deepseek_v3_linear_shapes()[3].k, 16384);
  EXPECT_DOUBLE_EQ(linear_flops(2, 3, 4), 48);
  // W 128x128 e4m3 + one scale; x 1x128 e4m3 + one scale; y 1x128 f32.
  EXPECT_DOUBLE_EQ(fp8_linear_bytes(1, 128, 128), 16384 + 4 + 128 + 4 + 512);
  // Partial blocks count as whole scales: n = 130 -> 2 row blocks, k = 200 -> 2 column blocks.
  EXPECT_DOUBLE_EQ(fp8_linear_bytes(1, 130, 200), 130 * 200 + 4 * 4 + 200 + 2 * 4 + 130 * 4);
  // batch 2, context 64, 16 heads, L 512, R 64.
  EXPECT_DOUBLE_EQ(mla_decode_bytes(2, 64, 16, 512, 64), 4.0 * (2 * 64 * 576 + 2 * 16 * 576 + 2 * 16 * 512));
  EXPECT_DOUBLE_EQ(mla_decode_flops(2, 64, 16, 512, 64), 2.0 * 2 * 16 * 64 * (2 * 512 + 64));
}

TEST(BenchKernelsReport, DistinctExperts) {
  const std::vector<int32_t> ids = {3, 3, 7, -1, 300, 0, 7};
  EXPECT_EQ(count_distinct_experts(ids, 256), 3);
  EXPECT_EQ(count_distinct_experts({}, 256), 0);
}

// The config the layer benchmark writes parses as DeepSeek-V3 cut to one MoE layer, and the
// bytes it counts per step are those of the real checkpoint's tensors.
TEST(BenchKernelsReport, OneLayerDeepseekV3WeightBytes) {
  auto config = ModelConfig::from_json(deepseek_v3_config_json(), kOneMoeLayerOverrides);
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->num_hidden_layers, 1);
  EXPECT_EQ(config->num_nextn_predict_layers, 0);
  EXPECT_TRUE(config->is_moe_layer(0));
  EXPECT_EQ(config->n_routed_experts, 256);
  EXPECT_EQ(config->hidden_size, 7168);
  ASSERT_TRUE(config->fp8.has_value());
  LoadOptions load;
  load.load_mtp = false;
  auto plan = plan_dummy_weights(*config, load);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  auto lw = layer_weight_bytes(*plan, 0, /*absorbed_mla=*/true);
  ASSERT_TRUE(lw.is_ok()) << lw.status().to_string();
  // An expert: gate, up [2048, 7168] and down [7168, 2048] in e4m3, each with 16 x 56 f32 scales.
  const int64_t expert = 3 * 2048 * 7168 + 3 * 16 * 56 * 4;
  EXPECT_EQ(lw->experts, 256);
  EXPECT_EQ(lw->per_expert, expert);
  EXPECT_EQ(lw->shared, expert);  // one shared expert of the same width
  EXPECT_EQ(lw->router, 256 * 7168 * 2 + 256 * 4);  // bf16 gate, f32 correction bias
  EXPECT_EQ(lw->dense_mlp, 0);
  // Absorbed decode does not read kv_b_proj ([32768, 512] e4m3 + [256, 4] scales)...
  EXPECT_EQ(lw->unread, 32768 * 512 + 256 * 4 * 4);
  // ...but reads its f32 split w_uk_t [128, 512, 128] and w_uv [128, 128, 512], and o_proj.
  const int64_t absorbed = 2 * 128 * 512 * 128 * 4;
  EXPECT_GT(lw->attention, absorbed + 7168 * 16384);
  int64_t layer_total = 0;
  for (const TensorInfo& t : *plan)
    if (t.name.starts_with("model.layers.0.")) layer_total += int64_t(t.nbytes());
  EXPECT_EQ(layer_total, lw->attention + lw->unread + lw->router + lw->shared + 256 * expert);
  EXPECT_EQ(lw->touched(8), lw->attention + lw->router + lw->shared + 8 * expert);
  // The naive path reads kv_b_proj and not the absorbed split.
  auto naive = layer_weight_bytes(*plan, 0, /*absorbed_mla=*/false);
  ASSERT_TRUE(naive.is_ok());
  EXPECT_EQ(naive->unread, absorbed);
  EXPECT_EQ(naive->attention + naive->unread, lw->attention + lw->unread);
  EXPECT_EQ(layer_weight_bytes(*plan, 5, true).status().code(), StatusCode::kNotFound);
}

// forward_layer over every layer, from the embedding, gives forward()'s pre-norm hidden states;
// the recording backend sees the last MoE layer's expert ids.
TEST(BenchKernelsLayer, ForwardLayerChainEqualsForward) {
  CpuBackend cpu(2);
  RouteRecordingBackend be(cpu);
  SingleRankCommunicator comm;
  auto model = load_deepseek_v3(kBf16, be, comm, LoadOptions{});
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  DeepseekV3& m = **model;
  const std::vector<int32_t> ids = {0, 1921, 1486, 2066, 17};
  const int64_t t = int64_t(ids.size()), d = m.config().hidden_size;
  KvCacheManager kv(4, 4, /*enable_prefix_caching=*/false);
  ASSERT_TRUE(kv.allocate(0, t));
  LatentKvCache cache(be, m.num_cache_layers(), 4, 4, m.latent_dim());
  const std::vector<BatchPart> parts = {{0, 0, t}};
  const ForwardInput in{i32(ids), make_attention_batch(kv, parts), i32({int32_t(t - 1)})};
  auto ref = m.forward(in, cache.layers());
  ASSERT_TRUE(ref.is_ok()) << ref.status().to_string();
  ASSERT_TRUE(be.last_route_ids().defined());
  EXPECT_EQ(be.last_route_ids().shape(), (Shape{t, m.config().num_experts_per_tok}));
  const Tensor routed = be.last_route_ids();
  EXPECT_LE(count_distinct_experts({routed.data<int32_t>(), size_t(routed.numel())}, m.config().n_routed_experts),
            m.config().n_routed_experts);
  EXPECT_GE(count_distinct_experts({routed.data<int32_t>(), size_t(routed.numel())}, m.config().n_routed_experts),
            m.config().num_experts_per_tok);

  auto ckpt = Checkpoint::open(kBf16);
  ASSERT_TRUE(ckpt.is_ok()) << ckpt.status().to_string();
  auto table = ckpt->tensor("model.embed_tokens.weight");
  ASSERT_TRUE(table.is_ok()) << table.status().to_string();
  Tensor x = be.empty(DType::kF32, {t, d});
  ASSERT_TRUE(be.embedding(i32(ids), *table, x).is_ok());
  for (int64_t layer = 0; layer < m.config().num_hidden_layers; ++layer) {
    const Status s = m.forward_layer(layer, in, x, cache.layers());
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
  ASSERT_TRUE(be.take_error().is_ok());
  const float* a = x.data<float>();
  const float* b = ref->hidden.data<float>();
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < t * d; ++i) diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]), norm += double(b[i]) * b[i];
  EXPECT_LT(std::sqrt(diff / norm), 1e-6);

  // Bad arguments are errors, not crashes.
  EXPECT_FALSE(m.forward_layer(m.config().num_hidden_layers, in, x, cache.layers()).is_ok());
  EXPECT_FALSE(m.forward_layer(-1, in, x, cache.layers()).is_ok());
  Tensor wrong = be.empty(DType::kF32, {t + 1, d});
  EXPECT_FALSE(m.forward_layer(0, in, wrong, cache.layers()).is_ok());
}

}  // namespace
}  // namespace minke::kbench
