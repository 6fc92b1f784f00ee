// Op conformance, CPU vs CUDA: fill_uniform writes the same bytes on both backends for every
// dtype, odd lengths, lengths past one grid (the grid-stride loop), degenerate and tiny
// ranges, and rejects what it cannot fill. Skips without a GPU.
#include <gtest/gtest.h>

#include <cstring>

#include "backend/cuda/random_fill.h"
#include "gpu_test_util.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using CudaFillUniform = test::GpuTest;

// Fills n elements on both backends and returns the number of differing bytes.
int64_t mismatched_bytes(CpuBackend& cpu, DType dtype, int64_t n, float lo, float hi, uint64_t seed) {
  Tensor want = Tensor::zeros(dtype, {n});
  cpu.fill_uniform(want, lo, hi, seed);
  DeviceBuffer<uint8_t> d{want.nbytes()};
  const Status st = cuda::fill_uniform(d.get(), dtype, n, lo, hi, seed, nullptr);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  const std::vector<uint8_t> got = d.download();
  const auto* w = static_cast<const uint8_t*>(want.raw());
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) bad += got[i] != w[i];
  return bad;
}

TEST_F(CudaFillUniform, BytesMatchTheCpuForEveryDtype) {
  struct Range {
    float lo, hi;
  };
  // Typical weight ranges, FP8's full range (saturation at 448), scales, a constant, and a
  // range whose top rounds onto hi (must map to lo on both).
  const Range ranges[] = {{-1.0f, 1.0f}, {-448.0f, 448.0f}, {-500.0f, 500.0f}, {1e-5f, 3e-5f},
                          {1.0f, 1.0f},  {1000.0f, 1001.0f}, {-0.01f, 0.01f},  {-1e-3f, 0.0f}};
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3})
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{255}, int64_t{1000003}})
      for (const Range& r : ranges)
        for (uint64_t seed : {uint64_t{0}, uint64_t{42}, ~uint64_t{0}})
          EXPECT_EQ(mismatched_bytes(cpu, dtype, n, r.lo, r.hi, seed), 0)
              << dtype_name(dtype) << " n=" << n << " [" << r.lo << ", " << r.hi << ") seed " << seed;
}

TEST_F(CudaFillUniform, GridStrideLoopCoversLongBuffers) {
  // More than 65536 blocks * 256 threads: every thread loops.
  const int64_t n = 65536LL * 256 * 2 + 12345;
  EXPECT_EQ(mismatched_bytes(cpu, DType::kF8E4M3, n, -448.0f, 448.0f, 7), 0);
  EXPECT_EQ(mismatched_bytes(cpu, DType::kBF16, n, -0.02f, 0.02f, 8), 0);
}

TEST_F(CudaFillUniform, ValuesStayInRangeAndSeedsDiffer) {
  const int64_t n = 4097;
  DeviceBuffer<float> a{size_t(n)}, b{size_t(n)};
  ASSERT_TRUE(cuda::fill_uniform(a.get(), DType::kF32, n, -2.0f, 3.0f, 1, nullptr).is_ok());
  ASSERT_TRUE(cuda::fill_uniform(b.get(), DType::kF32, n, -2.0f, 3.0f, 2, nullptr).is_ok());
  const std::vector<float> va = a.download(), vb = b.download();
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_GE(va[i], -2.0f);
    EXPECT_LT(va[i], 3.0f);
    same += va[i] == vb[i];
  }
  EXPECT_LT(same, 10);
}

TEST_F(CudaFillUniform, RejectsBadArguments) {
  DeviceBuffer<int32_t> d{16};
  EXPECT_FALSE(cuda::fill_uniform(d.get(), DType::kI32, 16, 0.0f, 1.0f, 0, nullptr).is_ok());
  EXPECT_FALSE(cuda::fill_uniform(d.get(), DType::kF32, 16, 1.0f, 0.0f, 0, nullptr).is_ok());
  EXPECT_FALSE(cuda::fill_uniform(nullptr, DType::kF32, 16, 0.0f, 1.0f, 0, nullptr).is_ok());
  EXPECT_FALSE(cuda::fill_uniform(d.get(), DType::kF32, -1, 0.0f, 1.0f, 0, nullptr).is_ok());
  EXPECT_TRUE(cuda::fill_uniform(nullptr, DType::kF32, 0, 0.0f, 1.0f, 0, nullptr).is_ok());
}

}  // namespace
}  // namespace minke
