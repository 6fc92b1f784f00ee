// Helpers for CPU-vs-CUDA conformance tests: device buffers that free themselves, uploads
// and downloads, random host tensors and the relative error ||a - b|| / ||b||.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/cuda_device.h"
#include "tensor/tensor.h"

namespace minke::test {

// A conformance test: skipped without a GPU; a CPU backend for the reference and a seeded RNG.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  }
  CpuBackend cpu{2};
  std::mt19937 rng{11};
};

template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    EXPECT_EQ(cudaMalloc(&p_, std::max<size_t>(n, 1) * sizeof(T)), cudaSuccess);
    cudaMemset(p_, 0xff, std::max<size_t>(n, 1) * sizeof(T));  // poison: NaN for floats until written
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  DeviceBuffer(const T* host, size_t n) : DeviceBuffer(n) { cudaMemcpy(p_, host, n * sizeof(T), cudaMemcpyHostToDevice); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  std::vector<T> download() const {
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    std::vector<T> out(n_);
    cudaMemcpy(out.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return out;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

inline Tensor random_f32(const Shape& shape, std::mt19937& rng, float scale = 1.0f) {
  Tensor t = Tensor::zeros(DType::kF32, shape);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = scale * dist(rng);
  return t;
}

// ||got - want|| / ||want||; fails the test on a NaN (an element the kernel never wrote).
inline double rel_error(const std::vector<float>& got, const float* want, size_t n) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_FALSE(std::isnan(got[i])) << "unwritten element " << i;
    diff += std::pow(double(got[i]) - want[i], 2);
    norm += std::pow(double(want[i]), 2);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

}  // namespace minke::test
