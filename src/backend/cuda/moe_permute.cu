// moe_permute: the (token, slot) pairs sorted by expert with CUB's stable radix sort on the
// expert ids (values = pair indices), expert offsets by binary search of the sorted keys, and
// the inverse map. Four launches, no host synchronization, scratch from the workspace.
#include <cub/device/device_radix_sort.cuh>

#include <climits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/moe.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 256;
constexpr size_t kAlign = 256;

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 65535 * 32 ? b : 65535 * 32);  // grid-stride beyond this
}

// Keys lie in [0, experts] (experts: the sentinel of an invalid id); sort only their bits.
int key_bits(int64_t experts) {
  int bits = 1;
  while ((int64_t(1) << bits) <= experts) ++bits;
  return bits;
}

// Byte offsets of the arrays inside the workspace.
struct Layout {
  size_t keys_in, pairs_in, keys_out, sorted_pairs, src_rows, inverse, offsets, cub;
  size_t cub_bytes, total;
};

Status make_layout(int64_t pairs, int64_t experts, Layout* l) {
  l->cub_bytes = 0;
  if (pairs > 0)
    MINKE_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, l->cub_bytes, static_cast<const uint32_t*>(nullptr),
                                                   static_cast<uint32_t*>(nullptr),
                                                   static_cast<const int32_t*>(nullptr),
                                                   static_cast<int32_t*>(nullptr), int(pairs), 0,
                                                   key_bits(experts)));
  size_t at = 0;
  auto take = [&at](size_t bytes) {
    const size_t offset = at;
    at += align_up(bytes);
    return offset;
  };
  const size_t array = size_t(pairs) * sizeof(int32_t);
  l->keys_in = take(array);
  l->pairs_in = take(array);
  l->keys_out = take(array);
  l->sorted_pairs = take(array);
  l->src_rows = take(array);
  l->inverse = take(array);
  l->offsets = take(size_t(experts + 1) * sizeof(int32_t));
  l->cub = take(l->cub_bytes);
  l->total = at;
  return Status::ok();
}

Status check_sizes(int64_t tokens, int64_t top_k, int64_t experts) {
  if (tokens < 0 || top_k < 1 || experts < 1 || experts >= INT32_MAX || tokens > INT32_MAX / top_k)
    return invalid_argument("cuda::moe_permute: {} tokens x top_k {}, {} experts", tokens, top_k, experts);
  return Status::ok();
}

// keys[p] = ids[p], or `experts` for an id out of range (sorted last, in no expert's range).
__global__ void keys_kernel(const int32_t* ids, uint32_t* keys, int32_t* pairs_in, int64_t pairs, int32_t experts) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < pairs; p += int64_t(gridDim.x) * blockDim.x) {
    const int32_t id = ids[p];
    keys[p] = (id >= 0 && id < experts) ? uint32_t(id) : uint32_t(experts);
    pairs_in[p] = int32_t(p);
  }
}

// offsets[e] = number of sorted keys below e (lower bound), e in [0, experts].
__global__ void offsets_kernel(const uint32_t* sorted_keys, int32_t pairs, int32_t experts, int32_t* offsets) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e <= experts; e += int64_t(gridDim.x) * blockDim.x) {
    int32_t lo = 0, hi = pairs;
    while (lo < hi) {
      const int32_t mid = lo + (hi - lo) / 2;
      if (sorted_keys[mid] < uint32_t(e)) lo = mid + 1;
      else hi = mid;
    }
    offsets[e] = lo;
  }
}

__global__ void inverse_kernel(const int32_t* sorted_pairs, int32_t pairs, int32_t top_k, int32_t* src_rows,
                               int32_t* inverse) {
  for (int64_t s = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; s < pairs; s += int64_t(gridDim.x) * blockDim.x) {
    const int32_t pair = sorted_pairs[s];
    src_rows[s] = pair / top_k;
    inverse[pair] = int32_t(s);
  }
}

}  // namespace

size_t moe_permute_workspace_bytes(int64_t tokens, int64_t top_k, int64_t experts) {
  if (!check_sizes(tokens, top_k, experts).is_ok()) return 0;
  Layout l;
  if (!make_layout(tokens * top_k, experts, &l).is_ok()) return 0;
  return l.total;
}

Status moe_permute(const MoePermuteParams& p, MoePermutation* out, cudaStream_t stream) {
  MINKE_TRY(check_sizes(p.tokens, p.top_k, p.experts));
  if (out == nullptr || (p.tokens > 0 && p.ids == nullptr)) return invalid_argument("cuda::moe_permute: null pointer");
  const int64_t pairs = p.tokens * p.top_k;
  Layout l;
  MINKE_TRY(make_layout(pairs, p.experts, &l));
  if (p.workspace == nullptr || reinterpret_cast<uintptr_t>(p.workspace) % kAlign != 0 || p.workspace_bytes < l.total)
    return invalid_argument("cuda::moe_permute: workspace {} of {} bytes (needs {}, 256-byte aligned)", p.workspace,
                            p.workspace_bytes, l.total);
  char* ws = static_cast<char*>(p.workspace);
  out->sorted_pairs = reinterpret_cast<int32_t*>(ws + l.sorted_pairs);
  out->src_rows = reinterpret_cast<int32_t*>(ws + l.src_rows);
  out->inverse = reinterpret_cast<int32_t*>(ws + l.inverse);
  out->offsets = reinterpret_cast<int32_t*>(ws + l.offsets);
  if (pairs == 0) {
    MINKE_CUDA_TRY(cudaMemsetAsync(out->offsets, 0, size_t(p.experts + 1) * sizeof(int32_t), stream));
    return Status::ok();
  }
  auto* keys_in = reinterpret_cast<uint32_t*>(ws + l.keys_in);
  auto* keys_out = reinterpret_cast<uint32_t*>(ws + l.keys_out);
  auto* pairs_in = reinterpret_cast<int32_t*>(ws + l.pairs_in);

  keys_kernel<<<blocks_for(pairs), kThreads, 0, stream>>>(p.ids, keys_in, pairs_in, pairs, int32_t(p.experts));
  MINKE_CUDA_TRY_LAUNCH("keys_kernel");
  // Stable (LSD radix): within an expert the pairs stay in token order.
  size_t cub_bytes = l.cub_bytes;
  MINKE_CUDA_TRY(cub::DeviceRadixSort::SortPairs(ws + l.cub, cub_bytes, keys_in, keys_out, pairs_in, out->sorted_pairs,
                                                 int(pairs), 0, key_bits(p.experts), stream));
  offsets_kernel<<<blocks_for(p.experts + 1), kThreads, 0, stream>>>(keys_out, int32_t(pairs), int32_t(p.experts),
                                                                     out->offsets);
  MINKE_CUDA_TRY_LAUNCH("offsets_kernel");
  inverse_kernel<<<blocks_for(pairs), kThreads, 0, stream>>>(out->sorted_pairs, int32_t(pairs), int32_t(p.top_k),
                                                             out->src_rows, out->inverse);
  MINKE_CUDA_TRY_LAUNCH("inverse_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
