// Op conformance, CPU vs CUDA: cuda::Gemm::linear against CpuBackend::linear for f32, bf16 and
// e4m3 weights, with and without quantize_input, at fixture-like odd dims (partial 128-blocks,
// k not a multiple of the vector width) and DeepSeek-V3's real shapes; every path (cuBLASLt f32 /
// bf16 / FP8 block-scaled, the skinny and tiled kernels), cuBLASLt against the own kernels, the
// host-side checks, and a CUDA graph capture of warmed-up shapes. Skips without a GPU.
#include <gtest/gtest.h>

#include <cstdio>

#include <memory>
#include <string>
#include <tuple>

#include "backend/cuda/gemm.h"
#include "gemm_test_util.h"
#include "gpu_test_util.h"

namespace minke {
namespace {

using cuda::GemmPath;
using test::DeviceBuffer;
using test::DeviceWeight;
using test::random_f32;
using test::random_weight;
using test::rel_error;

constexpr double kF32Tol = 1e-5;   // fp32-exact paths
constexpr double kOwnTol = 1e-4;   // the own kernels: the CPU's exact operands, f32 sums
constexpr double kLowTol = 1e-2;   // cuBLASLt on bf16 / e4m3 operands

bool fp8_cublas(GemmPath path) {
  return path == GemmPath::kCublasFp8Block || path == GemmPath::kCublasFp8BlockBf16Out;
}

class CudaGemm : public test::GpuTest {
 protected:
  void SetUp() override {
    test::GpuTest::SetUp();
    if (IsSkipped()) return;
    auto made = cuda::Gemm::create();
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    gemm = std::move(made).value();
  }

  // x and w on the device, ready to run through Gemm::linear either way.
  struct Problem {
    Problem(const Tensor& x, const LinearWeight& w) : dx(x.data<float>(), size_t(x.numel())), dw(w) {
      p.x = dx.get();
      p.w = dw.weight();
      p.w_type = test::weight_type_of(w.weight.dtype());
      p.w_scales = dw.scale();
      p.block_n = w.block_n;
      p.block_k = w.block_k;
      p.quantize_input = w.quantize_input;
      p.m = x.dim(0);
      p.n = w.out_features();
      p.k = w.in_features();
    }
    DeviceBuffer<float> dx;
    DeviceWeight dw;
    cuda::LinearParams p;
  };

  // Runs p (with force_own_kernel = own) into a fresh NaN-poisoned output; returns it and the path.
  std::pair<std::vector<float>, GemmPath> run(cuda::LinearParams p, bool own) {
    DeviceBuffer<float> out{size_t(p.m * p.n)};
    p.out = out.get();
    p.force_own_kernel = own;
    auto path = gemm->plan(p);
    EXPECT_TRUE(path.is_ok()) << path.status().to_string();
    const Status s = gemm->linear(p, nullptr);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return {out.download(), path.is_ok() ? *path : GemmPath::kTiled};
  }

  // Both ways (the default path and the own kernel) against the CPU; returns the default path.
  GemmPath check(int64_t m, int64_t n, int64_t k, DType dtype, bool quantize, int64_t block = 128) {
    const Tensor x = random_f32({m, k}, rng);
    const LinearWeight w = random_weight(dtype, n, k, block, rng, quantize);
    const Tensor ref = test::cpu_linear(cpu, x, w);
    Problem prob(x, w);
    const std::string what = fmt::format("{} m={} n={} k={} block={}{}", dtype_name(dtype), m, n, k, block,
                                         quantize ? " quantize_input" : "");
    const auto [got, path] = run(prob.p, false);
    // The split-bf16 path keeps ~16 bits of every activation: as tight as the own kernels.
    const bool exact_path = path == GemmPath::kSkinny || path == GemmPath::kTiled ||
                            path == GemmPath::kCublasF32 || path == GemmPath::kCublasBF16Split;
    const double tol = dtype == DType::kF32 ? kF32Tol : exact_path ? kOwnTol : kLowTol;
    EXPECT_LT(rel_error(got, ref.data<float>(), got.size()), tol) << what << " via " << cuda::Gemm::path_name(path);
    if (path != GemmPath::kSkinny && path != GemmPath::kTiled) {
      const auto [own, own_path] = run(prob.p, true);
      EXPECT_LT(rel_error(own, ref.data<float>(), own.size()), dtype == DType::kF32 ? kF32Tol : kOwnTol)
          << what << " via " << cuda::Gemm::path_name(own_path);
      EXPECT_LT(rel_error(got, own.data(), got.size()), tol) << what << ": cuBLASLt vs own kernel";
    }
    return path;
  }

