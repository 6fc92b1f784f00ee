// RouteRecordingBackend: a Backend that forwards every op to another one and keeps the expert ids
// the last moe_route wrote (the Tensor itself: no copy, no wait), so a benchmark can count the
// distinct experts a step routed to after timing it, without touching model code.
#pragma once

#include "backend/backend.h"

namespace minke {

class RouteRecordingBackend final : public Backend {
 public:
  explicit RouteRecordingBackend(Backend& inner) : inner_(inner) {}

  // I32 [T, top_k] on the inner backend: the ids of the last moe_route (undefined before one).
  const Tensor& last_route_ids() const { return ids_; }
  void clear_route_ids() { ids_ = Tensor(); }

  void moe_route(const Tensor& logits, const Tensor& bias, const RouterParams& params, Tensor& ids,
                 Tensor& weights) override {
    inner_.moe_route(logits, bias, params, ids, weights);
    ids_ = ids;  // keeps the buffer alive (and unreused) until the next route
  }

  // ---- everything else forwards unchanged ----------------------------------------------------
  std::string name() const override { return inner_.name(); }
  Device device() const override { return inner_.device(); }
  DType activation_dtype() const override { return inner_.activation_dtype(); }
  Tensor empty(DType dtype, const Shape& shape) override { return inner_.empty(dtype, shape); }
  Tensor upload(const Tensor& host) override { return inner_.upload(host); }
  Tensor to_host(const Tensor& t) override { return inner_.to_host(t); }
  void synchronize() override { inner_.synchronize(); }
  MemoryStats memory_stats() const override { return inner_.memory_stats(); }
  void reset_peak_memory() override { inner_.reset_peak_memory(); }
  Status take_error() override { return inner_.take_error(); }
  void fill_uniform(Tensor& t, float lo, float hi, uint64_t seed) override { inner_.fill_uniform(t, lo, hi, seed); }
  Status embedding(const Tensor& ids, const Tensor& table, Tensor& out) override {
    return inner_.embedding(ids, table, out);
  }
  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) override { inner_.rms_norm(x, w, eps, out); }
  void add_inplace(Tensor& out, const Tensor& x) override { inner_.add_inplace(out, x); }
  void add_rms_norm(Tensor& x, const Tensor& delta, const Tensor& w, float eps, Tensor& out) override {
    inner_.add_rms_norm(x, delta, w, eps, out);
  }
  void silu_mul(const Tensor& gate, const Tensor& up, Tensor& out) override { inner_.silu_mul(gate, up, out); }
  void copy_cols(const Tensor& src, int64_t src_col, Tensor& dst, int64_t dst_col, int64_t ncols) override {
    inner_.copy_cols(src, src_col, dst, dst_col, ncols);
  }
  void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) override { inner_.gather_rows(x, rows, out); }
  void linear(const Tensor& x, const LinearWeight& w, Tensor& out) override { inner_.linear(x, w, out); }
  void head_linear(const Tensor& x, const Tensor& w, Tensor& out) override { inner_.head_linear(x, w, out); }
  void fp8_fake_quant(Tensor& x, int64_t block) override { inner_.fp8_fake_quant(x, block); }
  void rope(Tensor& x, const Tensor& positions, const Tensor& inv_freq, float attention_factor) override {
    inner_.rope(x, positions, inv_freq, attention_factor);
  }
  void write_latent_cache(const Tensor& latent, const AttentionBatch& batch, Tensor& cache) override {
    inner_.write_latent_cache(latent, batch, cache);
  }
  void gather_latent_cache(const Tensor& cache, const AttentionBatch& batch, int64_t seq, Tensor& out) override {
    inner_.gather_latent_cache(cache, batch, seq, out);
  }
  void mla_attention_naive(const Tensor& q, const Tensor& kv, const Tensor& k_pe, const Tensor& q_positions,
                           float scale, Tensor& out) override {
    inner_.mla_attention_naive(q, kv, k_pe, q_positions, scale, out);
  }
  void mla_attention_absorbed(const Tensor& q_abs, const Tensor& q_pe, const Tensor& cache,
                              const AttentionBatch& batch, float scale, Tensor& out) override {
    inner_.mla_attention_absorbed(q_abs, q_pe, cache, batch, scale, out);
  }
  void moe_experts(const Tensor& x, const Tensor& ids, const Tensor& weights, std::span<const MlpWeights> experts,
                   Tensor& out) override {
    inner_.moe_experts(x, ids, weights, experts, out);
  }

 private:
  Backend& inner_;
  Tensor ids_;
};

}  // namespace minke
