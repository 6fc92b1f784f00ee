// MoeExpertTable: validates one MoE layer's experts and uploads their per-expert weight and
// scale pointers as the device arrays cuda::moe_experts reads.
#include "backend/cuda/moe_expert_table.h"

#include <vector>

#include "backend/cuda/cuda_check.h"

namespace minke::cuda {
namespace {

constexpr int kArrays = 6;  // gate, up, down weights; gate, up, down scales

Result<WeightType> weight_type_of(DType dtype) {
  switch (dtype) {
    case DType::kF32: return WeightType::kF32;
    case DType::kBF16: return WeightType::kBF16;
    case DType::kF8E4M3: return WeightType::kF8E4M3;
    default: return unsupported("expert weights of dtype {} (F32, BF16 or F8_E4M3)", dtype_name(dtype));
  }
}

// w: [n, k] on the GPU of `dtype` with the layer's block sizes; e4m3 with its scale grid.
Status check_linear(const LinearWeight& w, const char* name, int64_t n, int64_t k, DType dtype,
                    const LinearWeight& first) {
  const Tensor& t = w.weight;
  if (!t.defined()) return invalid_argument("{} undefined", name);
  if (t.device() != Device::kCuda) return invalid_argument("{} {} is not on the GPU", name, t.describe());
  if (t.dtype() != dtype) return invalid_argument("{} {}: the layer's experts are {}", name, t.describe(), dtype_name(dtype));
  if (t.ndim() != 2 || t.dim(0) != n || t.dim(1) != k)
    return invalid_argument("{} {}: expected [{}, {}]", name, t.describe(), n, k);
  if (w.block_n < 1 || w.block_k < 1 || w.block_n != first.block_n || w.block_k != first.block_k)
    return invalid_argument("{} blocks {}x{}: the layer's are {}x{}", name, w.block_n, w.block_k, first.block_n,
                            first.block_k);
  if (dtype != DType::kF8E4M3) return Status::ok();
  const Tensor& s = w.scale_inv;
  const int64_t sn = (n + w.block_n - 1) / w.block_n, sk = (k + w.block_k - 1) / w.block_k;
  if (!s.defined() || s.device() != Device::kCuda || s.dtype() != DType::kF32 || s.ndim() != 2 || s.dim(0) != sn ||
      s.dim(1) != sk)
    return invalid_argument("{} scales {}: expected F32[{}, {}] on the GPU", name,
                            s.defined() ? s.describe() : std::string("undefined"), sn, sk);
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<MoeExpertTable>> MoeExpertTable::create(std::span<const MlpWeights> experts) {
  const int64_t n = int64_t(experts.size());
  const MlpWeights* first = nullptr;
  for (const MlpWeights& e : experts)
    if (e.gate_proj.defined()) {
      first = &e;
      break;
    }
  if (first == nullptr) return invalid_argument("MoeExpertTable: none of {} experts is held", n);
  if (first->gate_proj.weight.ndim() != 2)
    return invalid_argument("MoeExpertTable: gate_proj {}", first->gate_proj.weight.describe());

  std::unique_ptr<MoeExpertTable> table(new MoeExpertTable());
  const DType dtype = first->gate_proj.weight.dtype();
  MINKE_ASSIGN_OR_RETURN(table->weight_type_, weight_type_of(dtype));
  table->experts_ = n;
  table->inter_ = first->gate_proj.out_features();
  table->hidden_ = first->gate_proj.in_features();
  table->block_n_ = first->gate_proj.block_n;
  table->block_k_ = first->gate_proj.block_k;
  table->quantize_gate_up_ = first->gate_proj.quantize_input;
  table->quantize_down_ = first->down_proj.quantize_input;

  std::vector<const void*> host(size_t(kArrays * n), nullptr);  // [6, experts]
  const bool fp8 = dtype == DType::kF8E4M3;
  for (int64_t e = 0; e < n; ++e) {
    const MlpWeights& w = experts[size_t(e)];
    if (!w.gate_proj.defined()) continue;
    const int64_t hidden = table->hidden_, inter = table->inter_;
    Status st = check_linear(w.gate_proj, "gate_proj", inter, hidden, dtype, first->gate_proj);
    if (st.is_ok()) st = check_linear(w.up_proj, "up_proj", inter, hidden, dtype, first->gate_proj);
    if (st.is_ok()) st = check_linear(w.down_proj, "down_proj", hidden, inter, dtype, first->gate_proj);
    if (st.is_ok() && (w.gate_proj.quantize_input != table->quantize_gate_up_ ||
                       w.up_proj.quantize_input != table->quantize_gate_up_ ||
                       w.down_proj.quantize_input != table->quantize_down_))
      st = invalid_argument("quantize_input differs from the layer's (gate/up {}, down {})", table->quantize_gate_up_,
                            table->quantize_down_);
    if (!st.is_ok()) return st.with_context(fmt::format("MoeExpertTable: expert {}", e));
    const LinearWeight* linears[3] = {&w.gate_proj, &w.up_proj, &w.down_proj};
    for (int i = 0; i < 3; ++i) {
      host[size_t(i * n + e)] = linears[i]->weight.raw();
      if (fp8) host[size_t((3 + i) * n + e)] = linears[i]->scale_inv.raw();
    }
    ++table->held_;
  }

  const size_t bytes = host.size() * sizeof(void*);
  MINKE_CUDA_TRY(cudaMalloc(reinterpret_cast<void**>(&table->arrays_), bytes));
  MINKE_CUDA_TRY(cudaMemcpy(table->arrays_, host.data(), bytes, cudaMemcpyHostToDevice));
  return table;
}

MoeExpertTable::~MoeExpertTable() {
  if (arrays_ != nullptr) cudaFree(arrays_);
}

void MoeExpertTable::fill(MoeExpertsParams& p) const {
  void* const* a = arrays_;
  p.gate_weights = a;
  p.up_weights = a + experts_;
  p.down_weights = a + 2 * experts_;
  p.gate_scales = reinterpret_cast<const float* const*>(a + 3 * experts_);
  p.up_scales = reinterpret_cast<const float* const*>(a + 4 * experts_);
  p.down_scales = reinterpret_cast<const float* const*>(a + 5 * experts_);
  p.weight_type = weight_type_;
  p.block_n = block_n_;
  p.block_k = block_k_;
  p.quantize_gate_up_input = quantize_gate_up_;
  p.quantize_down_input = quantize_down_;
  p.experts = experts_;
  p.hidden = hidden_;
  p.inter = inter_;
}

}  // namespace minke::cuda