  std::unique_ptr<cuda::Gemm> gemm;
};

// Fixture-like dims: partial 128-blocks in n and k, k not a multiple of 8 or 16 (scalar loads),
// a scale row of 5 blocks (cuBLASLt FP8 wants a multiple of 4: repacked), m around the
// skinny/tiled and cuBLASLt thresholds.
TEST_F(CudaGemm, FixtureDimsMatchCpuOnEveryPath) {
  const std::tuple<int64_t, int64_t> dims[] = {{96, 80}, {45, 83}, {384, 192}, {160, 256}, {256, 640}};
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3})
    for (bool quantize : {false, true})
      for (int64_t m : {1, 3, 16, 17, 64, 200})
        for (auto [n, k] : dims) check(m, n, k, dtype, quantize);
}

TEST_F(CudaGemm, OtherBlockSizesMatchCpu) {
  for (int64_t m : {2, 40})
    for (bool quantize : {false, true}) {
      check(m, 100, 200, DType::kF8E4M3, quantize, 64);
      check(m, 70, 96, DType::kF8E4M3, quantize, 32);
    }
}

// How far cuBLASLt's FP8 block-scaled product lands from the exact one (the own kernel on the
// same act_quant'ed operands) at the fixture's and V3's shapes: printed, since W8A8 goldens
// are sensitive to it (a perturbation can flip the next act_quant's rounding), and bounded.
TEST_F(CudaGemm, Fp8CublasAccuracyAgainstExactProducts) {
  const std::tuple<int64_t, int64_t, int64_t> shapes[] = {{40, 192, 256}, {40, 160, 256}, {40, 256, 256},
                                                          {150, 256, 512}, {128, 2112, 7168}, {128, 7168, 2048}};
  for (auto [m, n, k] : shapes) {
    const Tensor x = random_f32({m, k}, rng);
    const LinearWeight w = random_weight(DType::kF8E4M3, n, k, 128, rng, true);
    Problem prob(x, w);
    const auto [got, path] = run(prob.p, false);
    const auto [own, own_path] = run(prob.p, true);
    const double err = rel_error(got, own.data(), got.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, std::abs(double(got[i]) - own[i]) / (std::abs(double(own[i])) + 1e-3));
    std::printf("fp8 m=%lld n=%lld k=%lld via %s: relative error vs exact %.3e (worst element %.3e)\n",
                (long long)m, (long long)n, (long long)k, cuda::Gemm::path_name(path), err, worst);
    EXPECT_LT(err, kLowTol);
  }
}

TEST_F(CudaGemm, PathsFollowTheDispatchRules) {
  EXPECT_EQ(check(1, 96, 80, DType::kF32, false), GemmPath::kCublasF32);
  EXPECT_EQ(check(64, 96, 80, DType::kF32, false), GemmPath::kCublasF32);
  EXPECT_EQ(check(16, 96, 80, DType::kBF16, false), GemmPath::kSkinny);
  EXPECT_EQ(check(17, 96, 80, DType::kBF16, false), GemmPath::kCublasBF16Split);
  gemm->set_options({.split_bf16_activations = false});
  EXPECT_EQ(check(17, 96, 80, DType::kBF16, false), GemmPath::kCublasBF16);
  gemm->set_options({.own_kernels_only = true});
  EXPECT_EQ(check(64, 96, 80, DType::kF32, false), GemmPath::kTiled);
  gemm->set_options({});
  EXPECT_EQ(check(3, 256, 512, DType::kF8E4M3, true), GemmPath::kSkinny);
  EXPECT_EQ(check(64, 256, 512, DType::kF8E4M3, false), GemmPath::kTiled);
  EXPECT_EQ(check(64, 96, 80, DType::kF8E4M3, true), GemmPath::kTiled);  // k % 128 != 0
  const GemmPath fp8 = check(64, 256, 512, DType::kF8E4M3, true);
  EXPECT_TRUE(fp8_cublas(fp8)) << "cuBLASLt refused FP8 block scaling (" << cuda::Gemm::path_name(fp8)
                               << " serves it: correct but slow)";
  EXPECT_EQ(fp8, GemmPath::kCublasFp8Block) << "cuBLASLt FP8 block scaling only with a bf16 output";
}

