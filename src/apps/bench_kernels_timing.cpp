// Device buffers and CUDA-event timing for `minke bench kernels` (see bench_kernels_cuda.h).
#if MINKE_HAVE_CUDA

#include <algorithm>
#include <cmath>
#include <vector>

#include "apps/bench_kernels_cuda.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/random_fill.h"

namespace minke::kbench {

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    p_ = o.p_;
    bytes_ = o.bytes_;
    o.p_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void DeviceBuffer::reset() {
  if (p_ != nullptr) cudaFree(p_);
  p_ = nullptr;
  bytes_ = 0;
}

Result<DeviceBuffer> DeviceBuffer::alloc(size_t bytes) {
  DeviceBuffer b;
  if (bytes == 0) return b;
  MINKE_TRY(cuda_status(cudaMalloc(&b.p_, bytes), "cudaMalloc").with_context(
      fmt::format("allocating {:.2f} GB", double(bytes) / 1e9)));
  b.bytes_ = bytes;
  return b;
}

Result<DeviceBuffer> random_buffer(DType dtype, int64_t n, float lo, float hi, uint64_t seed,
                                   cudaStream_t stream) {
  MINKE_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::alloc(size_t(n) * dtype_size(dtype)));
  MINKE_TRY(cuda::fill_uniform(b.get(), dtype, n, lo, hi, seed, stream));
  return b;
}

namespace {

// Timing events, destroyed on every path out.
struct Events {
  std::vector<cudaEvent_t> e;
  ~Events() {
    for (cudaEvent_t ev : e) cudaEventDestroy(ev);
  }
  Status create(size_t n) {
    e.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      cudaEvent_t ev = nullptr;
      MINKE_CUDA_TRY(cudaEventCreate(&ev));
      e.push_back(ev);
    }
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<KernelTimer>> KernelTimer::create(cudaStream_t stream, int64_t l2_bytes) {
  std::unique_ptr<KernelTimer> t(new KernelTimer());
  t->stream_ = stream;
  // Twice the L2 (at least 64 MiB when the size is unknown) evicts everything a run left there.
  const size_t flush = size_t(std::max<int64_t>(2 * l2_bytes, int64_t(64) << 20));
  MINKE_ASSIGN_OR_RETURN(t->flush_, DeviceBuffer::alloc(flush));
  return t;
}

Result<Timing> KernelTimer::time(const std::function<Status()>& fn, const TimeOptions& o) {
  if (o.iters < 1 || o.warmup < 0) return invalid_argument("KernelTimer: {} runs, {} warm-up", o.iters, o.warmup);
  int fill = 0;
  const auto run = [&](cudaEvent_t start, cudaEvent_t stop) -> Status {
    if (o.before) MINKE_TRY(o.before());
    if (o.flush_l2)
      MINKE_CUDA_TRY(cudaMemsetAsync(flush_.get(), (++fill) & 0xff, flush_.bytes(), stream_));
    if (start != nullptr) MINKE_CUDA_TRY(cudaEventRecord(start, stream_));
    MINKE_TRY(fn());
    if (stop != nullptr) MINKE_CUDA_TRY(cudaEventRecord(stop, stream_));
    return Status::ok();
  };
  for (int i = 0; i < o.warmup; ++i) MINKE_TRY(run(nullptr, nullptr));
  MINKE_CUDA_TRY(cudaStreamSynchronize(stream_));  // warm-up faults surface here
  Events ev;
  MINKE_TRY(ev.create(2 * size_t(o.iters)));
  for (int i = 0; i < o.iters; ++i) MINKE_TRY(run(ev.e[2 * i], ev.e[2 * i + 1]));
  MINKE_CUDA_TRY(cudaStreamSynchronize(stream_));
  std::vector<double> us(size_t(o.iters));
  for (int i = 0; i < o.iters; ++i) {
    float ms = 0;
    MINKE_CUDA_TRY(cudaEventElapsedTime(&ms, ev.e[2 * i], ev.e[2 * i + 1]));
    us[size_t(i)] = double(ms) * 1e3;
  }
  std::sort(us.begin(), us.end());
  const size_t n = us.size();
  Timing t;
  t.runs = int(n);
  t.best_us = us.front();
  t.median_us = n % 2 == 1 ? us[n / 2] : 0.5 * (us[n / 2 - 1] + us[n / 2]);
  return t;
}

double Rooflines::fp8_peak() const { return std::isfinite(fp8_tflops) ? fp8_tflops : fp8_block_tflops; }

int64_t KernelBenchContext::free_bytes() const {
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return int64_t(free);
}

}  // namespace minke::kbench

#endif  // MINKE_HAVE_CUDA
