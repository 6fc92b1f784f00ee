// --device auto|cpu|cuda and --gpu-memory-utilization: which backend a command runs on.
// auto picks the GPU when minke was built with CUDA and a device is visible.
#pragma once

#include <memory>
#include <string>

#include "apps/command.h"
#include "backend/backend.h"

namespace minke {

struct DeviceArgs {
  std::string device = "auto";
  double gpu_memory_utilization = 0.9;
  int threads = 0;  // CPU backend threads; 0: all hardware threads
  bool bf16_activations = false;  // round activations to bf16 in BF16 GEMMs (no hi/lo split)
  bool own_gemm_kernels = false;  // testing: every GEMM through minke's exact kernels
};

void add_device_flags(CLI::App& cmd, DeviceArgs& args);

// "cpu" or "cuda" for "auto"/explicit choices; an error when cuda is asked for and missing.
Result<Device> resolve_device(const std::string& device);

// The backend the flags name, ready for loading weights.
Result<std::unique_ptr<Backend>> make_backend(const DeviceArgs& args);

}  // namespace minke
