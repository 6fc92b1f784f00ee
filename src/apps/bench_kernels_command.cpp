// `minke bench kernels`: GPU kernel benchmarks, each figure beside the roofline measured in the
// same run: (1) device and copy bandwidth, (2) cuBLASLt BF16/FP8 peaks, (3) FP8 block GEMMs at
// DeepSeek-V3's shapes, (4) absorbed MLA decode, (5) one full MoE decoder layer. A benchmark, not
// a test: it needs a GPU and says so (exit 2) without one, or in a build without CUDA.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "apps/bench_commands.h"
#include "apps/bench_kernels_report.h"

#if MINKE_HAVE_CUDA
#include "apps/bench_kernels_cuda.h"
#include "backend/cuda/cuda_check.h"
#endif

namespace minke {

#if MINKE_HAVE_CUDA
namespace kbench {
namespace {

Status open_context(KernelBenchContext& ctx) {
  const int count = cuda_device_count();
  if (count == 0) return unavailable("no CUDA device is visible (this benchmark needs a GPU)");
  const int dev = ctx.options.device_index;
  if (dev < 0 || dev >= count)
    return invalid_argument("--device-index {}: {} CUDA device{} visible", dev, count, count == 1 ? " is" : "s are");
  MINKE_CUDA_TRY(cudaSetDevice(dev));
  MINKE_ASSIGN_OR_RETURN(ctx.info, cuda_device_info(dev));
  int clock = 0, mem_clock = 0, bus = 0;
  // Attributes a driver may not report leave their figure "n/a" instead of failing the run.
  if (cudaDeviceGetAttribute(&clock, cudaDevAttrClockRate, dev) != cudaSuccess) clock = 0;
  if (cudaDeviceGetAttribute(&mem_clock, cudaDevAttrMemoryClockRate, dev) != cudaSuccess) mem_clock = 0;
  if (cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, dev) != cudaSuccess) bus = 0;
  cudaGetLastError();
  ctx.clock_khz = clock, ctx.memory_clock_khz = mem_clock, ctx.bus_width_bits = bus;
  MINKE_CUDA_TRY(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking));
  MINKE_ASSIGN_OR_RETURN(ctx.timer, KernelTimer::create(ctx.stream, ctx.info.l2_bytes));
  return Status::ok();
}

}  // namespace

int run_kernel_benchmarks(const KernelBenchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  KernelBenchContext ctx;
  ctx.options = options;
  if (Status s = open_context(ctx); !s.is_ok()) {
    std::fprintf(stderr, "minke bench kernels: %s\n", s.to_string().c_str());
    if (ctx.stream != nullptr) cudaStreamDestroy(ctx.stream);
    return 2;
  }
  ctx.json["options"] = {{"device_index", options.device_index}, {"iters", ctx.iters()},
                         {"warmup", ctx.warmup()}, {"quick", options.quick}};
  struct Section {
    const char* name;
    Status (*run)(KernelBenchContext&);
  };
  const Section sections[] = {
      {"memory", bench_memory},         {"gemm_peaks", bench_gemm_peaks}, {"fp8_linears", bench_fp8_linears},
      {"mla_decode", bench_mla_decode}, {"moe_layer", bench_moe_layer},
  };
  bool failed = false;
  for (const Section& s : sections) {
    const Status st = s.run(ctx);
    std::fflush(stdout);
    if (st.is_ok()) continue;
    // Later sections still run (their rooflines print n/a when an earlier one is missing).
    failed = true;
    std::fprintf(stderr, "minke bench kernels: section %s failed: %s\n\n", s.name, st.to_string().c_str());
    ctx.json["errors"][s.name] = st.to_string();
    cudaGetLastError();  // a launch error must not leak into the next section
    cudaStreamSynchronize(ctx.stream);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ctx.json["wall_seconds"] = seconds;
  std::printf("minke bench kernels: done in %.1f s%s\n", seconds, failed ? " (with errors, see above)" : "");
  ctx.timer.reset();
  cudaStreamDestroy(ctx.stream);
  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    out << ctx.json.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "minke bench kernels: cannot write %s\n", options.json_path.c_str());
      return 1;
    }
  }
  return failed ? 1 : 0;
}

}  // namespace kbench
#endif  // MINKE_HAVE_CUDA

Command add_bench_kernels_command(CLI::App& bench) {
  auto o = std::make_shared<kbench::KernelBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "kernels", "GPU: copy bandwidth, cuBLASLt peaks, FP8 GEMMs, MLA decode and a MoE layer vs their rooflines");
  cmd->add_option("--device-index", o->device_index, "CUDA device to benchmark")->check(CLI::NonNegativeNumber);
  cmd->add_option("--iters", o->iters, "Timed runs per measurement (default 20, 5 with --quick)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--quick", o->quick, "Fewer shapes and runs (a smoke test, about 20 s)");
  cmd->add_option("--json", o->json_path, "Also write every result to this JSON file");
  return {cmd, [o] {
#if MINKE_HAVE_CUDA
            return kbench::run_kernel_benchmarks(*o);
#else
            std::fprintf(stderr, "minke bench kernels: this minke was built without CUDA (MINKE_CUDA=OFF or no "
                                 "nvcc); rebuild with the CUDA backend on a GPU host\n");
            return 2;
#endif
          }};
}

}  // namespace minke
