// The GPU half of `minke bench kernels` (included only when MINKE_HAVE_CUDA): device buffers,
// event timing with an L2 flush before each timed run, the shared context, and one function per
// section of the report (each prints its table and records its results in ctx.json).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/bench_kernels_report.h"
#include "backend/cuda/cuda_device.h"
#include "core/status.h"
#include "tensor/dtype.h"

namespace minke::kbench {

// A cudaMalloc'd block, freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> alloc(size_t bytes);
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr, o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return p_; }
  template <class T>
  T* as() const { return static_cast<T*>(p_); }
  size_t bytes() const { return bytes_; }
  void reset();

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

// A device buffer of n elements of dtype (F32, BF16 or F8E4M3) filled uniform in [lo, hi) on
// the device (cuda::fill_uniform: no host upload).
Result<DeviceBuffer> random_buffer(DType dtype, int64_t n, float lo, float hi, uint64_t seed,
                                   cudaStream_t stream);

struct Timing {
  double median_us = 0, best_us = 0;
  int runs = 0;
};

struct TimeOptions {
  int warmup = 3;
  int iters = 20;
  // Overwrite a buffer of twice the L2 before each run (outside the timed span), so each run
  // reads its operands from HBM as a serving step does, not from an L2 warmed by the last run.
  // The flush also gives the host a head start on enqueueing the timed launches.
  bool flush_l2 = true;
  std::function<Status()> before;  // untimed, before each run (e.g. restore an input)
};

// Times `fn` (which enqueues work on `stream`) with a pair of CUDA events per run.
class KernelTimer {
 public:
  static Result<std::unique_ptr<KernelTimer>> create(cudaStream_t stream, int64_t l2_bytes);
  Result<Timing> time(const std::function<Status()>& fn, const TimeOptions& options);

 private:
  KernelTimer() = default;
  cudaStream_t stream_ = nullptr;
  DeviceBuffer flush_;
};

// Measured in sections 1 and 2; the later sections' rooflines. NaN when not measured.
struct Rooflines {
  double copy_gbs = __builtin_nan("");        // the best device copy (read + write bytes)
  double bf16_tflops = __builtin_nan("");     // cuBLASLt BF16 8192^3
  double fp8_tflops = __builtin_nan("");      // cuBLASLt FP8 8192^3, per-tensor scales
  double fp8_block_tflops = __builtin_nan(""); // cuBLASLt FP8 8192^3, VEC128 x BLK128x128
  // The FP8 peak the GEMM rooflines use: per-tensor FP8, else block-scaled.
  double fp8_peak() const;
};

struct KernelBenchContext {
  KernelBenchOptions options;
  CudaDeviceInfo info;
  int64_t clock_khz = 0, memory_clock_khz = 0, bus_width_bits = 0;
  cudaStream_t stream = nullptr;
  std::unique_ptr<KernelTimer> timer;
  Rooflines roof;
  nlohmann::json json = nlohmann::json::object();

  int iters() const { return options.iters > 0 ? options.iters : options.quick ? 5 : 20; }
  int warmup() const { return options.quick ? 2 : 3; }
  TimeOptions time_options() const { return TimeOptions{warmup(), iters(), true, {}}; }
  Result<Timing> time(const std::function<Status()>& fn) { return timer->time(fn, time_options()); }
  // Free device memory now (cudaMemGetInfo), or 0 when the query fails.
  int64_t free_bytes() const;
};

// The whole report; returns the process exit code (0: every section ran).
int run_kernel_benchmarks(const KernelBenchOptions& options);

// The sections, in order. Each prints its table to stdout and fills ctx.json[<section>].
Status bench_memory(KernelBenchContext& ctx);          // 1: device, copy bandwidth
Status bench_gemm_peaks(KernelBenchContext& ctx);      // 2: cuBLASLt BF16 / FP8 8192^3
Status bench_fp8_linears(KernelBenchContext& ctx);     // 3: DeepSeek-V3 FP8 block GEMMs
Status bench_mla_decode(KernelBenchContext& ctx);      // 4: absorbed MLA decode
Status bench_moe_layer(KernelBenchContext& ctx);       // 5: one full decoder layer

}  // namespace minke::kbench
