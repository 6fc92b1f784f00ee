// Helpers for the GPU sampling tests: sequences that own what a SampleRow points to, random
// logits, device copies of host logits and a runner returning them, and the CPU Sampler's
// kept set (engine/sampler.cpp step by step), flagged where float rounding may move a
// boundary (CUDA's expf may differ from glibc's by a few ulps; GPU masses are exact
// integers, the CPU's are double sums).
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "engine/batch_sampler.h"
#include "engine/scripted_runner.h"

namespace minke::test {

struct Seq {
  SamplingParams params;
  SequenceTokens tokens;
  Sampler sampler;
  uint64_t seed;

  Seq(SamplingParams p, std::vector<int32_t> prompt, uint64_t s, std::vector<int32_t> eos = {0})
      : params(std::move(p)), tokens(prompt, std::move(eos)), sampler(s), seed(s) {}
  SampleRow row(uint64_t seed_override, int64_t counter) {
    return {&params, &tokens, &sampler, seed_override, counter, params.logprobs ? *params.logprobs : -1};
  }
  SampleRow row() { return row(seed, tokens.num_generated()); }
};

// A device tensor holding a copy of `host` (freed with the last view).
inline Tensor to_device(const Tensor& host) {
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, host.nbytes()), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(p, host.raw(), host.nbytes(), cudaMemcpyHostToDevice), cudaSuccess);
  std::shared_ptr<void> owner(p, [](void* q) { cudaFree(q); });
  return Tensor::view_of(p, host.dtype(), host.shape(), owner, Device::kCuda);
}

// An uninitialized F32 device tensor.
inline Tensor device_empty(const Shape& shape) {
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, size_t(shape_numel(shape)) * sizeof(float)), cudaSuccess);
  std::shared_ptr<void> owner(p, [](void* q) { cudaFree(q); });
  return Tensor::view_of(p, DType::kF32, shape, owner, Device::kCuda);
}

inline std::vector<float> download(const Tensor& device) {
  std::vector<float> out(size_t(device.numel()));
  EXPECT_EQ(cudaMemcpy(out.data(), device.raw(), device.nbytes(), cudaMemcpyDeviceToHost), cudaSuccess);
  return out;
}

// Normal logits [rows, vocab] of the given scale; quantum > 0 rounds them to its multiples
// (many exact ties).
inline Tensor random_logits(int64_t rows, int64_t vocab, std::mt19937& rng, float scale, float quantum = 0.0f) {
  Tensor t = Tensor::zeros(DType::kF32, {rows, vocab});
  std::normal_distribution<float> dist(0.0f, scale);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float x = dist(rng);
    t.data<float>()[i] = quantum > 0 ? std::round(x / quantum) * quantum : x;
  }
  return t;
}

inline std::span<float> row_of(const Tensor& t, int64_t r) {
  return {t.data<float>() + r * t.dim(1), size_t(t.dim(1))};
}

// A runner's host logits moved to the device, as ModelRunner with logits_on_device returns them.
class DeviceLogitsRunner final : public StepRunner {
 public:
  explicit DeviceLogitsRunner(StepRunner& host) : host_(host) {}
  int64_t vocab_size() const override { return host_.vocab_size(); }
  Result<Tensor> run(const SchedulerOutput& step) override {
    MINKE_ASSIGN_OR_RETURN(Tensor logits, host_.run(step));
    return to_device(logits);
  }

 private:
  StepRunner& host_;
};

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

struct KeptReference {
  std::vector<int32_t> kept;  // the CPU's set, most likely first
  std::vector<double> prob;   // the probability of each kept token
  bool ambiguous = false;     // a boundary within rounding distance: the sets may differ
};

// sampler.cpp's candidate set for processed logits `l`: greedy / all masked -> the argmax;
// else w = exp((l - max) * (1 / T)) > 1e-12, top-k, the top-p nucleus, min-p.
inline KeptReference cpu_kept(std::span<const float> l, const SamplingParams& p) {
  KeptReference ref;
  const float mx = *std::max_element(l.begin(), l.end());
  if (p.greedy() || !(mx > -std::numeric_limits<float>::infinity())) {
    ref.kept = {argmax(l)};
    ref.prob = {1.0};
    return ref;
  }
  const float inv_t = 1.0f / p.temperature;
  std::vector<std::pair<float, int32_t>> c;
  bool near_cutoff = false;
  for (size_t i = 0; i < l.size(); ++i) {
    const float w = std::exp((l[i] - mx) * inv_t);
    if (std::abs(double(w) - 1e-12) <= 1e-6 * 1e-12) near_cutoff = true;
    if (w > 1e-12f) c.emplace_back(w, int32_t(i));
  }
  auto better = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  std::sort(c.begin(), c.end(), better);
  const size_t num_candidates = c.size();
  // Two neighbours whose order rounding may swap: distinct logits, weights within 1e-6.
  auto close = [&](size_t a, size_t b) {
    return b < c.size() && l[size_t(c[a].second)] != l[size_t(c[b].second)] &&
           std::abs(double(c[a].first) - double(c[b].first)) <= 1e-6 * double(c[a].first);
  };
  if (p.top_k > 0 && c.size() > size_t(p.top_k)) {
    if (close(size_t(p.top_k) - 1, size_t(p.top_k))) ref.ambiguous = true;
    c.resize(size_t(p.top_k));
  }
  if (p.top_p < 1.0f) {
    double total = 0, mass = 0;
    for (const auto& x : c) total += x.first;
    const double target = double(p.top_p) * total;
    size_t j = 0;
    for (; j < c.size(); ++j) {
      mass += c[j].first;
      if (mass >= target) break;
    }
    if (j < c.size()) {
      if (mass - target <= 1e-6 * total || target - (mass - c[j].first) <= 1e-6 * total || close(j, j + 1))
        ref.ambiguous = true;
      c.resize(j + 1);
    }
  }
  if (p.min_p > 0.0f) {
    float best = 0;
    for (const auto& x : c) best = std::max(best, x.first);
    const float floor_w = p.min_p * best;
    for (const auto& x : c)
      if (std::abs(double(x.first) - double(floor_w)) <= 1e-6 * double(floor_w)) ref.ambiguous = true;
    std::erase_if(c, [&](const auto& x) { return x.first < floor_w; });
  }
  if (c.size() == num_candidates && near_cutoff) ref.ambiguous = true;
  double total = 0;
  for (const auto& x : c) total += x.first;
  for (const auto& x : c) {
    ref.kept.push_back(x.second);
    ref.prob.push_back(double(x.first) / total);
  }
  return ref;
}

}  // namespace minke::test
