// Backend selection from the command line.
#include "apps/device_choice.h"

#include "backend/cpu/cpu_backend.h"
#if MINKE_HAVE_CUDA
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_device.h"
#endif

namespace minke {

void add_device_flags(CLI::App& cmd, DeviceArgs& a) {
  cmd.add_option("--device", a.device, "Where the model runs: auto (the GPU when one is present), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd.add_option("--gpu-memory-utilization", a.gpu_memory_utilization,
                 "Fraction of GPU memory for weights, activations and the KV cache (the CPU backend "
                 "sizes its cache with --kv-cache-memory)")->check(CLI::Range(0.01, 1.0));
  cmd.add_option("--threads", a.threads, "CPU threads (default: all)")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--bf16-activations", a.bf16_activations,
               "GPU: round activations to bf16 in BF16 GEMMs (faster prefill; by default they are split "
               "into two bf16 halves, which keeps MoE routing faithful)");
  cmd.add_flag("--own-gemm-kernels", a.own_gemm_kernels,
               "Testing: every GEMM through minke's kernels on exact operands instead of cuBLASLt")
      ->group("Testing");
}

Result<Device> resolve_device(const std::string& device) {
#if MINKE_HAVE_CUDA
  const bool built = true;
  const int visible = cuda_device_count();
#else
  const bool built = false;
  const int visible = 0;
#endif
  if (device == "cpu") return Device::kCpu;
  if (device == "cuda") {
    if (!built) return unsupported("--device cuda: this minke was built without CUDA (MINKE_CUDA=OFF or no nvcc)");
    if (visible == 0) return unavailable("--device cuda: no CUDA device is visible");
    return Device::kCuda;
  }
  if (device != "auto") return invalid_argument("--device must be auto, cpu or cuda, got '{}'", device);
  return built && visible > 0 ? Device::kCuda : Device::kCpu;
}

Result<std::unique_ptr<Backend>> make_backend(const DeviceArgs& a) {
  MINKE_ASSIGN_OR_RETURN(const Device device, resolve_device(a.device));
  if (device == Device::kCpu)
    return std::unique_ptr<Backend>(new CpuBackend(a.threads > 0 ? a.threads : ThreadPool::default_threads()));
#if MINKE_HAVE_CUDA
  CudaBackendOptions options;
  options.gpu_memory_utilization = a.gpu_memory_utilization;
  options.gemm.split_bf16_activations = !a.bf16_activations;
  options.gemm.own_kernels_only = a.own_gemm_kernels;
  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<CudaBackend> cuda, CudaBackend::create(options));
  return std::unique_ptr<Backend>(std::move(cuda));
#else
  (void)Device::kCuda;
  return unsupported("this minke was built without CUDA");
#endif
}

}  // namespace minke
