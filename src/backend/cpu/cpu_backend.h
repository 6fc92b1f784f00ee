// CpuBackend: the float32 reference implementation of every op, multi-threaded
// over a ThreadPool it owns. Weights stay in their checkpoint dtype (memory-mapped)
// and are widened to float32 row by row inside the products.
#pragma once

#include "backend/backend.h"
#include "core/thread_pool.h"

namespace minke {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int num_threads = ThreadPool::default_threads()) : pool_(num_threads) {}

  std::string name() const override { return "cpu"; }
  std::string description() const override { return "cpu: " + std::to_string(pool_.num_threads()) + " threads"; }
  Device device() const override { return Device::kCpu; }
  DType activation_dtype() const override { return DType::kF32; }
  int num_threads() const { return pool_.num_threads(); }

  Tensor empty(DType dtype, const Shape& shape) override;
  Tensor upload(const Tensor& host) override { return host; }
  Tensor to_host(const Tensor& t) override { return t; }
  void synchronize() override {}
  void fill_uniform(Tensor& t, float lo, float hi, uint64_t seed) override;

  Status embedding(const Tensor& ids, const Tensor& table, Tensor& out) override;
  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) override;
  void add_inplace(Tensor& out, const Tensor& x) override;
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

 private:
  ThreadPool pool_;
};

}  // namespace minke
