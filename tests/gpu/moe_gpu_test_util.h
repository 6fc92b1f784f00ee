// Random MoE experts for the GPU tests: the same weights as host tensors (for CpuBackend) and
// as GPU tensors (for cuda::MoeExpertTable), F32, BF16 or FP8 e4m3 with block scales, only for
// the experts a test holds (the rest undefined: not on this rank).
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "tensor/numeric.h"

namespace minke::test {

// A copy of a host tensor in GPU memory, freed with its last view.
inline Tensor to_device(const Tensor& host) {
  void* d = nullptr;
  EXPECT_EQ(cudaMalloc(&d, std::max<size_t>(host.nbytes(), 1)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(d, host.raw(), host.nbytes(), cudaMemcpyHostToDevice), cudaSuccess);
  std::shared_ptr<const void> owner(d, [](const void* p) { cudaFree(const_cast<void*>(p)); });
  return Tensor::view_of(d, host.dtype(), host.shape(), std::move(owner), Device::kCuda);
}

// splitmix64: fast enough for the ~10^9 weights of the real-dimension tests.
struct FastRng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
};

struct ExpertSpec {
  DType dtype = DType::kF8E4M3;
  bool quantize_gate_up = false;  // LinearWeight::quantize_input of gate_proj and up_proj
  bool quantize_down = false;     // ... of down_proj
  int64_t block = 128;            // block_n = block_k
};

// W [n, k] with entries of variance about 1/k, so products keep the input's scale.
inline LinearWeight random_linear(int64_t n, int64_t k, const ExpertSpec& spec, bool quantize, FastRng& rng) {
  LinearWeight w;
  w.block_n = w.block_k = spec.block;
  w.quantize_input = quantize;
  w.weight = Tensor::zeros(spec.dtype, {n, k});
  const int64_t count = n * k;
  if (spec.dtype == DType::kF8E4M3) {
    // e4m3 magnitudes 0.25 to 3.75 (exponent field 5..8, rms ~1.6), never NaN; block scales
    // around 1 / (1.6 sqrt(k)), each block its own.
    auto* b = w.weight.data<uint8_t>();
    for (int64_t i = 0; i < count; i += 8) {
      uint64_t r = rng.next();
      for (int64_t j = i; j < std::min(count, i + 8); ++j, r >>= 8) {
        const unsigned v = unsigned(r & 0xff);
        b[j] = uint8_t((v & 0x80) | ((5 + ((v >> 3) & 3)) << 3) | (v & 7));
      }
    }
    w.scale_inv = Tensor::zeros(DType::kF32, {(n + spec.block - 1) / spec.block, (k + spec.block - 1) / spec.block});
    for (int64_t i = 0; i < w.scale_inv.numel(); ++i)
      w.scale_inv.data<float>()[i] = (0.5f + rng.uniform()) / (1.6f * std::sqrt(float(k)));
    return w;
  }
  const float a = std::sqrt(3.0f / float(k));  // uniform on [-a, a]: variance 1/k
  for (int64_t i = 0; i < count; ++i) {
    const float v = (2.0f * rng.uniform() - 1.0f) * a;
    if (spec.dtype == DType::kBF16) w.weight.data<uint16_t>()[i] = f32_to_bf16(v);
    else w.weight.data<float>()[i] = v;
  }
  return w;
}

inline LinearWeight on_device(const LinearWeight& host) {
  LinearWeight w = host;
  w.weight = to_device(host.weight);
  if (host.scale_inv.defined()) w.scale_inv = to_device(host.scale_inv);
  return w;
}

struct MoeExperts {
  std::vector<MlpWeights> host;    // [experts], undefined where not held
  std::vector<MlpWeights> device;  // the same weights in GPU memory
};

inline MoeExperts make_experts(int64_t experts, int64_t hidden, int64_t inter, const ExpertSpec& spec,
                               const std::vector<int>& held, uint64_t seed) {
  FastRng rng{seed};
  MoeExperts m;
  m.host.resize(size_t(experts));
  m.device.resize(size_t(experts));
  for (int e : held) {
    MlpWeights& h = m.host[size_t(e)];
    h.gate_proj = random_linear(inter, hidden, spec, spec.quantize_gate_up, rng);
    h.up_proj = random_linear(inter, hidden, spec, spec.quantize_gate_up, rng);
    h.down_proj = random_linear(hidden, inter, spec, spec.quantize_down, rng);
    m.device[size_t(e)] = {on_device(h.gate_proj), on_device(h.up_proj), on_device(h.down_proj)};
  }
  return m;
}

// [0, n) without `missing`.
inline std::vector<int> all_but(int n, const std::vector<int>& missing) {
  std::vector<int> held;
  for (int e = 0; e < n; ++e)
    if (std::find(missing.begin(), missing.end(), e) == missing.end()) held.push_back(e);
  return held;
}

}  // namespace minke::test
