// Op conformance, CPU vs CUDA: DeepSeek's act_quant (e4m3 bytes and per-128 scales) and the
// W8A8 fake quantization, bit for bit, including partial and all-zero blocks. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/fp8_quant.h"
#include "gpu_test_util.h"
#include "tensor/numeric.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using test::random_f32;

using CudaFp8Quant = test::GpuTest;

TEST_F(CudaFp8Quant, FakeQuantIsBitExactWithCpu) {
  for (auto [rows, k] : {std::pair<int64_t, int64_t>{1, 7}, {3, 200}, {33, 7168}, {5, 2048}}) {
    Tensor x = random_f32({rows, k}, rng, 3.0f);
    for (int64_t c = 0; c < std::min<int64_t>(k, 128); ++c) x.data<float>()[c] = 0.0f;  // an all-zero block
    DeviceBuffer<float> dx(x.data<float>(), size_t(x.numel()));
    ASSERT_TRUE(cuda::fp8_fake_quant(dx.get(), rows, k, 128, nullptr).is_ok());
    cpu.fp8_fake_quant(x, 128);
    const std::vector<float> got = dx.download();
    int64_t mismatches = 0;
    for (int64_t i = 0; i < x.numel(); ++i) mismatches += got[size_t(i)] != x.data<float>()[i];
    EXPECT_EQ(mismatches, 0) << rows << "x" << k;
  }
}

TEST_F(CudaFp8Quant, ActQuantWritesDeepSeekBytesAndScales) {
  const int64_t rows = 9, k = 7168 + 64, blocks = (k + 127) / 128;  // a partial last block
  Tensor x = random_f32({rows, k}, rng, 10.0f);
  DeviceBuffer<float> dx(x.data<float>(), size_t(x.numel()));
  DeviceBuffer<uint8_t> dq{size_t(rows * k)};
  DeviceBuffer<float> ds{size_t(rows * blocks)};
  ASSERT_TRUE(cuda::act_quant({dx.get(), dq.get(), ds.get(), rows, k, 128}, nullptr).is_ok());
  const std::vector<uint8_t> q = dq.download();
  const std::vector<float> s = ds.download();
  int64_t bad_q = 0, bad_s = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      const float* v = x.data<float>() + r * k + b * 128;
      const int64_t n = std::min<int64_t>(128, k - b * 128);
      float amax = 0;
      for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(v[i]));
      const float scale = std::max(amax, 1e-4f) / 448.0f;
      bad_s += s[size_t(r * blocks + b)] != scale;
      for (int64_t i = 0; i < n; ++i) bad_q += q[size_t(r * k + b * 128 + i)] != f32_to_e4m3(v[i] / scale);
    }
  EXPECT_EQ(bad_s, 0);
  EXPECT_EQ(bad_q, 0);
  EXPECT_FALSE(cuda::act_quant({nullptr, nullptr, nullptr, 1, 0, 128}, nullptr).is_ok());
}

}  // namespace
}  // namespace minke
