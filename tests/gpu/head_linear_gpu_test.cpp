// Op conformance, CPU vs CUDA: head_linear (out[t, h] = w[h] x[t, h]) through cuBLASLt
// (HeadLinear) and the SIMT fallback, at the fixture's absorbed-MLA shapes (4 heads, 64 <->
// 128), DeepSeek-V3's (128 heads, 128 -> 512 and 512 -> 128), odd shapes, and an input that
// is only 4-byte aligned. Bound 1e-5 relative (fp32, no TF32). Skips without a GPU.
#include <gtest/gtest.h>

#include <tuple>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/head_linear.h"
#include "gpu_test_util.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using test::random_f32;
using test::rel_error;

using CudaHeadLinear = test::GpuTest;

TEST_F(CudaHeadLinear, MatchesCpuThroughCublasLtAndSimt) {
  Result<std::unique_ptr<cuda::HeadLinear>> hl = cuda::HeadLinear::create();
  ASSERT_TRUE(hl.is_ok()) << hl.status().to_string();
  // tokens, heads, k, n; offset (floats) of x in its buffer: 1 leaves it 4-byte aligned.
  for (auto [t, h, k, n, offset] : {std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>{1, 4, 64, 128, 0},
                                    {7, 4, 128, 64, 0},
                                    {1, 128, 128, 512, 0},
                                    {33, 128, 128, 512, 0},
                                    {5, 128, 512, 128, 0},
                                    {3, 5, 13, 7, 0},
                                    {9, 16, 128, 512, 1},
                                    {70, 3, 100, 36, 1}}) {
    Tensor x = random_f32({t, h, k}, rng), w = random_f32({h, n, k}, rng, 0.1f);
    Tensor ref = Tensor::zeros(DType::kF32, {t, h, n});
    cpu.head_linear(x, w, ref);
    DeviceBuffer<float> dx{size_t(x.numel() + offset)}, dw(w.data<float>(), size_t(w.numel()));
    cudaMemcpy(dx.get() + offset, x.data<float>(), x.nbytes(), cudaMemcpyHostToDevice);
    for (bool simt : {false, true}) {
      DeviceBuffer<float> dout{size_t(t * h * n)};
      const cuda::HeadLinearParams p{dx.get() + offset, dw.get(), dout.get(), t, h, n, k};
      const Status st = simt ? cuda::head_linear_simt(p, nullptr) : (*hl)->run(p, nullptr);
      ASSERT_TRUE(st.is_ok()) << st.to_string();
      EXPECT_LT(rel_error(dout.download(), ref.data<float>(), size_t(ref.numel())), 1e-5)
          << (simt ? "simt " : "cublasLt ") << t << "x" << h << " " << k << "->" << n << " +" << offset;
    }
  }
  // Nulls are errors; tokens = 0 is a no-op.
  EXPECT_FALSE((*hl)->run(cuda::HeadLinearParams{}, nullptr).is_ok());
  DeviceBuffer<float> a{64}, b{64}, c{64};
  EXPECT_TRUE((*hl)->run({a.get(), b.get(), c.get(), 0, 4, 4, 4}, nullptr).is_ok());
}

}  // namespace
}  // namespace minke
