// The logits processors on the GPU (engine/logits_processor.cpp's order and arithmetic:
// bias, min_tokens masks, repetition, frequency then presence), one block per row over the
// row's sparse lists, and restore_logits, which writes the saved raw values back. The
// explicit-rounding intrinsics keep nvcc from fusing a multiply and a subtraction into an
// FMA, so the results equal the CPU's bit for bit.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/sampling.h"

namespace minke::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) apply_logits_processors_kernel(LogitsProcessParams p) {
  const int64_t r = blockIdx.x;
  float* logits = p.logits + r * p.vocab;  // [vocab] this row
  const int32_t* o = p.offsets + 4 * r;    // bias [o0, o1), masks [o1, o2), repetition [o2, o3), counts [o3, o4)
  const int32_t o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4];
  // Every entry's raw value first: an id may appear in several lists.
  for (int32_t j = o0 + int32_t(threadIdx.x); j < o4; j += kThreads) p.saved[j] = logits[p.ids[j]];
  __syncthreads();
  for (int32_t j = o0 + int32_t(threadIdx.x); j < o1; j += kThreads)  // distinct ids
    logits[p.ids[j]] = __fadd_rn(logits[p.ids[j]], p.values[j]);
  __syncthreads();
  for (int32_t j = o1 + int32_t(threadIdx.x); j < o2; j += kThreads)  // repeats write the same value
    logits[p.ids[j]] = -__int_as_float(0x7f800000);
  __syncthreads();
  const SamplingRow row = p.rows[r];
  for (int32_t j = o2 + int32_t(threadIdx.x); j < o3; j += kThreads) {  // distinct ids
    const float x = logits[p.ids[j]];
    logits[p.ids[j]] = x > 0.0f ? __fdiv_rn(x, row.repetition_penalty) : __fmul_rn(x, row.repetition_penalty);
  }
  __syncthreads();
  for (int32_t j = o3 + int32_t(threadIdx.x); j < o4; j += kThreads) {  // distinct ids
    float x = logits[p.ids[j]];
    x = __fsub_rn(x, __fmul_rn(row.frequency_penalty, p.values[j]));
    x = __fsub_rn(x, row.presence_penalty);
    logits[p.ids[j]] = x;
  }
}

__global__ void __launch_bounds__(kThreads) restore_logits_kernel(LogitsProcessParams p) {
  const int64_t r = blockIdx.x;
  float* logits = p.logits + r * p.vocab;
  // Every saved value of an id is its raw value, so the order of the writes does not matter.
  for (int32_t j = p.offsets[4 * r] + int32_t(threadIdx.x); j < p.offsets[4 * r + 4]; j += kThreads)
    logits[p.ids[j]] = p.saved[j];
}

Status check(const LogitsProcessParams& p, const char* name) {
  if (p.logits == nullptr || p.rows == nullptr || p.offsets == nullptr || p.ids == nullptr ||
      p.values == nullptr || p.saved == nullptr || p.num_rows < 0 || p.vocab <= 0)
    return invalid_argument("cuda::{}: null pointer or bad shape [{}, {}]", name, p.num_rows, p.vocab);
  if (p.num_rows > int64_t(INT32_MAX)) return invalid_argument("cuda::{}: {} rows", name, p.num_rows);
  return Status::ok();
}

}  // namespace

Status apply_logits_processors(const LogitsProcessParams& p, cudaStream_t stream) {
  MINKE_TRY(check(p, "apply_logits_processors"));
  if (p.num_rows == 0) return Status::ok();
  apply_logits_processors_kernel<<<unsigned(p.num_rows), kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("apply_logits_processors_kernel");
  return Status::ok();
}

Status restore_logits(const LogitsProcessParams& p, cudaStream_t stream) {
  MINKE_TRY(check(p, "restore_logits"));
  if (p.num_rows == 0) return Status::ok();
  restore_logits_kernel<<<unsigned(p.num_rows), kThreads, 0, stream>>>(p);
  MINKE_CUDA_TRY_LAUNCH("restore_logits_kernel");
  return Status::ok();
}

}  // namespace minke::cuda
