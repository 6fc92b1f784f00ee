// Section 1 of `minke bench kernels`: the device, and device-to-device copy bandwidth (the
// memory roofline of every later section), against the HBM spec figure.
#if MINKE_HAVE_CUDA

#include <algorithm>
#include <cstdio>

#include "apps/bench_kernels_cuda.h"
#include "apps/bench_kernels_report.h"
#include "backend/cuda/copy_kernel.h"
#include "backend/cuda/cuda_check.h"

namespace minke::kbench {

Status bench_memory(KernelBenchContext& ctx) {
  const CudaDeviceInfo& d = ctx.info;
  const double spec_gbs = spec_dram_gbs(ctx.memory_clock_khz, ctx.bus_width_bits);
  std::printf("== 1. Device and memory bandwidth ==\n");
  std::printf("device %d: %s, compute capability %d.%d, %d SMs, %.1f GiB memory (%.1f GiB free), "
              "%.0f MiB L2\n",
              d.index, d.name.c_str(), d.cc_major, d.cc_minor, d.multiprocessors,
              double(d.memory_bytes) / double(1 << 30), double(ctx.free_bytes()) / double(1 << 30),
              double(d.l2_bytes) / double(1 << 20));
  std::printf("SM clock %.0f MHz, memory clock %.0f MHz x %lld-bit bus: HBM spec %s GB/s "
              "(2 transfers per clock)\n",
              double(ctx.clock_khz) / 1e3, double(ctx.memory_clock_khz) / 1e3, (long long)ctx.bus_width_bits,
              fixed(spec_gbs, 1).c_str());
  ctx.json["device"] = {{"index", d.index},
                        {"name", d.name},
                        {"compute_capability", fmt::format("{}.{}", d.cc_major, d.cc_minor)},
                        {"sms", d.multiprocessors},
                        {"memory_bytes", d.memory_bytes},
                        {"l2_bytes", d.l2_bytes},
                        {"sm_clock_khz", ctx.clock_khz},
                        {"memory_clock_khz", ctx.memory_clock_khz},
                        {"bus_width_bits", ctx.bus_width_bits},
                        {"spec_dram_gbs", spec_gbs}};

  const size_t bytes = size_t(1) << 30;  // 1 GiB each way: far beyond the L2
  MINKE_ASSIGN_OR_RETURN(DeviceBuffer src, DeviceBuffer::alloc(bytes));
  MINKE_ASSIGN_OR_RETURN(DeviceBuffer dst, DeviceBuffer::alloc(bytes));
  MINKE_CUDA_TRY(cudaMemsetAsync(src.get(), 0x5a, bytes, ctx.stream));
  TimeOptions opt = ctx.time_options();
  opt.flush_l2 = false;  // 2 GiB of traffic per run leaves nothing useful in a 50 MiB L2

  struct Method {
    const char* name;
    const char* key;
    std::function<Status()> run;
  };
  const Method methods[] = {
      {"cudaMemcpyAsync D2D", "memcpy",
       [&] { return cuda_status(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, ctx.stream),
                                "cudaMemcpyAsync"); }},
      {"copy kernel (16-byte vectors)", "copy_kernel",
       [&] { return cuda::copy_bytes({src.get(), dst.get(), bytes, 0}, ctx.stream); }},
  };
  Table table({"method", "best us", "median us", "GB/s", "% of HBM spec"});
  nlohmann::json& j = ctx.json["memory"];
  j["bytes"] = bytes;
  j["counted"] = "read + write";
  double best = kNaN;
  for (const Method& m : methods) {
    MINKE_ASSIGN_OR_RETURN(const Timing t, ctx.timer->time(m.run, opt));
    const double rate = gbs(2.0 * double(bytes), t.best_us);  // read + write bytes
    best = std::isfinite(best) ? std::max(best, rate) : rate;
    table.add_row({m.name, fixed(t.best_us, 1), fixed(t.median_us, 1), fixed(rate, 1),
                   percent(rate / spec_gbs)});
    j[m.key] = {{"best_us", t.best_us}, {"median_us", t.median_us}, {"gbs", rate},
                {"fraction_of_spec", rate / spec_gbs}};
  }
  ctx.roof.copy_gbs = best;
  j["roofline_gbs"] = best;
  std::printf("copies of 1 GiB, best of %d after %d warm-up; GB/s counts read + write bytes\n%s",
              opt.iters, opt.warmup, table.render().c_str());
  std::printf("memory roofline for sections 3-5: %s GB/s (the better copy)\n\n", fixed(best, 1).c_str());
  return Status::ok();
}

}  // namespace minke::kbench

#endif  // MINKE_HAVE_CUDA
