// Backend::fill_uniform on the CPU (the reference the CUDA kernel must match byte for byte):
// values in [lo, hi) with the right mean and spread, deterministic in (seed, index) whatever
// the thread count, different per seed, and narrowed to bf16 / e4m3 exactly as numeric.h does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "backend/cpu/cpu_backend.h"
#include "backend/random_fill.h"
#include "tensor/numeric.h"

namespace minke {
namespace {

float value(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kF32: return t.data<float>()[i];
    case DType::kBF16: return bf16_to_f32(t.data<uint16_t>()[i]);
    default: return e4m3_to_f32(t.data<uint8_t>()[i]);
  }
}

TEST(RandomFill, RangeMeanAndSpread) {
  CpuBackend be(3);
  const int64_t n = 200003;
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3}) {
    const float lo = dtype == DType::kF8E4M3 ? -448.0f : -0.5f;
    const float hi = dtype == DType::kF8E4M3 ? 448.0f : 1.5f;
    Tensor t = Tensor::zeros(dtype, {n});
    be.fill_uniform(t, lo, hi, 1234);
    double sum = 0, sq = 0;
    float mn = hi, mx = lo;
    for (int64_t i = 0; i < n; ++i) {
      const float v = value(t, i);
      ASSERT_TRUE(std::isfinite(v)) << dtype_name(dtype) << " element " << i;
      mn = std::min(mn, v);
      mx = std::max(mx, v);
      sum += v;
      sq += double(v) * v;
    }
    const double w = hi - lo, mean = sum / double(n), var = sq / double(n) - mean * mean;
    EXPECT_GE(mn, lo) << dtype_name(dtype);
    if (dtype == DType::kF32) EXPECT_LT(mx, hi);
    else EXPECT_LE(mx, hi) << dtype_name(dtype);  // rounding to the narrow type may reach hi
    EXPECT_LT(mn, lo + 0.01 * w) << dtype_name(dtype);  // the whole range is used
    EXPECT_GT(mx, hi - 0.01 * w) << dtype_name(dtype);
    EXPECT_NEAR(mean, (lo + hi) / 2, 0.01 * w) << dtype_name(dtype);
    EXPECT_NEAR(std::sqrt(var), w / std::sqrt(12.0), 0.02 * w) << dtype_name(dtype);
  }
}

TEST(RandomFill, DeterministicAcrossThreadCountsAndDifferentPerSeed) {
  CpuBackend one(1), many(4);
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3}) {
    Tensor a = Tensor::zeros(dtype, {3, 50001}), b = Tensor::zeros(dtype, {3, 50001});
    Tensor c = Tensor::zeros(dtype, {3, 50001});
    one.fill_uniform(a, -2.0f, 2.0f, 99);
    many.fill_uniform(b, -2.0f, 2.0f, 99);
    many.fill_uniform(c, -2.0f, 2.0f, 100);
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0) << dtype_name(dtype);
    int64_t same = 0;
    for (int64_t i = 0; i < a.numel(); ++i) same += value(a, i) == value(c, i);
    EXPECT_LT(double(same) / double(a.numel()), dtype == DType::kF8E4M3 ? 0.05 : 0.01)
        << dtype_name(dtype);
    // A prefix of a longer fill is the shorter fill: values depend on the index alone.
    Tensor shorter = Tensor::zeros(dtype, {777});
    one.fill_uniform(shorter, -2.0f, 2.0f, 99);
    EXPECT_EQ(std::memcmp(a.raw(), shorter.raw(), shorter.nbytes()), 0) << dtype_name(dtype);
  }
}

TEST(RandomFill, ConstantWhenLoEqualsHiAndHalfOpenAtTheTop) {
  CpuBackend be(2);
  Tensor ones = Tensor::zeros(DType::kBF16, {1001});
  be.fill_uniform(ones, 1.0f, 1.0f, 5);
  for (int64_t i = 0; i < ones.numel(); ++i) ASSERT_EQ(ones.data<uint16_t>()[i], 0x3f80);
  // At 1000 a float step is 2^-14, so lo + (hi - lo) * u rounds onto hi for u near 1.
  Tensor t = Tensor::zeros(DType::kF32, {100000});
  be.fill_uniform(t, 1000.0f, 1001.0f, 6);
  for (int64_t i = 0; i < t.numel(); ++i) {
    ASSERT_GE(t.data<float>()[i], 1000.0f);
    ASSERT_LT(t.data<float>()[i], 1001.0f);
  }
}

// The integer narrowing in random_fill.h against numeric.h's reference conversions.
TEST(RandomFill, NarrowingMatchesNumericConversions) {
  std::vector<float> xs = {0.0f, -0.0f, 448.0f, -448.0f, 447.9f, 464.0f, 463.9f, 1e6f, -1e30f,
                           0x1p-6f, 0x1p-7f, 0x1p-9f, 0x1p-10f, 0x1.8p-10f, 0x1p-11f, 1e-40f,
                           -3.0f * 0x1p-10f, 0x1.1p-6f, 0x1.3p-6f, 17.0f, 18.0f, 19.0f,
                           std::numeric_limits<float>::infinity()};
  // Every e4m3 value and every midpoint between neighbours (the ties), and their neighbours.
  for (int b = 0; b < 0x7e; ++b) {
    const float v = e4m3_to_f32(uint8_t(b)), next = e4m3_to_f32(uint8_t(b + 1));
    const float mid = (v + next) / 2;
    for (float x : {v, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1000.0f)}) {
      xs.push_back(x);
      xs.push_back(-x);
    }
  }
  std::mt19937 rng(3);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    const uint32_t u = bits(rng);
    float f;
    std::memcpy(&f, &u, 4);
    if (!std::isnan(f)) xs.push_back(f);
  }
  for (float x : xs) {
    ASSERT_EQ(random_fill::to_e4m3(x), f32_to_e4m3(x)) << x;
    ASSERT_EQ(random_fill::to_bf16(x), f32_to_bf16(x)) << x;
  }
  EXPECT_EQ(random_fill::to_e4m3(std::nanf("")), 0x7f);
}

}  // namespace
}  // namespace minke
