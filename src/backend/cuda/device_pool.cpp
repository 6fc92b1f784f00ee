// DevicePool: size-rounded caching over cudaMalloc with a hard byte limit.
#include "backend/cuda/device_pool.h"

#include <cuda_runtime.h>

#include "backend/cuda/cuda_check.h"

namespace minke::cuda {
namespace {

// Small blocks round to 512 bytes, large ones to 2 MiB, so similar shapes share blocks
// without wasting more than a few percent.
size_t round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t(2) << 20;
  if (bytes == 0) bytes = 1;
  return bytes < kLarge ? (bytes + kSmall - 1) / kSmall * kSmall : (bytes + kLarge - 1) / kLarge * kLarge;
}

}  // namespace

std::shared_ptr<DevicePool> DevicePool::create(int64_t limit_bytes) {
  std::shared_ptr<DevicePool> pool(new DevicePool(limit_bytes));
  pool->self_ = pool;
  return pool;
}

DevicePool::~DevicePool() {
  release_cached_locked();
  for (auto& [size, p] : graph_free_) cudaFree(p);
}

std::shared_ptr<void> DevicePool::wrap(void* p, size_t bytes, bool graph) {
  auto pool = self_.lock();
  return std::shared_ptr<void>(p, [pool, bytes, graph](void* q) { pool->give_back(q, bytes, graph); });
}

Result<std::shared_ptr<void>> DevicePool::allocate(size_t bytes) {
  const size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  const bool graph = graph_mode_;
  std::multimap<size_t, void*>& cache = graph ? graph_free_ : free_;
  // The smallest cached block that fits without wasting more than half of it.
  auto it = cache.lower_bound(size);
  if (it != cache.end() && it->first <= 2 * size) {
    void* p = it->second;
    const size_t got = it->first;
    cache.erase(it);
    in_use_ += int64_t(got);
    peak_ = std::max(peak_, in_use_);
    return wrap(p, got, graph);
  }
  // (Not while capturing a graph: releasing synchronizes the device, which a capture forbids.)
  if (reserved_ + int64_t(size) > limit_ && !graph) release_cached_locked();
  if (reserved_ + int64_t(size) > limit_)
    return out_of_range(
        "GPU memory: {} bytes requested with {} of the {}-byte budget in use; raise "
        "--gpu-memory-utilization or lower --max-num-batched-tokens / --max-num-seqs",
        bytes, in_use_, limit_);
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, size);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (!graph) release_cached_locked();
    err = cudaMalloc(&p, size);
    if (err != cudaSuccess) {
      cudaGetLastError();
      return out_of_range("cudaMalloc of {} bytes: {}", size, cudaGetErrorString(err));
    }
  }
  reserved_ += int64_t(size);
  in_use_ += int64_t(size);
  peak_ = std::max(peak_, in_use_);
  return wrap(p, size, graph);
}

void DevicePool::give_back(void* p, size_t bytes, bool graph) {
  std::lock_guard<std::mutex> lock(mu_);
  in_use_ -= int64_t(bytes);
  (graph ? graph_free_ : free_).emplace(bytes, p);
}

void DevicePool::set_graph_mode(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  graph_mode_ = on;
}

void DevicePool::release_cached_locked() {
  if (free_.empty()) return;
  cudaDeviceSynchronize();  // a cached block may still be read by queued work
  for (auto& [size, p] : free_) {
    cudaFree(p);
    reserved_ -= int64_t(size);
  }
  free_.clear();  // graph blocks stay: captured graphs still use them
}

void DevicePool::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
}

int64_t DevicePool::reserved_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserved_;
}
int64_t DevicePool::in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}
int64_t DevicePool::peak_in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_;
}
void DevicePool::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  peak_ = in_use_;
}

}  // namespace minke::cuda
