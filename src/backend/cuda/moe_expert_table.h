// MoeExpertTable: one MoE layer's expert weights (already on the GPU) as the device arrays of
// per-expert pointers that cuda::moe_experts reads. Built and validated once per layer at
// load time and cached by the backend. Host code (C++20: includes backend.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "backend/backend.h"
#include "backend/cuda/moe.h"

namespace minke::cuda {

class MoeExpertTable {
 public:
  // experts[e].gate_proj undefined: expert e is not held here (null pointers). Every held
  // expert needs gate/up/down tensors on the GPU, one dtype for all (F32, BF16, or F8E4M3 with
  // F32 block scales [ceil(n / block_n), ceil(k / block_k)] on the GPU), one block size, one
  // quantize_input for gate and up and one for down, gate/up [inter, hidden] and down
  // [hidden, inter] with the same sizes; at least one expert held. Uploads the arrays with a
  // synchronous cudaMemcpy (load time, never inside a captured graph).
  static Result<std::unique_ptr<MoeExpertTable>> create(std::span<const MlpWeights> experts);

  MoeExpertTable(const MoeExpertTable&) = delete;
  MoeExpertTable& operator=(const MoeExpertTable&) = delete;
  ~MoeExpertTable();

  int64_t experts() const { return experts_; }
  int64_t held() const { return held_; }
  int64_t hidden() const { return hidden_; }
  int64_t inter() const { return inter_; }
  int64_t block_k() const { return block_k_; }  // for moe_workspace_bytes
  WeightType weight_type() const { return weight_type_; }

  // Sets p's expert fields: the six pointer arrays, weight_type, block sizes, quantize flags,
  // experts, hidden and inter. Activations, tokens, top_k and the workspace stay the caller's.
  void fill(MoeExpertsParams& p) const;

 private:
  MoeExpertTable() = default;

  // Device [6, experts]: gate, up, down weights, then gate, up, down scales (null: none).
  void** arrays_ = nullptr;
  int64_t experts_ = 0, held_ = 0, hidden_ = 0, inter_ = 0;
  WeightType weight_type_ = WeightType::kF8E4M3;
  int64_t block_n_ = 128, block_k_ = 128;
  bool quantize_gate_up_ = false, quantize_down_ = false;
};

}  // namespace minke::cuda
