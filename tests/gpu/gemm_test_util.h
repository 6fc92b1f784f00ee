// Helpers for the GEMM conformance tests: random checkpoint-like LinearWeights (f32, bf16, or e4m3
// codes with random 128x128 block scales) made fast enough for DeepSeek-V3's real shapes, and
// their device copies.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/grouped_gemm.h"
#include "gpu_test_util.h"
#include "tensor/numeric.h"

namespace minke::test {

inline cuda::WeightType weight_type_of(DType dtype) {
  return dtype == DType::kF32 ? cuda::WeightType::kF32
         : dtype == DType::kBF16 ? cuda::WeightType::kBF16
                                 : cuda::WeightType::kF8E4M3;
}

// A random [n, k] weight of `dtype` (F32, BF16 or F8E4M3). Values come from a table of 4096
// normal samples indexed by a xorshift stream (hundreds of millions of elements in well under a
// second); e4m3 codes are normal * 40 rounded to e4m3, each block_n x block_k block with its own
// random scale in [0.005, 0.02], so a scale read from the wrong block shows.
inline LinearWeight random_weight(DType dtype, int64_t n, int64_t k, int64_t block, std::mt19937& rng,
                                  bool quantize_input = false) {
  std::normal_distribution<float> normal;
  std::vector<float> table(4096);
  for (float& v : table) v = normal(rng);
  uint64_t s = (uint64_t(rng()) << 32) | rng() | 1;
  auto index = [&s]() {  // xorshift64: 12 random bits
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s >> 52;
  };
  LinearWeight w;
  w.block_n = w.block_k = block;
  w.quantize_input = quantize_input;
  w.weight = Tensor::zeros(dtype, {n, k});
  const int64_t count = n * k;
  if (dtype == DType::kF32) {
    float* p = w.weight.data<float>();
    for (int64_t i = 0; i < count; ++i) p[i] = 0.05f * table[index()];
  } else if (dtype == DType::kBF16) {
    std::vector<uint16_t> codes(4096);
    for (size_t i = 0; i < codes.size(); ++i) codes[i] = f32_to_bf16(0.05f * table[i]);
    uint16_t* p = w.weight.data<uint16_t>();
    for (int64_t i = 0; i < count; ++i) p[i] = codes[index()];
  } else {
    std::vector<uint8_t> codes(4096);
    for (size_t i = 0; i < codes.size(); ++i) codes[i] = f32_to_e4m3(40.0f * table[i]);
    uint8_t* p = w.weight.data<uint8_t>();
    for (int64_t i = 0; i < count; ++i) p[i] = codes[index()];
    const int64_t nb = (n + block - 1) / block, kb = (k + block - 1) / block;
    w.scale_inv = Tensor::zeros(DType::kF32, {nb, kb});
    std::uniform_real_distribution<float> scale(0.005f, 0.02f);
    for (int64_t i = 0; i < nb * kb; ++i) w.scale_inv.data<float>()[i] = scale(rng);
  }
  return w;
}

// A LinearWeight's bytes (and block scales) on the device; `offset_bytes` places the weight that
// far past a 256-byte aligned address (to test unaligned weights).
struct DeviceWeight {
  explicit DeviceWeight(const LinearWeight& w, size_t offset_bytes = 0) : offset(offset_bytes) {
    bytes = std::make_unique<DeviceBuffer<uint8_t>>(w.weight.nbytes() + offset_bytes);
    EXPECT_EQ(cudaMemcpy(bytes->get() + offset_bytes, w.weight.raw(), w.weight.nbytes(), cudaMemcpyHostToDevice),
              cudaSuccess);
    if (w.scale_inv.defined())
      scales = std::make_unique<DeviceBuffer<float>>(w.scale_inv.data<float>(), size_t(w.scale_inv.numel()));
  }
  const void* weight() const { return bytes->get() + offset; }
  const float* scale() const { return scales ? scales->get() : nullptr; }

  size_t offset;
  std::unique_ptr<DeviceBuffer<uint8_t>> bytes;
  std::unique_ptr<DeviceBuffer<float>> scales;
};

// CpuBackend::linear of x [m, k] (host) with w: the reference.
inline Tensor cpu_linear(CpuBackend& cpu, const Tensor& x, const LinearWeight& w) {
  Tensor out = Tensor::zeros(DType::kF32, {x.dim(0), w.out_features()});
  cpu.linear(x, w, out);
  return out;
}

}  // namespace minke::test
