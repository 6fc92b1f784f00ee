// Op conformance, CPU vs CUDA: add_inplace, silu_mul, embedding (f32 and bf16 tables),
// gather_rows and rope, at the fixtures' and DeepSeek-V3's dimensions. Skips without a GPU.
#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/elementwise.h"
#include "gpu_test_util.h"
#include "tensor/numeric.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using test::random_f32;
using test::rel_error;

using CudaElementwise = test::GpuTest;

TEST_F(CudaElementwise, AddAndSiluMulMatchCpu) {
  for (int64_t n : {1, 1000, 7168 * 33, 2048 * 256 + 3}) {
    Tensor a = random_f32({n}, rng), b = random_f32({n}, rng, 4.0f);
    DeviceBuffer<float> da(a.data<float>(), size_t(n)), db(b.data<float>(), size_t(n)), dout{size_t(n)};
    ASSERT_TRUE(cuda::silu_mul(da.get(), db.get(), dout.get(), n, nullptr).is_ok());
    Tensor ref = Tensor::zeros(DType::kF32, {n});
    cpu.silu_mul(a, b, ref);
    EXPECT_LT(rel_error(dout.download(), ref.data<float>(), size_t(n)), 1e-6) << n;
    ASSERT_TRUE(cuda::add_inplace(da.get(), db.get(), n, nullptr).is_ok());
    cpu.add_inplace(a, b);
    EXPECT_LT(rel_error(da.download(), a.data<float>(), size_t(n)), 1e-7) << n;
  }
  EXPECT_FALSE(cuda::add_inplace(nullptr, nullptr, 5, nullptr).is_ok());
}

TEST_F(CudaElementwise, EmbeddingMatchesCpuForF32AndBf16Tables) {
  for (auto [vocab, dim] : {std::pair<int64_t, int64_t>{50, 7}, {129280, 16}, {2000, 7168}}) {  // V3: 129280 x 7168
    const int64_t tokens = 37;
    Tensor ids = Tensor::zeros(DType::kI32, {tokens});
    std::uniform_int_distribution<int32_t> pick(0, int32_t(vocab - 1));
    for (int64_t t = 0; t < tokens; ++t) ids.data<int32_t>()[t] = t == 0 ? int32_t(vocab - 1) : pick(rng);
    Tensor table = random_f32({vocab, dim}, rng);
    Tensor table16 = Tensor::zeros(DType::kBF16, {vocab, dim});
    for (int64_t i = 0; i < table.numel(); ++i) table16.data<uint16_t>()[i] = f32_to_bf16(table.data<float>()[i]);
    DeviceBuffer<int32_t> did(ids.data<int32_t>(), size_t(tokens));
    for (const Tensor* tab : {&table, &table16}) {
      const bool bf16 = tab->dtype() == DType::kBF16;
      DeviceBuffer<uint8_t> dtab(static_cast<const uint8_t*>(tab->raw()), size_t(tab->nbytes()));
      DeviceBuffer<float> dout{size_t(tokens * dim)};
      ASSERT_TRUE(cuda::embedding({did.get(), dtab.get(), bf16, dout.get(), tokens, dim}, nullptr).is_ok());
      Tensor ref = Tensor::zeros(DType::kF32, {tokens, dim});
      ASSERT_TRUE(cpu.embedding(ids, *tab, ref).is_ok());
      EXPECT_EQ(rel_error(dout.download(), ref.data<float>(), size_t(tokens * dim)), 0.0) << vocab << (bf16 ? " bf16" : " f32");
    }
  }
}

TEST_F(CudaElementwise, GatherRowsMatchesCpu) {
  const int64_t t = 40, dim = 7168;
  Tensor x = random_f32({t, dim}, rng);
  Tensor rows = Tensor::zeros(DType::kI32, {5});
  const int32_t picks[] = {39, 0, 7, 7, 20};
  for (int i = 0; i < 5; ++i) rows.data<int32_t>()[i] = picks[i];
  DeviceBuffer<float> dx(x.data<float>(), size_t(x.numel())), dout{size_t(5 * dim)};
  DeviceBuffer<int32_t> drows(rows.data<int32_t>(), 5);
  ASSERT_TRUE(cuda::gather_rows(dx.get(), drows.get(), dout.get(), 5, dim, nullptr).is_ok());
  Tensor ref = Tensor::zeros(DType::kF32, {5, dim});
  cpu.gather_rows(x, rows, ref);
  EXPECT_EQ(rel_error(dout.download(), ref.data<float>(), size_t(5 * dim)), 0.0);
}

TEST_F(CudaElementwise, RopeMatchesCpuOnInterleavedPairs) {
  // Fixture-like (8 heads, 24 dims, 8 pairs) and V3's query (128 heads x 192, 32 pairs of the
  // 64 rope channels), with YaRN-like frequencies and positions up to 160k.
  for (auto [heads, head_dim, half] : {std::tuple<int64_t, int64_t, int64_t>{8, 24, 8}, {128, 192, 32}, {1, 64, 32}}) {
    const int64_t tokens = 19;
    Tensor x = random_f32({tokens, heads, head_dim}, rng);
    Tensor pos = Tensor::zeros(DType::kI32, {tokens});
    for (int64_t i = 0; i < tokens; ++i) pos.data<int32_t>()[i] = int32_t(i == 0 ? 163839 : i * 977 % 8192);
    Tensor freq = Tensor::zeros(DType::kF32, {half});
    for (int64_t f = 0; f < half; ++f) freq.data<float>()[f] = std::pow(10000.0f, -2.0f * float(f) / float(2 * half)) / (f > half / 2 ? 40.0f : 1.0f);
    DeviceBuffer<float> dx(x.data<float>(), size_t(x.numel()));
    DeviceBuffer<int32_t> dpos(pos.data<int32_t>(), size_t(tokens));
    DeviceBuffer<float> dfreq(freq.data<float>(), size_t(half));
    const float mscale = 1.3465736f;
    ASSERT_TRUE(cuda::rope({dx.get(), dpos.get(), dfreq.get(), tokens, heads, head_dim, half, mscale}, nullptr).is_ok());
    cpu.rope(x, pos, freq, mscale);
    EXPECT_LT(rel_error(dx.download(), x.data<float>(), size_t(x.numel())), 1e-5) << heads << "x" << head_dim;
  }
  EXPECT_FALSE(cuda::rope({nullptr, nullptr, nullptr, 1, 1, 4, 3, 1.0f}, nullptr).is_ok());  // 2 * 3 > 4
}

}  // namespace
}  // namespace minke
