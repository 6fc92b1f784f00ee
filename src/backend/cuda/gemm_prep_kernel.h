// Small layout kernels around cuBLASLt in Gemm::linear: f32 <-> bf16, and the block-scale
// layouts cuBLASLt's FP8 block scaling reads (see gemm.h for which path uses them).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"

namespace minke::cuda::detail {

// out[i] = bf16(x[i]) rounded to nearest even, i < n.
Status convert_to_bf16(const float* x /*[n]*/, uint16_t* out /*[n]*/, int64_t n, cudaStream_t stream);

// Splits f32 x into two bf16 halves that sum to it within ~2^-17 relative: hi[i] = bf16(x[i]),
// lo[i] = bf16(x[i] - hi[i]); out = [hi (n values) | lo (n values)].
Status split_to_bf16(const float* x /*[n]*/, uint16_t* out /*[2n]*/, int64_t n, cudaStream_t stream);

// out[i] = y[i] + y[n + i]: the two halves of a split-bf16 product added back, i < n.
Status add_halves(const float* y /*[2n]*/, float* out /*[n]*/, int64_t n, cudaStream_t stream);

// out[i] = float(x[i]) for bf16 x, i < n (cuBLASLt FP8 with a bf16 output, widened back).
Status convert_from_bf16(const uint16_t* x /*[n]*/, float* out /*[n]*/, int64_t n, cudaStream_t stream);

// act_quant's per-row scales [m, kb] to cuBLASLt's VEC128_32F layout for the B operand (outer
// dimension contiguous): out[b * m_pad + r] = in[r * kb + b]; rows m..m_pad get 1 (their e4m3
// values are zero).
Status transpose_act_scales(const float* in /*[m, kb]*/, float* out /*[kb, m_pad]*/, int64_t m, int64_t kb,
                            int64_t m_pad, cudaStream_t stream);

// A weight's block scales [nb, kb] with rows padded to kb_pad columns (cuBLASLt's BLK128x128_32F
// wants the leading dimension a multiple of 4): out[i * kb_pad + j] = j < kb ? in[i * kb + j] : 0.
Status pad_weight_scales(const float* in /*[nb, kb]*/, float* out /*[nb, kb_pad]*/, int64_t nb, int64_t kb,
                         int64_t kb_pad, cudaStream_t stream);

}  // namespace minke::cuda::detail
