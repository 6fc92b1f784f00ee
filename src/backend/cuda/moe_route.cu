// moe_route on the GPU: one warp per token, its scores, choices and group scores in shared
// memory, top-k by repeated warp argmax. Follows cpu_moe.cpp route_token operation for
// operation (same float rounding, sequential softmax and weight sums, ties to the lower
// index), so the chosen ids match the CPU's exactly.
#include <climits>
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/moe.h"

namespace minke::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kMaxExperts = 1024;  // 32 experts per lane: one 32-bit "taken" mask per lane
constexpr int kMaxTopK = 32;       // one chosen expert per lane
constexpr unsigned kFullMask = 0xffffffffu;

struct RouteArgs {
  const float* logits;  // [tokens, experts]
  const float* bias;    // [experts], or null (also when the method does not use it)
  int32_t* ids;         // [tokens, top_k]
  float* weights;       // [tokens, top_k]
  int64_t tokens;
  int experts, groups, topk_group, top_k;
  bool sigmoid, grouped, noaux, norm;
  float scaling;
};

// The order of cpu_moe.cpp top_k_indices: larger value first, ties to the lower index.
__device__ __forceinline__ bool better(float va, int ia, float vb, int ib) {
  return va > vb || (va == vb && ia < ib);
}

// The best (value, index) over the warp; a strict total order, so every lane gets the same.
__device__ __forceinline__ void warp_best(float& v, int& i) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const float ov = __shfl_xor_sync(kFullMask, v, offset);
    const int oi = __shfl_xor_sync(kFullMask, i, offset);
    if (better(ov, oi, v, i)) {
      v = ov;
      i = oi;
    }
  }
}

// Index of the best v[i] (i < n, none NaN) not yet taken; lane i % 32 owns i as bit i / 32 of
// its `taken` mask and marks the winner. Needs an untaken index left (callers take <= n).
__device__ int take_best(const float* v, int n, uint32_t& taken, int lane) {
  float bv = -INFINITY;
  int bi = INT_MAX;  // loses to any real index, even one whose value is -inf
  for (int s = 0, i = lane; i < n; ++s, i += 32)
    if (!((taken >> s) & 1u) && better(v[i], i, bv, bi)) {
      bv = v[i];
      bi = i;
    }
  warp_best(bv, bi);
  if (bi % 32 == lane) taken |= 1u << (bi / 32);
  return bi;
}

__global__ void __launch_bounds__(kWarpsPerBlock * 32) route_kernel(RouteArgs a) {
  extern __shared__ float smem[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t t = int64_t(blockIdx.x) * kWarpsPerBlock + warp;
  if (t >= a.tokens) return;  // the whole warp; no block-wide barriers below
  const int e = a.experts;
  float* scores = smem + warp * (2 * e + a.groups);  // [experts] unbiased scores
  float* choice = scores + e;                        // [experts] what picks the experts
  float* group = choice + e;                         // [groups] group scores, then kept flags
  const float* logits = a.logits + t * e;            // [experts]

  // Scores. exp in double rounded to float: (nearly always) the correctly rounded expf that
  // glibc gives the CPU, so equal inputs rank alike on both.
  if (a.sigmoid) {
    for (int i = lane; i < e; i += 32) scores[i] = 1.0f / (1.0f + float(exp(-double(logits[i]))));
  } else {
    float mx = -INFINITY;
    for (int i = lane; i < e; i += 32) mx = fmaxf(mx, logits[i]);
    for (int offset = 16; offset > 0; offset /= 2) mx = fmaxf(mx, __shfl_xor_sync(kFullMask, mx, offset));
    for (int i = lane; i < e; i += 32) scores[i] = float(exp(double(logits[i] - mx)));
    __syncwarp();
    float sum = 0.0f;  // summed in expert order, as the CPU does, for the same rounding
    if (lane == 0)
      for (int i = 0; i < e; ++i) sum += scores[i];
    sum = __shfl_sync(kFullMask, sum, 0);
    for (int i = lane; i < e; i += 32) scores[i] /= sum;
  }
  // Choices: only noaux_tc adds the bias (a.bias is null otherwise). NaN would break the
  // total order (and could leave no winner), so it ranks as -inf.
  for (int i = lane; i < e; i += 32) {
    float c = scores[i];
    if (a.bias != nullptr) c += a.bias[i];
    choice[i] = isnan(c) ? -INFINITY : c;
  }
  __syncwarp();

  if (a.grouped) {
    const int per = e / a.groups;
    for (int g = lane; g < a.groups; g += 32) {
      const float* gs = choice + g * per;  // [per]
      float m1 = -INFINITY, m2 = -INFINITY;  // the group's two largest, ties counted twice
      for (int i = 0; i < per; ++i) {
        const float v = gs[i];
        if (v > m1) {
          m2 = m1;
          m1 = v;
        } else if (v > m2) {
          m2 = v;
        }
      }
      const float score = a.noaux ? m1 + m2 : m1;  // noaux_tc: top-2 sum; else the best
      group[g] = isnan(score) ? -INFINITY : score;
    }
    __syncwarp();
    uint32_t kept = 0;
    for (int r = 0; r < a.topk_group; ++r) take_best(group, a.groups, kept, lane);
    __syncwarp();  // every lane has read the group scores before they become flags
    for (int s = 0, g = lane; g < a.groups; ++s, g += 32) group[g] = ((kept >> s) & 1u) ? 1.0f : 0.0f;
    __syncwarp();
    for (int i = lane; i < e; i += 32)
      if (group[i / per] == 0.0f) choice[i] = -INFINITY;
    __syncwarp();
  }

  // Top-k, best first: lane j keeps the j-th pick.
  uint32_t taken = 0;
  int mine = 0;
  for (int j = 0; j < a.top_k; ++j) {
    const int id = take_best(choice, e, taken, lane);
    if (lane == j) mine = id;
  }
  const float w = lane < a.top_k ? scores[mine] : 0.0f;
  float sum = 0.0f;  // in pick order, as the CPU
  for (int j = 0; j < a.top_k; ++j) sum += __shfl_sync(kFullMask, w, j);
  const float norm = a.norm ? 1.0f / (sum + 1e-20f) : 1.0f;
  if (lane < a.top_k) {
    a.ids[t * a.top_k + lane] = mine;
    a.weights[t * a.top_k + lane] = w * norm * a.scaling;
  }
}

}  // namespace