// DeepSeek-V3's shapes (N x K): q_a/kv_a (2112 x 7168), q_b (24576 x 1536), kv_b (32768 x 512),
// o_proj (7168 x 16384), dense/shared gate-up (4096 x 7168 as 2 x 2048 experts-wide), down
// (7168 x 2048). Decode-sized m, plus prefill-sized m through cuBLASLt.
TEST_F(CudaGemm, RealShapesMatchCpu) {
  const std::tuple<int64_t, int64_t> shapes[] = {{2112, 7168}, {24576, 1536}, {32768, 512},
                                                 {7168, 16384}, {4096, 7168}, {7168, 2048}};
  for (auto [n, k] : shapes) {
    EXPECT_EQ(check(1, n, k, DType::kF8E4M3, true), GemmPath::kSkinny);
    EXPECT_EQ(check(3, n, k, DType::kBF16, false), GemmPath::kSkinny);
  }
  check(2, 2112, 7168, DType::kF8E4M3, false);
  check(5, 256, 7168, DType::kF32, false);  // the router's f32 gate
  EXPECT_TRUE(fp8_cublas(check(256, 4096, 7168, DType::kF8E4M3, true)));
  EXPECT_TRUE(fp8_cublas(check(200, 7168, 2048, DType::kF8E4M3, true)));  // m padded to 208
  EXPECT_TRUE(fp8_cublas(check(40, 2112, 7168, DType::kF8E4M3, true)));  // m padded to 48
  EXPECT_EQ(check(64, 2112, 7168, DType::kBF16, false), GemmPath::kCublasBF16Split);
}

TEST_F(CudaGemm, RejectsBadArgumentsWithoutAborting) {
  DeviceBuffer<float> x{64}, out{64}, scales{4};
  DeviceBuffer<uint8_t> w{64};
  cuda::LinearParams p;
  p.x = x.get();
  p.w = w.get();
  p.w_type = cuda::WeightType::kF8E4M3;
  p.w_scales = scales.get();
  p.out = out.get();
  p.m = 2;
  p.n = 4;
  p.k = 8;
  EXPECT_TRUE(gemm->linear(p, nullptr).is_ok());
  auto bad = p;
  bad.w_scales = nullptr;
  EXPECT_FALSE(gemm->linear(bad, nullptr).is_ok());
  bad = p;
  bad.x = nullptr;
  EXPECT_FALSE(gemm->linear(bad, nullptr).is_ok());
  bad = p;
  bad.n = 0;
  EXPECT_FALSE(gemm->linear(bad, nullptr).is_ok());
  bad = p;
  bad.block_k = 0;
  EXPECT_FALSE(gemm->plan(bad).is_ok());
  bad = p;
  bad.m = 0;
  bad.x = nullptr;
  bad.out = nullptr;
  EXPECT_TRUE(gemm->linear(bad, nullptr).is_ok());
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

// After one warm-up call per shape (scratch and plans in place), linear is graph-capturable.
TEST_F(CudaGemm, WarmShapesCaptureIntoAGraph) {
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  struct Case { int64_t m, n, k; DType dtype; bool quantize; };
  for (const Case& c : {Case{64, 256, 1024, DType::kF8E4M3, true}, Case{40, 256, 1024, DType::kF8E4M3, true},
                        Case{2, 256, 1024, DType::kF8E4M3, true}, Case{64, 256, 1024, DType::kBF16, false},
                        Case{8, 256, 1024, DType::kF32, true}}) {
    const Tensor x = random_f32({c.m, c.k}, rng);
    const LinearWeight w = random_weight(c.dtype, c.n, c.k, 128, rng, c.quantize);
    const Tensor ref = test::cpu_linear(cpu, x, w);
    Problem prob(x, w);
    DeviceBuffer<float> out{size_t(c.m * c.n)};
    prob.p.out = out.get();
    ASSERT_TRUE(gemm->linear(prob.p, stream).is_ok());  // warm-up
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    ASSERT_EQ(cudaMemset(out.get(), 0xff, size_t(c.m * c.n) * sizeof(float)), cudaSuccess);
    cudaGraph_t graph;
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
    const Status s = gemm->linear(prob.p, stream);
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    cudaGraphExec_t exec;
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
    ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    const auto path = gemm->plan(prob.p);
    const double tol = path.is_ok() && (*path == GemmPath::kCublasBF16 || fp8_cublas(*path)) ? kLowTol
                       : c.dtype == DType::kF32                                                            ? kF32Tol
                                                                                                           : kOwnTol;
    EXPECT_LT(rel_error(out.download(), ref.data<float>(), size_t(c.m * c.n)), tol)
        << c.m << "x" << c.n << "x" << c.k << " " << dtype_name(c.dtype);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
  }
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace minke
