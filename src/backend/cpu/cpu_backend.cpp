// CpuBackend memory and elementwise ops.
#include "backend/cpu/cpu_backend.h"

#include <cmath>
#include <cstring>

#include "backend/cpu/kernels.h"
#include "backend/random_fill.h"

namespace minke {
using cpu::check_f32;
using cpu::check_shape;

Tensor CpuBackend::empty(DType dtype, const Shape& shape) { return Tensor::zeros(dtype, shape); }

void CpuBackend::fill_uniform(Tensor& t, float lo, float hi, uint64_t seed) {
  MINKE_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "fill_uniform range [{}, {})", lo, hi);
  const DType dtype = t.dtype();
  MINKE_CHECK(dtype == DType::kF32 || dtype == DType::kBF16 || dtype == DType::kF8E4M3,
              "fill_uniform on {}", t.describe());
  MINKE_CHECK(t.device() == Device::kCpu, "fill_uniform on a device tensor");
  void* data = t.raw();
  pool_.parallel_for(t.numel(), 1 << 16, [&](int64_t b, int64_t e) {
    using random_fill::uniform;
    if (dtype == DType::kF32) {
      for (int64_t i = b; i < e; ++i) static_cast<float*>(data)[i] = uniform(seed, uint64_t(i), lo, hi);
    } else if (dtype == DType::kBF16) {
      for (int64_t i = b; i < e; ++i)
        static_cast<uint16_t*>(data)[i] = random_fill::to_bf16(uniform(seed, uint64_t(i), lo, hi));
    } else {
      for (int64_t i = b; i < e; ++i)
        static_cast<uint8_t*>(data)[i] = random_fill::to_e4m3(uniform(seed, uint64_t(i), lo, hi));
    }
  });
}

Status CpuBackend::embedding(const Tensor& ids, const Tensor& table, Tensor& out) {
  MINKE_CHECK(ids.dtype() == DType::kI32 && ids.ndim() == 1, "embedding ids {}", ids.describe());
  check_f32(out, "embedding out");
  const int64_t vocab = table.dim(0), d = table.dim(1);
  check_shape(out, {ids.dim(0), d}, "embedding out");
  const int32_t* id = ids.data<int32_t>();
  for (int64_t t = 0; t < ids.dim(0); ++t)
    if (id[t] < 0 || id[t] >= vocab)
      return out_of_range("token id {} at position {} is outside the vocabulary [0, {})", id[t], t,
                          vocab);
  float* o = out.data<float>();
  pool_.parallel_for(ids.dim(0), 16, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) cpu::widen(table, int64_t(id[t]) * d, d, o + t * d);
  });
  return Status::ok();
}

void CpuBackend::rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  check_f32(x, "rms_norm x");
  check_f32(out, "rms_norm out");
  const int64_t d = x.dim(-1), rows = x.numel() / d;
  check_shape(w, {d}, "rms_norm weight");
  MINKE_CHECK(out.numel() == x.numel(), "rms_norm out {} for x {}", out.describe(), x.describe());
  std::vector<float> weight(d);
  cpu::widen(w, 0, d, weight.data());
  const float* xp = x.data<float>();
  float* op = out.data<float>();
  pool_.parallel_for(rows, 8, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = xp + r * d;
      float* orow = op + r * d;
      double ss = 0.0;
      for (int64_t i = 0; i < d; ++i) ss += double(xr[i]) * xr[i];
      const float inv = 1.0f / std::sqrt(float(ss / double(d)) + eps);
      for (int64_t i = 0; i < d; ++i) orow[i] = weight[i] * (xr[i] * inv);
    }
  });
}

void CpuBackend::add_inplace(Tensor& out, const Tensor& x) {
  check_f32(out, "add out");
  check_f32(x, "add x");
  MINKE_CHECK(out.numel() == x.numel(), "add {} += {}", out.describe(), x.describe());
  float* o = out.data<float>();
  const float* xp = x.data<float>();
  pool_.parallel_for(out.numel(), 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] += xp[i];
  });
}

void CpuBackend::silu_mul(const Tensor& gate, const Tensor& up, Tensor& out) {
  check_f32(gate, "silu_mul gate");
  check_f32(up, "silu_mul up");
  check_f32(out, "silu_mul out");
  MINKE_CHECK(gate.shape() == up.shape() && up.shape() == out.shape(), "silu_mul {} {} {}",
              gate.describe(), up.describe(), out.describe());
  const float* g = gate.data<float>();
  const float* u = up.data<float>();
  float* o = out.data<float>();
  pool_.parallel_for(out.numel(), 1 << 13, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  });
}

void CpuBackend::copy_cols(const Tensor& src, int64_t src_col, Tensor& dst, int64_t dst_col,
                           int64_t ncols) {
  MINKE_CHECK(src.dtype() == dst.dtype(), "copy_cols {} -> {}", src.describe(), dst.describe());
  const int64_t rows = src.dim(0);
  const int64_t sc = src.numel() / std::max<int64_t>(rows, 1);
  const int64_t dc = dst.numel() / std::max<int64_t>(dst.dim(0), 1);
  MINKE_CHECK(dst.dim(0) == rows && src_col >= 0 && dst_col >= 0 && src_col + ncols <= sc &&
                  dst_col + ncols <= dc,
              "copy_cols [{}:{}] of {} -> [{}:] of {}", src_col, src_col + ncols, src.describe(),
              dst_col, dst.describe());
  const size_t es = dtype_size(src.dtype());
  const auto* s = static_cast<const std::byte*>(src.raw());
  auto* d = static_cast<std::byte*>(dst.raw());
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(d + (r * dc + dst_col) * es, s + (r * sc + src_col) * es, size_t(ncols) * es);
}

void CpuBackend::gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) {
  MINKE_CHECK(rows.dtype() == DType::kI32 && x.dtype() == out.dtype(), "gather_rows {} {} {}",
              x.describe(), rows.describe(), out.describe());
  const int64_t d = x.numel() / std::max<int64_t>(x.dim(0), 1);
  MINKE_CHECK(out.dim(0) == rows.dim(0) && out.numel() == rows.dim(0) * d, "gather_rows out {}",
              out.describe());
  const size_t row_bytes = size_t(d) * dtype_size(x.dtype());
  const int32_t* r = rows.data<int32_t>();
  for (int64_t i = 0; i < rows.dim(0); ++i) {
    MINKE_CHECK(r[i] >= 0 && r[i] < x.dim(0), "gather_rows index {} of {}", r[i], x.dim(0));
    std::memcpy(static_cast<std::byte*>(out.raw()) + i * row_bytes,
                static_cast<const std::byte*>(x.raw()) + r[i] * row_bytes, row_bytes);
  }
}

}  // namespace minke
