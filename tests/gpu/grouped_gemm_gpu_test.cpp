// Op conformance, CPU vs CUDA: cuda::grouped_gemm (and each of its two kernels forced) against a
// host loop of CpuBackend::linear per group: uneven groups, empty groups, more than 32 groups, a
// null-weight group (rows must be zero), e4m3 x e4m3 / f32 x e4m3 / f32 x bf16 / f32 x f32,
// odd dims, other block sizes, unaligned weights, DeepSeek-V3's expert shapes, the host-side
// checks and a CUDA graph capture. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "backend/cuda/fp8_quant.h"
#include "backend/cuda/grouped_gemm.h"
#include "backend/cuda/grouped_gemm_kernel.h"
#include "gemm_test_util.h"
#include "gpu_test_util.h"

namespace minke {
namespace {

using test::DeviceBuffer;
using test::DeviceWeight;
using test::random_f32;
using test::random_weight;
using test::rel_error;

constexpr double kTol = 1e-4;  // the kernels multiply the CPU's exact operands; only sums differ

struct Case {
  DType dtype;
  bool quantize;  // e4m3 activations (act_quant) for e4m3 weights
  int64_t n, k, block;
  std::vector<int32_t> rows;  // per group
  int null_group = -1;        // a group whose weight pointer is null
  size_t weight_offset = 0;   // bytes past alignment for every weight (unaligned loads)
};

// A grouped problem on host and device, with its CPU reference.
struct Grouped {
  Grouped(const Case& c, CpuBackend& cpu, std::mt19937& rng) : c(c) {
    groups = int64_t(c.rows.size());
    std::vector<int32_t> offsets(1, 0);
    for (int32_t r : c.rows) offsets.push_back(offsets.back() + r);
    rows = offsets.back();
    x = random_f32({std::max<int64_t>(rows, 1), c.k}, rng);
    ref = Tensor::zeros(DType::kF32, {std::max<int64_t>(rows, 1), c.n});
    std::vector<const void*> wptrs;
    std::vector<const float*> sptrs;
    for (int64_t g = 0; g < groups; ++g) {
      if (g == c.null_group) {
        wptrs.push_back(nullptr);
        sptrs.push_back(nullptr);
        continue;
      }
      const LinearWeight w = random_weight(c.dtype, c.n, c.k, c.block, rng, c.quantize);
      weights.push_back(std::make_unique<DeviceWeight>(w, c.weight_offset));
      wptrs.push_back(weights.back()->weight());
      sptrs.push_back(weights.back()->scale());
      const int64_t r0 = offsets[size_t(g)], r1 = offsets[size_t(g) + 1];
      if (r1 == r0) continue;
      Tensor xg = Tensor::zeros(DType::kF32, {r1 - r0, c.k});
      std::memcpy(xg.data<float>(), x.data<float>() + r0 * c.k, size_t((r1 - r0) * c.k) * sizeof(float));
      const Tensor yg = test::cpu_linear(cpu, xg, w);
      std::memcpy(ref.data<float>() + r0 * c.n, yg.data<float>(), size_t(yg.numel()) * sizeof(float));
    }
    dx = std::make_unique<DeviceBuffer<float>>(x.data<float>(), size_t(x.numel()));
    doffsets = std::make_unique<DeviceBuffer<int32_t>>(offsets);
    dweights = std::make_unique<DeviceBuffer<const void*>>(wptrs);
    dscales = std::make_unique<DeviceBuffer<const float*>>(sptrs);
    const bool e4m3 = c.dtype == DType::kF8E4M3;
    p.weights = dweights->get();
    p.weight_scales = e4m3 ? dscales->get() : nullptr;
    p.weight_type = test::weight_type_of(c.dtype);
    p.block_n = p.block_k = c.block;
    p.offsets = doffsets->get();
    p.rows = rows;
    p.n = c.n;
    p.k = c.k;
    p.groups = groups;
    p.max_group_rows = *std::max_element(c.rows.begin(), c.rows.end());
    p.x = dx->get();
    if (c.quantize && e4m3) {  // DeepSeek's act_quant, bit-exact with the CPU's fake quant
      const int64_t kb = (c.k + c.block - 1) / c.block;
      dq = std::make_unique<DeviceBuffer<uint8_t>>(size_t(std::max<int64_t>(rows, 1) * c.k));
      dqs = std::make_unique<DeviceBuffer<float>>(size_t(std::max<int64_t>(rows, 1) * kb));
      EXPECT_TRUE(cuda::act_quant({dx->get(), dq->get(), dqs->get(), rows, c.k, c.block}, nullptr).is_ok());
      p.x = nullptr;
      p.x_q = dq->get();
      p.x_scales = dqs->get();
    }
  }

