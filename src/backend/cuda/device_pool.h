// DevicePool: the CUDA backend's memory. Plain cudaMalloc blocks under a byte limit (from
// --gpu-memory-utilization), cached by size and reused: a step allocates the same
// activation shapes as the last, so after the first steps no cudaMalloc happens.
// Every block is used on the backend's one stream, so a block freed by the host may be
// handed out again at once: the stream orders its last use before its next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "core/status.h"

namespace minke::cuda {

class DevicePool {
 public:
  // Blocks live until the pool and every allocation it handed out are gone.
  static std::shared_ptr<DevicePool> create(int64_t limit_bytes);
  ~DevicePool();
  DevicePool(const DevicePool&) = delete;
  DevicePool& operator=(const DevicePool&) = delete;

  // A block of at least `bytes` (256-byte aligned), returned to the cache when the last
  // copy of the shared_ptr goes. Errors when the limit or the device is exhausted.
  Result<std::shared_ptr<void>> allocate(size_t bytes);

  int64_t limit_bytes() const { return limit_; }
  int64_t reserved_bytes() const;  // held from cudaMalloc, in use or cached
  int64_t in_use_bytes() const;
  int64_t peak_in_use_bytes() const;
  void reset_peak();
  // cudaFree of every cached block not in use (the device must be idle for its stream).
  void release_cached();
  // While on, blocks come from (and return to) a private cache that only graph captures use:
  // a captured CUDA graph keeps writing to its blocks at every replay, so no tensor outside the
  // graphs may ever hold them. Captures (and replays) run one at a time, so they share it.
  void set_graph_mode(bool on);

 private:
  explicit DevicePool(int64_t limit) : limit_(limit) {}
  void give_back(void* p, size_t bytes, bool graph);
  void release_cached_locked();
  std::shared_ptr<void> wrap(void* p, size_t bytes, bool graph);

  const int64_t limit_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;        // rounded size -> cached block
  std::multimap<size_t, void*> graph_free_;  // the same, for graph captures only
  bool graph_mode_ = false;
  int64_t reserved_ = 0, in_use_ = 0, peak_ = 0;
  std::weak_ptr<DevicePool> self_;
};

}  // namespace minke::cuda
