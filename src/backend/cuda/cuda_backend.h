// CudaBackend: every op of backend.h on one GPU. Activations stay float32 between ops
// (as on the CPU, so the two agree closely); weights stay in their checkpoint dtype and
// the products read them as BF16 or FP8 block-scaled GEMMs. One stream orders all work;
// memory comes from a DevicePool under --gpu-memory-utilization. Ops return void for the
// CPU's sake: the first failure (a bad launch, an exhausted pool, a device fault) is kept
// and handed out by take_error(), which the model calls once per forward pass.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/device_pool.h"
#include "backend/cuda/gemm.h"

namespace minke {
namespace cuda {
class HeadLinear;
class MoeExpertTable;
}  // namespace cuda

struct CudaBackendOptions {
  int device = 0;
  // Fraction of the device's total memory minke may hold (weights, KV cache, activations),
  // as vLLM's --gpu-memory-utilization; memory other processes hold is not ours to take.
  double gpu_memory_utilization = 0.9;
  cuda::GemmOptions gemm;
};

class CudaBackend final : public Backend {
 public:
  static Result<std::unique_ptr<CudaBackend>> create(const CudaBackendOptions& options);
  ~CudaBackend() override;

  std::string name() const override { return "cuda"; }
  std::string description() const override { return "cuda: " + device_name_; }
  Device device() const override { return Device::kCuda; }
  DType activation_dtype() const override { return DType::kF32; }
  cudaStream_t stream() const { return stream_; }
  cuda::DevicePool& pool() { return *pool_; }
  const std::string& device_name() const { return device_name_; }

  Tensor empty(DType dtype, const Shape& shape) override;
  Tensor upload(const Tensor& host) override;
  Tensor to_host(const Tensor& t) override;
  void synchronize() override;
  MemoryStats memory_stats() const override {
    return {pool_->limit_bytes(), pool_->in_use_bytes(), pool_->peak_in_use_bytes()};
  }
  void reset_peak_memory() override { pool_->reset_peak(); }
  Status take_error() override;
  void fill_uniform(Tensor& t, float lo, float hi, uint64_t seed) override;

  Status embedding(const Tensor& ids, const Tensor& table, Tensor& out) override;
  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) override;
  void add_inplace(Tensor& out, const Tensor& x) override;
  void add_rms_norm(Tensor& x, const Tensor& delta, const Tensor& w, float eps,
                    Tensor& out) override;
  void silu_mul(const Tensor& gate, const Tensor& up, Tensor& out) override;
  void copy_cols(const Tensor& src, int64_t src_col, Tensor& dst, int64_t dst_col,
                 int64_t ncols) override;
  void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) override;

  void linear(const Tensor& x, const LinearWeight& w, Tensor& out) override;
  void head_linear(const Tensor& x, const Tensor& w, Tensor& out) override;
  void fp8_fake_quant(Tensor& x, int64_t block) override;

  void rope(Tensor& x, const Tensor& positions, const Tensor& inv_freq,
            float attention_factor) override;
  void write_latent_cache(const Tensor& latent, const AttentionBatch& batch,
                          Tensor& cache) override;
  void gather_latent_cache(const Tensor& cache, const AttentionBatch& batch, int64_t seq,
                           Tensor& out) override;
  void mla_attention_naive(const Tensor& q, const Tensor& kv, const Tensor& k_pe,
                           const Tensor& q_positions, float scale, Tensor& out) override;
  void mla_attention_absorbed(const Tensor& q_abs, const Tensor& q_pe, const Tensor& cache,
                              const AttentionBatch& batch, float scale, Tensor& out) override;

  void moe_route(const Tensor& logits, const Tensor& bias, const RouterParams& params,
                 Tensor& ids, Tensor& weights) override;
  void moe_experts(const Tensor& x, const Tensor& ids, const Tensor& weights,
                   std::span<const MlpWeights> experts, Tensor& out) override;

  // ---- CUDA graphs -----------------------------------------------------------
  // A captured forward pass. Its uploads are listed in capture order with the host address each
  // read then, so the caller can tell which of its inputs each one is and refill the pinned
  // staging buffers before every replay.
  struct GraphUpload {
    const void* captured_source = nullptr;
    size_t bytes = 0;
    void* staging = nullptr;  // pinned host memory the graph copies from at every replay
  };
  class CapturedGraph {
   public:
    CapturedGraph() = default;
    ~CapturedGraph();
    CapturedGraph(const CapturedGraph&) = delete;
    CapturedGraph& operator=(const CapturedGraph&) = delete;
    const std::vector<GraphUpload>& uploads() const { return uploads_; }

   private:
    friend class CudaBackend;
    cudaGraphExec_t exec_ = nullptr;
    std::vector<GraphUpload> uploads_;
  };
  // Between these two calls ops are recorded into a graph instead of run: uploads go through
  // pinned staging buffers, the embedding's host-side id check is skipped (the caller checks
  // ids), take_error does not synchronize, memory comes from the pool's graph cache, and
  // attention plans for contexts up to `max_context` (longer ones must not be replayed).
  // Run the same pass once eagerly first: lazily created state (GEMM plans and scratch, MoE
  // tables) must exist before a capture, which cannot allocate it.
  Status begin_capture(int64_t max_context);
  Result<std::unique_ptr<CapturedGraph>> end_capture();
  Status replay(const CapturedGraph& graph);

 private:
  CudaBackend() = default;
  // A float32 tensor on this device, or a programmer bug.
  static void check_f32(const Tensor& t, const char* what);
  // Keeps the first error; later ones are usually its consequences.
  void record(const Status& status);
  bool failed() const;
  // A device buffer of `bytes` for one op's scratch (from the pool, freed with the Tensor).
  Tensor scratch(size_t bytes);
  // The batch's index tensors on the device, uploaded when the batch differs from the last
  // one (by content: every layer of a step passes the same batch, so once per step).
  struct DeviceBatch {
    Tensor host[5];    // the host tensors last uploaded (positions, slots, starts, lens, table)
    Tensor device[5];  // their device copies
    int64_t page_size = 0;
    int64_t max_context = 0;
  };
  const DeviceBatch& device_batch(const AttentionBatch& batch);

  int device_ = 0;
  std::string device_name_;
  cudaStream_t stream_ = nullptr;
  std::shared_ptr<cuda::DevicePool> pool_;
  std::unique_ptr<cuda::Gemm> gemm_;
  std::unique_ptr<cuda::HeadLinear> head_linear_;
  // One pointer table per MoE layer, keyed by its expert array.
  struct ExpertTableEntry {
    std::unique_ptr<cuda::MoeExpertTable> table;
    uint64_t fingerprint = 0;  // of the expert weights' addresses
  };
  std::unordered_map<const void*, ExpertTableEntry> expert_tables_;
  DeviceBatch batch_;
  bool capturing_ = false;
  int64_t capture_max_context_ = 0;
  std::unique_ptr<CapturedGraph> capture_;  // the graph being captured
  mutable std::mutex error_mu_;
  Status error_;
};

}  // namespace minke