  // Rows of the null group must be exactly zero, the rest match the CPU.
  void expect_matches(const std::vector<float>& got, const std::string& what) const {
    if (rows == 0) return;
    EXPECT_LT(rel_error(got, ref.data<float>(), size_t(rows * c.n)), kTol) << what;
    if (c.null_group < 0) return;
    const int64_t r0 = std::accumulate(c.rows.begin(), c.rows.begin() + c.null_group, int64_t(0));
    const int64_t r1 = r0 + c.rows[size_t(c.null_group)];
    int64_t nonzero = 0;
    for (int64_t i = r0 * c.n; i < r1 * c.n; ++i) nonzero += got[size_t(i)] != 0.0f;
    EXPECT_EQ(nonzero, 0) << what << ": the null-weight group's rows";
  }

  Case c;
  int64_t groups = 0, rows = 0;
  Tensor x, ref;
  std::vector<std::unique_ptr<DeviceWeight>> weights;
  std::unique_ptr<DeviceBuffer<float>> dx, dqs;
  std::unique_ptr<DeviceBuffer<uint8_t>> dq;
  std::unique_ptr<DeviceBuffer<int32_t>> doffsets;
  std::unique_ptr<DeviceBuffer<const void*>> dweights;
  std::unique_ptr<DeviceBuffer<const float*>> dscales;
  cuda::GroupedGemmParams p;
};

using CudaGroupedGemm = test::GpuTest;

// The public entry (with a tight and a loose row bound: each picks its kernel) and both kernels
// forced, each into a fresh NaN-poisoned output.
void run_all_ways(const Grouped& g, const std::string& what) {
  const size_t count = size_t(std::max<int64_t>(g.rows, 1) * g.c.n);
  for (int64_t bound : {g.p.max_group_rows, int64_t(0)}) {
    DeviceBuffer<float> out{count};
    cuda::GroupedGemmParams p = g.p;
    p.max_group_rows = bound;
    p.out = out.get();
    const Status s = cuda::grouped_gemm(p, nullptr);
    ASSERT_TRUE(s.is_ok()) << what << ": " << s.to_string();
    g.expect_matches(out.download(), what + " grouped_gemm max_group_rows=" + std::to_string(bound));
  }
  for (auto kernel : {cuda::detail::GemmKernel::kSkinny, cuda::detail::GemmKernel::kTiled}) {
    DeviceBuffer<float> out{count};
    cuda::detail::GemmKernelArgs a = cuda::detail::kernel_args(g.p);
    a.out = out.get();
    const Status s = cuda::detail::launch_gemm_kernel(a, kernel, nullptr);
    ASSERT_TRUE(s.is_ok()) << what << ": " << s.to_string();
    g.expect_matches(out.download(), what + (kernel == cuda::detail::GemmKernel::kSkinny ? " skinny" : " tiled"));
  }
}

std::string describe(const Case& c) {
  return fmt::format("{}{} n={} k={} block={} groups={}{}", c.quantize ? "e4m3 x " : "f32 x ", dtype_name(c.dtype),
                     c.n, c.k, c.block, c.rows.size(), c.weight_offset ? " unaligned" : "");
}

TEST_F(CudaGroupedGemm, UnevenAndEmptyGroupsMatchCpu) {
  const std::vector<int32_t> uneven = {5, 0, 17, 1, 0, 40, 3, 0, 2, 70};
  const std::vector<int32_t> small = {5, 0, 7, 1, 0, 16, 3, 0, 2};
  for (const auto& rows : {uneven, small})
    for (auto [dtype, quantize] : {std::pair{DType::kF8E4M3, true}, std::pair{DType::kF8E4M3, false},
                                   std::pair{DType::kBF16, false}, std::pair{DType::kF32, false}})
      for (auto [n, k] : {std::pair<int64_t, int64_t>{96, 80}, {45, 83}, {160, 256}}) {
        const Case c{dtype, quantize, n, k, 128, rows, 2};
        run_all_ways(Grouped(c, cpu, rng), describe(c));
      }
}

TEST_F(CudaGroupedGemm, ManyGroupsAndOtherBlocksMatchCpu) {
  std::uniform_int_distribution<int32_t> pick(0, 6);
  std::vector<int32_t> rows(40);  // more groups than a warp scans at once
  for (int32_t& r : rows) r = pick(rng);
  rows[33] = 0;
  for (auto [dtype, quantize] : {std::pair{DType::kF8E4M3, true}, std::pair{DType::kBF16, false}}) {
    const Case c{dtype, quantize, 64, 128, 128, rows, 35};
    run_all_ways(Grouped(c, cpu, rng), describe(c));
  }
  for (int64_t block : {64, 32}) {
    const Case c{DType::kF8E4M3, true, 100, 200, block, {3, 20, 0, 9}, -1};
    run_all_ways(Grouped(c, cpu, rng), describe(c));
  }
  const Case empty{DType::kBF16, false, 64, 128, 128, {0, 0, 0}, -1};
  run_all_ways(Grouped(empty, cpu, rng), "all groups empty");
}

// Weights not 16-byte aligned take the scalar loads (checked per weight on the device).
TEST_F(CudaGroupedGemm, UnalignedWeightsMatchCpu) {
  for (auto [dtype, quantize, offset] : {std::tuple{DType::kBF16, false, size_t(2)}, std::tuple{DType::kF8E4M3, true, size_t(1)},
                                         std::tuple{DType::kF32, false, size_t(4)}}) {
    const Case c{dtype, quantize, 96, 256, 128, {4, 30, 0, 2}, 2, offset};
    run_all_ways(Grouped(c, cpu, rng), describe(c));
  }
}

// DeepSeek-V3's experts: gate/up 2048 x 7168 and down 7168 x 2048, decode-like and prefill-like
// row counts.
TEST_F(CudaGroupedGemm, ExpertShapesMatchCpu) {
  const std::vector<int32_t> decode = {1, 3, 0, 2, 16, 5, 0, 9};
  const std::vector<int32_t> prefill = {70, 0, 129, 3};
  for (auto [n, k] : {std::pair<int64_t, int64_t>{2048, 7168}, {7168, 2048}}) {
    for (const auto& rows : {decode, prefill}) {
      const Case c{DType::kF8E4M3, true, n, k, 128, rows, 2};
      run_all_ways(Grouped(c, cpu, rng), describe(c));
    }
    const Case bf16{DType::kBF16, false, n, k, 128, decode, 6};
    run_all_ways(Grouped(bf16, cpu, rng), describe(bf16));
  }
}

TEST_F(CudaGroupedGemm, RejectsBadArgumentsWithoutAborting) {
  const Case c{DType::kF8E4M3, true, 64, 128, 128, {2, 3}, -1};
  const Grouped g(c, cpu, rng);
  DeviceBuffer<float> out{size_t(g.rows * c.n)};
  cuda::GroupedGemmParams p = g.p;
  p.out = out.get();
  ASSERT_TRUE(cuda::grouped_gemm(p, nullptr).is_ok());
  auto bad = p;
  bad.x = g.dx->get();  // both x and x_q
  EXPECT_FALSE(cuda::grouped_gemm(bad, nullptr).is_ok());
  bad = p;
  bad.weight_type = cuda::WeightType::kBF16;  // e4m3 activations need e4m3 weights
  EXPECT_FALSE(cuda::grouped_gemm(bad, nullptr).is_ok());
  bad = p;
  bad.weight_scales = nullptr;
  EXPECT_FALSE(cuda::grouped_gemm(bad, nullptr).is_ok());
  bad = p;
  bad.offsets = nullptr;
  EXPECT_FALSE(cuda::grouped_gemm(bad, nullptr).is_ok());
  bad = p;
  bad.weights = nullptr;
  EXPECT_FALSE(cuda::grouped_gemm(bad, nullptr).is_ok());
  bad = p;
  bad.max_group_rows = -1;
  EXPECT_FALSE(cuda::grouped_gemm(bad, nullptr).is_ok());
  bad = p;
  bad.k = 0;
  EXPECT_FALSE(cuda::grouped_gemm(bad, nullptr).is_ok());
  bad = p;
  bad.rows = 0;
  EXPECT_TRUE(cuda::grouped_gemm(bad, nullptr).is_ok());
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

// One launch, offsets read on the device: the call captures into a CUDA graph as it is.
TEST_F(CudaGroupedGemm, CapturesIntoAGraph) {
  for (const std::vector<int32_t>& rows : {std::vector<int32_t>{3, 0, 8, 1}, std::vector<int32_t>{40, 0, 90, 1}}) {
    const Case c{DType::kF8E4M3, true, 256, 512, 128, rows, 1};
    const Grouped g(c, cpu, rng);
    DeviceBuffer<float> out{size_t(g.rows * c.n)};
    cuda::GroupedGemmParams p = g.p;
    p.out = out.get();
    cudaStream_t stream;
    ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
    cudaGraph_t graph;
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), cudaSuccess);
    const Status s = cuda::grouped_gemm(p, stream);
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    cudaGraphExec_t exec;
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
    ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    g.expect_matches(out.download(), "graph " + describe(c));
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(stream);
  }
}

}  // namespace
}  // namespace minke
