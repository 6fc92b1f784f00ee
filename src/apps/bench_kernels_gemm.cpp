// Section 3 of `minke bench kernels`: FP8 block-scaled GEMMs at DeepSeek-V3's linear shapes,
// three ways: minke's dispatch (Gemm::linear with quantize_input: act_quant, then the path it
// picks), minke's own kernel forced (act_quant + skinny/tiled), and cuBLASLt's block-scaled FP8
// GEMM called directly on already-quantized activations (the call the dispatch makes, with m
// padded to 16 as it pads). Each against roofline = max(flops / FP8 peak, bytes / copy bandwidth).
#if MINKE_HAVE_CUDA

#include <cstdio>
#include <optional>
#include <vector>

#include "apps/bench_kernels_cuda.h"
#include "apps/bench_kernels_report.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/gemm_cublaslt.h"

namespace minke::kbench {
namespace {

using cuda::detail::alignment_of;
using cuda::detail::LtKind;

constexpr int64_t kRowPad = 16;  // Gemm::linear pads m to this for cuBLASLt FP8

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// The table's short name of a Gemm path (the JSON keeps Gemm::path_name).
const char* short_path(const std::string& path) {
  if (path == "cublaslt_fp8_block128") return "cublasLt";
  if (path == "skinny_kernel") return "skinny";
  if (path == "tiled_kernel") return "tiled";
  return path.c_str();
}

struct Measured {
  std::optional<Timing> t;
  std::string path;   // which kernel ran
  std::string error;  // why there is no timing
};

// One variant's cells (us, TFLOP/s, % of roofline) and its JSON.
void add_cells(std::vector<std::string>& row, nlohmann::json& j, const Measured& r, double flops, double roof_us) {
  const double us = r.t ? r.t->median_us : kNaN;
  const double rate = tflops(flops, us), frac = roofline_fraction(roof_us, us);
  row.push_back(fixed(us, 1));
  row.push_back(fixed(rate, 1));
  row.push_back(percent(frac));
  j = {{"path", r.path}, {"median_us", us}, {"best_us", r.t ? r.t->best_us : kNaN}, {"tflops", rate},
       {"fraction_of_roofline", frac}};
  if (!r.error.empty()) j["error"] = r.error;
}

}  // namespace

Status bench_fp8_linears(KernelBenchContext& ctx) {
  const std::vector<int64_t> ms = ctx.options.quick ? std::vector<int64_t>{1, 128} : std::vector<int64_t>{1, 64, 128, 4096};
  const int64_t m_max = ms.back(), rows = round_up(m_max, kRowPad);
  const double peak = ctx.roof.fp8_peak(), bw = ctx.roof.copy_gbs;
  std::printf("== 3. FP8 block GEMM (e4m3 weights, 128x128 block scales) at DeepSeek-V3 linear shapes ==\n");
  std::printf("minke = Gemm::linear(quantize_input): act_quant + the path it picks; own = the same with "
              "force_own_kernel;\ncuBLASLt = its VEC128 x BLK128x128 FP8 GEMM on pre-quantized input (m padded "
              "to 16, n/a if refused).\nroofline = max(2MNK / %s TFLOP/s, bytes / %s GB/s); bytes = e4m3 W + "
              "scales + e4m3 x + scales + f32 y. Median of %d.\n",
              fixed(peak, 1).c_str(), fixed(bw, 1).c_str(), ctx.iters());

  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<cuda::Gemm> gemm, cuda::Gemm::create());
  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<cuda::detail::LtPlans> lt, cuda::detail::LtPlans::create(size_t(32) << 20));
  Table table({"N x K", "M", "roof us", "minke us", "TFLOP/s", "%roof", "path", "own us", "TFLOP/s", "%roof",
               "kernel", "cuBLASLt us", "TFLOP/s", "%roof"});
  nlohmann::json& results = ctx.json["fp8_linears"];
  results = nlohmann::json::array();
  uint64_t seed = 100;
  int failures = 0;
  for (const LinearShape& s : deepseek_v3_linear_shapes()) {
    const int64_t n = s.n, k = s.k, nb = (n + 127) / 128, kb = (k + 127) / 128;
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer w, random_buffer(DType::kF8E4M3, n * k, -448.0f, 448.0f, ++seed, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer w_scales, random_buffer(DType::kF32, nb * kb, 1e-5f, 2e-5f, ++seed, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer x, random_buffer(DType::kF32, m_max * k, -1.0f, 1.0f, ++seed, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer xq, random_buffer(DType::kF8E4M3, rows * k, -448.0f, 448.0f, ++seed, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer xs, random_buffer(DType::kF32, kb * rows, 1e-4f, 2e-4f, ++seed, ctx.stream));
    MINKE_ASSIGN_OR_RETURN(DeviceBuffer out, DeviceBuffer::alloc(size_t(rows * n) * sizeof(float)));
    for (const int64_t m : ms) {
      const double flops = linear_flops(m, n, k), bytes = fp8_linear_bytes(m, n, k);
      const double roof = roofline_us(flops, bytes, peak, bw);
      cuda::LinearParams p;
      p.x = x.as<float>();
      p.w = w.get();
      p.w_type = cuda::WeightType::kF8E4M3;
      p.w_scales = w_scales.as<float>();
      p.block_n = p.block_k = 128;
      p.quantize_input = true;
      p.out = out.as<float>();
      p.m = m, p.n = n, p.k = k;
      const auto run_linear = [&](bool own) {
        Measured r;
        cuda::LinearParams q = p;
        q.force_own_kernel = own;
        Result<cuda::GemmPath> path = gemm->plan(q);
        r.path = path.is_ok() ? cuda::Gemm::path_name(*path) : "?";
        Result<Timing> t = ctx.time([&] { return gemm->linear(q, ctx.stream); });
        if (t.is_ok()) r.t = *t;
        else r.error = t.status().to_string();
        return r;
      };
      const Measured minke = run_linear(false), own = run_linear(true);
      Measured lt_direct;
      const int64_t m_pad = round_up(m, kRowPad);
      lt_direct.path = fmt::format("cublaslt_fp8_block128 (m={})", m_pad);
      Result<bool> ok = lt->supported(LtKind::kFp8Block, m_pad, n, k, alignment_of(w.get()), alignment_of(xq.get()),
                                      alignment_of(out.get()));
      if (!ok.is_ok() || !*ok) {
        lt_direct.error = ok.is_ok() ? "cuBLASLt offers no algorithm" : ok.status().to_string();
      } else {
        Result<Timing> t = ctx.time([&] {
          return lt->run(LtKind::kFp8Block, m_pad, n, k, w.get(), xq.get(), out.as<float>(), w_scales.as<float>(),
                         xs.as<float>(), ctx.stream);
        });
        if (t.is_ok()) lt_direct.t = *t;
        else lt_direct.error = t.status().to_string();
      }
      for (const Measured* r : {&minke, &own}) {  // a cuBLASLt refusal is a result; these are failures
        if (r->error.empty()) continue;
        ++failures;
        std::fprintf(stderr, "minke bench kernels: %lld x %lld, m = %lld, %s: %s\n", (long long)n, (long long)k,
                     (long long)m, r->path.c_str(), r->error.c_str());
      }
      std::vector<std::string> row = {fmt::format("{} x {}", n, k), std::to_string(m), fixed(roof, 1)};
      nlohmann::json j = {{"name", s.name}, {"n", n}, {"k", k}, {"m", m}, {"flops", flops}, {"bytes", bytes},
                          {"roofline_us", roof}};
      add_cells(row, j["minke"], minke, flops, roof);
      row.push_back(short_path(minke.path));
      add_cells(row, j["own_kernel"], own, flops, roof);
      row.push_back(short_path(own.path));
      add_cells(row, j["cublaslt"], lt_direct, flops, roof);
      table.add_row(std::move(row));
      results.push_back(std::move(j));
    }
  }
  std::printf("%s\n", table.render().c_str());
  if (failures > 0) return internal_error("{} of minke's GEMM runs failed (see above)", failures);
  return Status::ok();
}

}  // namespace minke::kbench

#endif  // MINKE_HAVE_CUDA
