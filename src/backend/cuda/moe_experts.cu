// moe_experts: the expert MLPs of one MoE layer as three grouped GEMMs over the tokens
// sorted by expert (moe_permute), then a deterministic weighted un-permutation. All scratch
// comes from the caller's workspace; nothing waits for the host (graph-capturable).
#include <algorithm>
#include <climits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/elementwise.h"
#include "backend/cuda/fp8_quant.h"
#include "backend/cuda/moe.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 256;
constexpr size_t kAlign = 256;
constexpr int64_t kMaxTopK = 32;
constexpr int64_t kMaxQuantRows = 65535;  // act_quant / fp8_fake_quant rows per launch

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Byte offsets of the activation buffers, after the permutation's part of the workspace.
struct Layout {
  size_t xs;       // f32 [pairs, hidden]: gathered x, later the down output y
  size_t gate;     // f32 [pairs, inter]: gate, then silu(gate) * up
  size_t up;       // f32 [pairs, inter]
  size_t xq;       // e4m3 [pairs, max(hidden, inter)]: act_quant bytes
  size_t xscales;  // f32 [pairs, ceil(max(hidden, inter) / block_k)]
  size_t total;    // 0: the permutation's size query failed
};

Layout make_layout(int64_t tokens, int64_t top_k, int64_t experts, int64_t hidden, int64_t inter, int64_t block_k) {
  Layout l{};
  const size_t permute = moe_permute_workspace_bytes(tokens, top_k, experts);
  if (permute == 0) return l;
  const size_t pairs = size_t(tokens * top_k), kmax = size_t(std::max(hidden, inter));
  size_t at = align_up(permute);
  auto take = [&at](size_t bytes) {
    const size_t offset = at;
    at += align_up(bytes);
    return offset;
  };
  l.xs = take(pairs * size_t(hidden) * sizeof(float));
  l.gate = take(pairs * size_t(inter) * sizeof(float));
  l.up = take(pairs * size_t(inter) * sizeof(float));
  l.xq = take(pairs * kmax);
  l.xscales = take(pairs * ((kmax + size_t(block_k) - 1) / size_t(block_k)) * sizeof(float));
  l.total = at;
  return l;
}

// out[t, :] = sum over j = 0..k-1 of weights[t, j] * y[inverse[t*k + j], :], skipping pairs
// whose expert is out of range or not held here. grid (tokens, column chunks).
__global__ void combine_kernel(const float* y,            // [pairs, hidden] sorted by expert
                               const int32_t* inverse,    // [tokens * top_k]
                               const int32_t* ids,        // [tokens, top_k]
                               const float* weights,      // [tokens, top_k]
                               const void* const* held,   // [experts] down weights, null when not held
                               float* out,                // [tokens, hidden]
                               int64_t hidden, int top_k, int experts) {
  __shared__ int64_t row[kMaxTopK];
  __shared__ float weight[kMaxTopK];
  const int64_t t = blockIdx.x;
  if (threadIdx.x < top_k) {
    const int64_t pair = t * top_k + threadIdx.x;
    const int32_t e = ids[pair];
    const bool here = e >= 0 && e < experts && held[e] != nullptr;
    row[threadIdx.x] = here ? int64_t(inverse[pair]) : -1;
    weight[threadIdx.x] = weights[pair];
  }
  __syncthreads();
  for (int64_t c = int64_t(blockIdx.y) * blockDim.x + threadIdx.x; c < hidden; c += int64_t(gridDim.y) * blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j < top_k; ++j)
      if (row[j] >= 0) acc += weight[j] * y[row[j] * hidden + c];
    out[t * hidden + c] = acc;
  }
}

// act_quant over any number of rows (one launch takes at most kMaxQuantRows).
Status quantize_rows(const float* x, uint8_t* q, float* scales, int64_t rows, int64_t k, int64_t block,
                     cudaStream_t stream) {
  const int64_t blocks = (k + block - 1) / block;
  for (int64_t r = 0; r < rows; r += kMaxQuantRows) {
    const int64_t n = std::min(kMaxQuantRows, rows - r);
    MINKE_TRY(act_quant({x + r * k, q + r * k, scales + r * blocks, n, k, block}, stream));
  }
  return Status::ok();
}

Status fake_quantize_rows(float* x, int64_t rows, int64_t k, int64_t block, cudaStream_t stream) {
  for (int64_t r = 0; r < rows; r += kMaxQuantRows)
    MINKE_TRY(fp8_fake_quant(x + r * k, std::min(kMaxQuantRows, rows - r), k, block, stream));
  return Status::ok();
}

// Points g at its input x [rows, k] (scratch: may be rounded in place). With `quantize`, e4m3
// weights get real e4m3 activations (the W8A8 product); other weights the same values as
// f32 (act_quant and back), which is what the CPU computes.
Status set_input(float* x, bool quantize, uint8_t* xq, float* xscales, int64_t k, GroupedGemmParams& g,
                 cudaStream_t stream) {
  g.x = x;
  g.x_q = nullptr;
  g.x_scales = nullptr;
  if (!quantize) return Status::ok();
  if (g.weight_type == WeightType::kF8E4M3) {
    MINKE_TRY(quantize_rows(x, xq, xscales, g.rows, k, g.block_k, stream));
    g.x = nullptr;
    g.x_q = xq;
    g.x_scales = xscales;
    return Status::ok();
  }
  return fake_quantize_rows(x, g.rows, k, g.block_k, stream);
}

