// Mixture of experts on the GPU, the CUDA versions of CpuBackend::moe_route and
// CpuBackend::moe_experts (src/backend/cpu/cpu_moe.cpp is the definition of correct):
// the router, the token permutation by expert (CUB radix sort), and the expert MLPs as
// grouped GEMMs. Nothing here waits for the host, so the whole path is graph-capturable:
// grids are sized from host-known bounds (tokens * top_k, experts), scratch comes from one
// caller-owned workspace. C++17-clean (included from .cu files).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "backend/cuda/grouped_gemm.h"
#include "backend/moe_types.h"
#include "core/status.h"

namespace minke::cuda {

// ---- router -------------------------------------------------------------------------------
// Per token, as cpu_moe.cpp route_token: sigmoid or softmax scores; choice = scores (+ bias
// for kNoauxTc); with n_group > 1 and a grouped method, keep the topk_group best groups
// (noaux_tc: sum of the group's top-2 choices; group_limited_greedy: its best) and mask the
// rest to -inf; the top_k choices, largest first, ties to the lower index; weights are the
// unbiased scores, normalized (norm_topk_prob) and times routed_scaling_factor.
// Limits: n_experts <= 1024, top_k <= min(32, n_experts), n_group divides n_experts,
// noaux_tc groups hold at least 2 experts. One warp per token.
struct MoeRouteParams {
  const float* logits = nullptr;  // [tokens, n_experts] router output
  const float* bias = nullptr;    // [n_experts] noaux_tc correction bias, or null
  int32_t* ids = nullptr;         // [tokens, top_k] chosen experts, best first
  float* weights = nullptr;       // [tokens, top_k]
  int64_t tokens = 0;
  RouterParams router;
};
Status moe_route(const MoeRouteParams& p, cudaStream_t stream);

// ---- permutation ------------------------------------------------------------------------
// The tokens * top_k (token, slot) pairs, pair p = t * top_k + j, stably sorted by expert
// ids[p]. An id outside [0, experts) sorts after every valid one and is in no expert's range
// (offsets[experts] then counts only the valid pairs). All arrays live in the workspace.
struct MoePermutation {
  int32_t* sorted_pairs = nullptr;  // [pairs] pair at sorted position s (ascending within an expert)
  int32_t* src_rows = nullptr;      // [pairs] its token: sorted_pairs[s] / top_k
  int32_t* inverse = nullptr;       // [pairs] sorted position of pair p
  int32_t* offsets = nullptr;       // [experts + 1] expert e owns sorted rows [offsets[e], offsets[e+1])
};

struct MoePermuteParams {
  const int32_t* ids = nullptr;  // [tokens, top_k]
  int64_t tokens = 0, top_k = 0, experts = 0;
  void* workspace = nullptr;     // device, 256-byte aligned, moe_permute_workspace_bytes(...)
  size_t workspace_bytes = 0;
};

// Device bytes moe_permute needs (CUB's temporary storage included, from a size query on the
// current device); 0 when that query fails (no device).
size_t moe_permute_workspace_bytes(int64_t tokens, int64_t top_k, int64_t experts);
// Fills *out with views into p.workspace, then sorts and writes them on `stream`.
Status moe_permute(const MoePermuteParams& p, MoePermutation* out, cudaStream_t stream);

// ---- expert MLPs -----------------------------------------------------------------------------
// out[t] = sum_j weights[t, j] * down(silu(gate(x_t)) * up(x_t)) over the experts ids[t, j]
// this rank holds (a null weight pointer: the pair contributes nothing), summed j = 0..k-1.
// Steps: permute, gather x rows, [act_quant], grouped GEMM gate and up, silu_mul, [act_quant],
// grouped GEMM down, weighted un-permutation (no atomics: deterministic).
// Each token's ids must be distinct (moe_route's are): an expert gets at most `tokens` rows.
struct MoeExpertsParams {
  const float* x = nullptr;        // [tokens, hidden]
  const int32_t* ids = nullptr;    // [tokens, top_k] in [0, experts); others contribute nothing
  const float* weights = nullptr;  // [tokens, top_k]
  float* out = nullptr;            // [tokens, hidden]

  // Device arrays of `experts` device pointers, null for experts this rank does not hold.
  const void* const* gate_weights = nullptr;  // each [inter, hidden] of weight_type
  const void* const* up_weights = nullptr;    // each [inter, hidden]
  const void* const* down_weights = nullptr;  // each [hidden, inter]
  // Block scales, e4m3 only (else may be null): gate/up [ceil(inter/bn), ceil(hidden/bk)],
  // down [ceil(hidden/bn), ceil(inter/bk)].
  const float* const* gate_scales = nullptr;
  const float* const* up_scales = nullptr;
  const float* const* down_scales = nullptr;
  WeightType weight_type = WeightType::kF8E4M3;
  int64_t block_n = 128, block_k = 128;
  // LinearWeight::quantize_input of gate/up (the same input) and of down: DeepSeek's act_quant
  // on the GEMM input, per row and block_k columns.
  bool quantize_gate_up_input = false;
  bool quantize_down_input = false;

  int64_t tokens = 0, hidden = 0, inter = 0, experts = 0, top_k = 0;
  void* workspace = nullptr;  // device, 256-byte aligned, >= moe_workspace_bytes(...)
  size_t workspace_bytes = 0;
};

// Device bytes one moe_experts call needs at these sizes (tokens an upper bound); 0 when the
// CUB size query fails (no device). block_k: the experts' activation block (act_quant scales).
size_t moe_workspace_bytes(int64_t tokens, int64_t top_k, int64_t experts, int64_t hidden,
                           int64_t inter, int64_t block_k = 128);
Status moe_experts(const MoeExpertsParams& p, cudaStream_t stream);

}  // namespace minke::cuda
