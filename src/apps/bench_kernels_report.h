// The host-side half of `minke bench kernels` (no CUDA here, unit-tested without a GPU): its
// options, aligned text tables, the roofline arithmetic, the DeepSeek-V3 shapes and config the
// benchmarks use, and which weight bytes one decode step of a decoder layer reads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/weights.h"

namespace minke::kbench {

// `minke bench kernels` flags.
struct KernelBenchOptions {
  int device_index = 0;
  int iters = 0;  // timed runs per measurement; 0: 20 (5 with quick)
  bool quick = false;
  std::string json_path;  // empty: no JSON file
};

// A text table: a header, a rule, then rows; each column padded to its widest cell, the first
// column left-aligned and the others (numbers) right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  // Missing trailing cells print empty; extra cells are an error caught by render().
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  size_t num_rows() const { return rows_.size(); }
  std::string render() const;  // every line ends with '\n'

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// v with `decimals` decimals; "n/a" when v is NaN or infinite (a figure that was not measured).
std::string fixed(double v, int decimals);
// A fraction as a percentage with one decimal ("87.3%"); "n/a" when not finite.
std::string percent(double fraction);
// A byte count in GB (1e9) with two decimals.
std::string gigabytes(double bytes);

constexpr double kNaN = __builtin_nan("");

// Rates from a count and a time in microseconds (NaN when us <= 0 or not finite).
double tflops(double flops, double us);
double gbs(double bytes, double us);
// The roofline time of a kernel in microseconds: the larger of flops at peak_tflops and bytes at
// bandwidth_gbs. A bound whose rate is not positive is left out; NaN when neither is usable.
double roofline_us(double flops, double bytes, double peak_tflops, double bandwidth_gbs);
// roofline_us / measured_us: 1.0 means the kernel runs at its roofline (NaN when unknown).
double roofline_fraction(double roof_us, double measured_us);

// Theoretical device peaks from its attributes (the spec sheet's formulas; NaN when unknown).
// DRAM: 2 transfers per memory clock over the bus width. Tensor cores: FLOP per clock per SM of
// Hopper (compute capability 9.x: dense BF16 4096, FP8 8192) times SMs times the peak SM clock.
double spec_dram_gbs(int64_t memory_clock_khz, int64_t bus_width_bits);
double spec_tensor_tflops(int cc_major, int sms, int64_t clock_khz, bool fp8);
// FP32 CUDA-core FMA peak (Hopper: 128 FP32 lanes x 2 FLOP per clock per SM).
double spec_fp32_tflops(int cc_major, int sms, int64_t clock_khz);

// ---- FP8 block GEMM (section 3) ------------------------------------------------------------
struct LinearShape {
  const char* name;  // the DeepSeek-V3 weight it is
  int64_t n, k;      // W [n, k]
};
// The six linear shapes of DeepSeek-V3 that take FP8 block GEMMs at TP 1:
// q_a (2112 = q_a + kv_a fused), q_b, kv_b, o_proj, shared/dense gate+up fused, down.
std::span<const LinearShape> deepseek_v3_linear_shapes();
double linear_flops(int64_t m, int64_t n, int64_t k);  // 2 m n k
// The least bytes an FP8 block-scaled linear moves: the e4m3 weight [n, k] and its f32 128x128
// block scales, e4m3 activations [m, k] with f32 per-128 scales, the f32 output [m, n].
double fp8_linear_bytes(int64_t m, int64_t n, int64_t k);

// ---- MLA decode (section 4) ------------------------------------------------------------------
// One decode token per sequence over `context` cached positions, f32 throughout:
// cache rows [context, L + R] per sequence, q_abs [H, L] + q_pe [H, R] in, out [H, L].
double mla_decode_bytes(int64_t batch, int64_t context, int64_t heads, int64_t l, int64_t r);
// QK^T over L + R and PV over L: 2 (2L + R) FLOP per head and cached position.
double mla_decode_flops(int64_t batch, int64_t context, int64_t heads, int64_t l, int64_t r);

// ---- the decoder layer (section 5) -------------------------------------------------------------
// deepseek-ai/DeepSeek-V3's config.json (61 layers, 256 experts, FP8 128x128 block weights).
std::string deepseek_v3_config_json();
// --hf-overrides making it one MoE decoder layer without MTP.
inline constexpr const char* kOneMoeLayerOverrides =
    R"({"num_hidden_layers": 1, "first_k_dense_replace": 0, "num_nextn_predict_layers": 0})";

// The weight bytes of decoder layer `layer` by what reads them in one decode step, from a load
// manifest or plan_dummy_weights (names as the checkpoint's; derived w_uk_t / w_uv included).
struct LayerWeightBytes {
  int64_t attention = 0;   // self_attn.* read by the chosen MLA path, plus the two layer norms
  int64_t unread = 0;      // self_attn.* the chosen path does not read (kv_b_proj when absorbed)
  int64_t router = 0;      // mlp.gate.* (weight and e_score_correction_bias)
  int64_t shared = 0;      // mlp.shared_experts.*
  int64_t dense_mlp = 0;   // mlp.{gate,up,down}_proj.* of a dense layer
  int64_t experts = 0;     // routed experts present
  int64_t per_expert = 0;  // bytes of one routed expert (all are the same size)
  // What a step that routes to `distinct` experts reads.
  int64_t touched(int64_t distinct) const {
    return attention + router + shared + dense_mlp + distinct * per_expert;
  }
};
Result<LayerWeightBytes> layer_weight_bytes(const std::vector<TensorInfo>& tensors, int64_t layer,
                                            bool absorbed_mla);

// Number of distinct values among ids that lie in [0, n_experts).
int64_t count_distinct_experts(std::span<const int32_t> ids, int64_t n_experts);

}  // namespace minke::kbench