Status moe_route(const MoeRouteParams& p, cudaStream_t stream) {
  const RouterParams& r = p.router;
  if (r.n_experts < 1 || r.n_experts > kMaxExperts)
    return invalid_argument("cuda::moe_route: {} experts (1 to {})", r.n_experts, kMaxExperts);
  if (r.top_k < 1 || r.top_k > kMaxTopK || r.top_k > r.n_experts)
    return invalid_argument("cuda::moe_route: top_k {} with {} experts (at most {})", r.top_k, r.n_experts,
                            kMaxTopK);
  if (r.n_group < 1 || r.n_experts % r.n_group != 0 || r.topk_group < 1 || r.topk_group > r.n_group)
    return invalid_argument("cuda::moe_route: {} experts in {} groups, topk_group {}", r.n_experts, r.n_group,
                            r.topk_group);
  const bool grouped = r.method != TopkMethod::kGreedy && r.n_group > 1;
  const bool noaux = r.method == TopkMethod::kNoauxTc;
  if (grouped && noaux && r.n_experts / r.n_group < 2)
    return invalid_argument("cuda::moe_route: noaux_tc needs 2 experts per group ({} in {} groups)", r.n_experts,
                            r.n_group);
  if (p.tokens < 0) return invalid_argument("cuda::moe_route: {} tokens", p.tokens);
  if (p.tokens == 0) return Status::ok();
  if (p.logits == nullptr || p.ids == nullptr || p.weights == nullptr)
    return invalid_argument("cuda::moe_route: null pointer");
  const int64_t blocks = (p.tokens + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (blocks > INT32_MAX) return invalid_argument("cuda::moe_route: {} tokens", p.tokens);

  RouteArgs a;
  a.logits = p.logits;
  a.bias = noaux ? p.bias : nullptr;
  a.ids = p.ids;
  a.weights = p.weights;
  a.tokens = p.tokens;
  a.experts = int(r.n_experts);
  a.groups = int(r.n_group);
  a.topk_group = int(r.topk_group);
  a.top_k = int(r.top_k);
  a.sigmoid = r.scoring == ScoringFunc::kSigmoid;
  a.grouped = grouped;
  a.noaux = noaux;
  a.norm = r.norm_topk_prob;
  a.scaling = r.routed_scaling_factor;
  // At most 4 * (2 * 1024 + 1024) floats = 48 KiB: within the default dynamic limit.
  const size_t smem = sizeof(float) * kWarpsPerBlock * size_t(2 * a.experts + a.groups);
  route_kernel<<<unsigned(blocks), kWarpsPerBlock * 32, smem, stream>>>(a);
  MINKE_CUDA_TRY_LAUNCH("route_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