Status check(const MoeExpertsParams& p) {
  if (p.tokens < 0 || p.hidden < 1 || p.inter < 1 || p.experts < 1 || p.experts >= INT32_MAX || p.top_k < 1 ||
      p.top_k > kMaxTopK || p.top_k > p.experts || p.block_n < 1 || p.block_k < 1)
    return invalid_argument("cuda::moe_experts: bad sizes: {} tokens, hidden {}, inter {}, {} experts, top_k {} (at most {}), "
                            "blocks {}x{}", p.tokens, p.hidden, p.inter, p.experts, p.top_k, kMaxTopK, p.block_n, p.block_k);
  if (p.tokens > INT32_MAX / p.top_k) return invalid_argument("cuda::moe_experts: {} tokens x top_k {}", p.tokens, p.top_k);
  if (p.tokens > 0 && (p.x == nullptr || p.ids == nullptr || p.weights == nullptr || p.out == nullptr))
    return invalid_argument("cuda::moe_experts: null activation pointer");
  if (p.gate_weights == nullptr || p.up_weights == nullptr || p.down_weights == nullptr)
    return invalid_argument("cuda::moe_experts: null expert weight array");
  if (p.weight_type == WeightType::kF8E4M3 &&
      (p.gate_scales == nullptr || p.up_scales == nullptr || p.down_scales == nullptr))
    return invalid_argument("cuda::moe_experts: e4m3 experts without scale arrays");
  return Status::ok();
}

}  // namespace

size_t moe_workspace_bytes(int64_t tokens, int64_t top_k, int64_t experts, int64_t hidden, int64_t inter,
                           int64_t block_k) {
  if (tokens < 0 || top_k < 1 || experts < 1 || hidden < 1 || inter < 1 || block_k < 1) return 0;
  return make_layout(tokens, top_k, experts, hidden, inter, block_k).total;
}

Status moe_experts(const MoeExpertsParams& p, cudaStream_t stream) {
  MINKE_TRY(check(p));
  const Layout l = make_layout(p.tokens, p.top_k, p.experts, p.hidden, p.inter, p.block_k);
  if (l.total == 0) return internal_error("cuda::moe_experts: CUB's workspace size query failed");
  if (p.workspace == nullptr || reinterpret_cast<uintptr_t>(p.workspace) % kAlign != 0 || p.workspace_bytes < l.total)
    return invalid_argument("cuda::moe_experts: workspace {} of {} bytes (needs {}, 256-byte aligned)", p.workspace,
                            p.workspace_bytes, l.total);
  if (p.tokens == 0) return Status::ok();
  const int64_t pairs = p.tokens * p.top_k;
  char* ws = static_cast<char*>(p.workspace);
  float* xs = reinterpret_cast<float*>(ws + l.xs);      // [pairs, hidden]
  float* gate = reinterpret_cast<float*>(ws + l.gate);  // [pairs, inter]
  float* up = reinterpret_cast<float*>(ws + l.up);      // [pairs, inter]
  auto* xq = reinterpret_cast<uint8_t*>(ws + l.xq);
  float* xscales = reinterpret_cast<float*>(ws + l.xscales);

  // Sort the pairs by expert and gather their token rows.
  MoePermutation perm;
  MINKE_TRY(moe_permute({p.ids, p.tokens, p.top_k, p.experts, p.workspace, l.xs}, &perm, stream));
  MINKE_TRY(gather_rows(p.x, perm.src_rows, xs, pairs, p.hidden, stream));

  GroupedGemmParams g;
  g.weight_type = p.weight_type;
  g.block_n = p.block_n;
  g.block_k = p.block_k;
  g.offsets = perm.offsets;
  g.rows = pairs;
  g.groups = p.experts;
  g.max_group_rows = p.tokens;  // each token's ids are distinct
  const bool fp8 = p.weight_type == WeightType::kF8E4M3;

  // gate and up: [pairs, hidden] -> [pairs, inter] each.
  MINKE_TRY(set_input(xs, p.quantize_gate_up_input, xq, xscales, p.hidden, g, stream));
  g.n = p.inter;
  g.k = p.hidden;
  g.weights = p.gate_weights;
  g.weight_scales = fp8 ? p.gate_scales : nullptr;
  g.out = gate;
  MINKE_TRY(grouped_gemm(g, stream));
  g.weights = p.up_weights;
  g.weight_scales = fp8 ? p.up_scales : nullptr;
  g.out = up;
  MINKE_TRY(grouped_gemm(g, stream));
  MINKE_TRY(silu_mul(gate, up, gate, pairs * p.inter, stream));

  // down: [pairs, inter] -> [pairs, hidden], into xs (the gathered x is dead by now).
  MINKE_TRY(set_input(gate, p.quantize_down_input, xq, xscales, p.inter, g, stream));
  g.n = p.hidden;
  g.k = p.inter;
  g.weights = p.down_weights;
  g.weight_scales = fp8 ? p.down_scales : nullptr;
  g.out = xs;
  MINKE_TRY(grouped_gemm(g, stream));

  const int64_t chunks = std::min<int64_t>((p.hidden + kThreads - 1) / kThreads, 65535);
  combine_kernel<<<dim3(unsigned(p.tokens), unsigned(chunks)), kThreads, 0, stream>>>(
      xs, perm.inverse, p.ids, p.weights, p.down_weights, p.out, p.hidden, int(p.top_k), int(p.experts));
  MINKE_CUDA_TRY_LAUNCH("combine_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
