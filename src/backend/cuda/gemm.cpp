// Gemm::linear: picks a path per shape (see gemm.h), prepares activations in scratch and runs
// cuBLASLt (gemm_cublaslt.h) or the grouped kernels with one group (grouped_gemm_kernel.h).
#include "backend/cuda/gemm.h"

#include <algorithm>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/fp8_quant.h"
#include "backend/cuda/gemm_cublaslt.h"
#include "backend/cuda/gemm_prep_kernel.h"
#include "backend/cuda/grouped_gemm_kernel.h"

namespace minke::cuda {
namespace {

using detail::LtKind;

constexpr size_t kWorkspaceBytes = size_t(32) << 20;
constexpr int64_t kMaxQuantRows = 65535;  // act_quant / fp8_fake_quant rows per launch
constexpr int64_t kFp8Block = 128;        // cuBLASLt's block scaling is 128 (x 128)
constexpr int64_t kFp8RowPad = 16;        // cuBLASLt FP8 gets m rounded up to this
constexpr uint32_t kScratchAlign = 256;   // cudaMalloc's alignment

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// A device buffer that only grows.
struct Scratch {
  void* p = nullptr;
  size_t bytes = 0;
};

Status check(const LinearParams& p) {
  if (p.m < 0 || p.n < 1 || p.k < 1 || p.block_n < 1 || p.block_k < 1)
    return invalid_argument("cuda::Gemm::linear: bad shape: x [{}, {}], W [{}, {}], blocks {}x{}", p.m, p.k, p.n, p.k,
                            p.block_n, p.block_k);
  if (p.m > INT32_MAX) return invalid_argument("cuda::Gemm::linear: {} rows (at most 2^31 - 1)", p.m);
  if (p.w_type != WeightType::kF32 && p.w_type != WeightType::kBF16 && p.w_type != WeightType::kF8E4M3)
    return invalid_argument("cuda::Gemm::linear: unknown weight type {}", int(p.w_type));
  if (p.m > 0 && (p.x == nullptr || p.w == nullptr || p.out == nullptr))
    return invalid_argument("cuda::Gemm::linear: null pointer (x {}, w {}, out {})", static_cast<const void*>(p.x),
                            p.w, static_cast<const void*>(p.out));
  if (p.m > 0 && p.w_type == WeightType::kF8E4M3 && p.w_scales == nullptr)
    return invalid_argument("cuda::Gemm::linear: e4m3 weight [{}, {}] without block scales", p.n, p.k);
  return Status::ok();
}

// Whether the FP8 block-scaled cuBLASLt GEMM can take this shape at all (before asking it).
bool fp8_block_shape(const LinearParams& p) {
  return p.block_n == kFp8Block && p.block_k == kFp8Block && p.k % kFp8Block == 0 && p.n % 16 == 0 &&
         detail::alignment_of(p.w) >= 16;
}

// act_quant in launches of at most 65535 rows: q [rows, k], scales [rows, ceil(k / block)].
Status quantize_rows(const float* x, uint8_t* q, float* scales, int64_t rows, int64_t k, int64_t block,
                     cudaStream_t stream) {
  const int64_t kb = (k + block - 1) / block;
  for (int64_t r = 0; r < rows; r += kMaxQuantRows)
    MINKE_TRY(act_quant({x + r * k, q + r * k, scales + r * kb, std::min(kMaxQuantRows, rows - r), k, block}, stream));
  return Status::ok();
}

}  // namespace

struct Gemm::Impl {
  std::unique_ptr<detail::LtPlans> lt;
  GemmOptions options;
  Scratch act;     // bf16 x [m, k], or e4m3 x [m (padded), k]
  Scratch scales;  // act_quant's scales [m, kb] (+ the transposed [kb, m_pad] for cuBLASLt)
  Scratch xf;      // f32 x [m, k], fake-quantized (F32/BF16 weights with quantize_input)
  Scratch dout;    // y [m_pad, n] from cuBLASLt FP8 (f32 on padded rows, or bf16)
  Scratch wsc;     // weight scales with rows padded to a multiple of 4

  std::vector<void*> retired;  // outgrown scratch, kept for graphs that captured it

  ~Impl() {
    for (Scratch* s : {&act, &scales, &xf, &dout, &wsc})
      if (s->p != nullptr) cudaFree(s->p);
    for (void* p : retired) cudaFree(p);
  }

  // Grows s to at least `bytes` (the old buffer is retired: queued work or graphs may use it).
  Status ensure(Scratch& s, size_t bytes, cudaStream_t stream) {
    if (s.bytes >= bytes) return Status::ok();
    const size_t grown = std::max(bytes, s.bytes + s.bytes / 2);
    if (s.p != nullptr) {
      // Retired, not freed: a captured CUDA graph may still point at it (freed with the Gemm).
      retired.push_back(s.p);
      s.p = nullptr;
      s.bytes = 0;
    }
    MINKE_CUDA_TRY(cudaMalloc(&s.p, grown));
    s.bytes = grown;
    return Status::ok();
  }

  Result<GemmPath> choose(const LinearParams& p) {
    const GemmPath own = p.m <= detail::kSkinnyMaxRows ? GemmPath::kSkinny : GemmPath::kTiled;
    if (p.force_own_kernel || options.own_kernels_only || p.m == 0) return own;
    const uint32_t aw = detail::alignment_of(p.w), ao = detail::alignment_of(p.out);
    switch (p.w_type) {
      case WeightType::kF32: {
        const uint32_t ax = p.quantize_input ? kScratchAlign : detail::alignment_of(p.x);
        MINKE_ASSIGN_OR_RETURN(const bool ok, lt->supported(LtKind::kF32, p.m, p.n, p.k, aw, ax, ao));
        return ok ? GemmPath::kCublasF32 : own;
      }
      case WeightType::kBF16: {
        if (own == GemmPath::kSkinny) return own;
        if (options.split_bf16_activations) {  // 2m rows into scratch
          MINKE_ASSIGN_OR_RETURN(const bool ok,
                                 lt->supported(LtKind::kBF16, 2 * p.m, p.n, p.k, aw, kScratchAlign, kScratchAlign));
          return ok ? GemmPath::kCublasBF16Split : own;
        }
        MINKE_ASSIGN_OR_RETURN(const bool ok, lt->supported(LtKind::kBF16, p.m, p.n, p.k, aw, kScratchAlign, ao));
        return ok ? GemmPath::kCublasBF16 : own;
      }
      case WeightType::kF8E4M3: {
        if (!p.quantize_input || own == GemmPath::kSkinny || !fp8_block_shape(p)) return own;
        const int64_t m_pad = round_up(p.m, kFp8RowPad);
        const uint32_t ad = m_pad == p.m ? ao : kScratchAlign;
        MINKE_ASSIGN_OR_RETURN(const bool f32, lt->supported(LtKind::kFp8Block, m_pad, p.n, p.k, aw, kScratchAlign, ad));
        if (f32) return GemmPath::kCublasFp8Block;
        MINKE_ASSIGN_OR_RETURN(const bool bf16, lt->supported(LtKind::kFp8BlockBf16Out, m_pad, p.n, p.k, aw, kScratchAlign,
                                                              kScratchAlign));
        return bf16 ? GemmPath::kCublasFp8BlockBf16Out : own;
      }
    }
    return invalid_argument("cuda::Gemm: unknown weight type {}", int(p.w_type));
  }

  // The skinny or tiled kernel with one group; x: f32 activations (already fake-quantized when
  // the weight is not e4m3), or quantized here for e4m3 weights with quantize_input.
  Status own(const LinearParams& p, const float* x, GemmPath path, cudaStream_t stream) {
    detail::GemmKernelArgs a;
    a.x = x;
    a.weight = p.w;
    a.weight_scale = p.w_type == WeightType::kF8E4M3 ? p.w_scales : nullptr;
    a.weight_type = p.w_type;
    a.block_n = p.block_n;
    a.block_k = p.block_k;
    a.out = p.out;
    a.rows = p.m;
    a.n = p.n;
    a.k = p.k;
    a.max_group_rows = p.m;
    if (p.w_type == WeightType::kF8E4M3 && p.quantize_input) {
      const int64_t kb = (p.k + p.block_k - 1) / p.block_k;
      MINKE_TRY(ensure(act, size_t(p.m * p.k), stream));
      MINKE_TRY(ensure(scales, size_t(p.m * kb) * sizeof(float), stream));
      MINKE_TRY(quantize_rows(p.x, static_cast<uint8_t*>(act.p), static_cast<float*>(scales.p), p.m, p.k, p.block_k,
                              stream));
      a.x = nullptr;
      a.x_q = static_cast<const uint8_t*>(act.p);
      a.x_scales = static_cast<const float*>(scales.p);
    }
    return detail::launch_gemm_kernel(a, path == GemmPath::kSkinny ? detail::GemmKernel::kSkinny : detail::GemmKernel::kTiled,
                                      stream);
  }

  // act_quant, then cuBLASLt's block-scaled FP8 GEMM on m padded to kFp8RowPad rows, into out
  // (f32) or into scratch (padded rows, or a bf16 output) and from there to out.
  Status fp8_block(const LinearParams& p, bool bf16_out, cudaStream_t stream) {
    const int64_t m = p.m, m_pad = round_up(m, kFp8RowPad), kb = p.k / kFp8Block;
    const int64_t nb = (p.n + kFp8Block - 1) / kFp8Block, kb4 = round_up(kb, 4);
    const int64_t t_floats = round_up(kb * m_pad, 64);  // the transposed scales first (aligned)
    MINKE_TRY(ensure(act, size_t(m_pad * p.k), stream));
    MINKE_TRY(ensure(scales, size_t(t_floats + m * kb) * sizeof(float), stream));
    auto* q = static_cast<uint8_t*>(act.p);
    float* scales_t = static_cast<float*>(scales.p);  // [kb, m_pad]
    float* scales_rm = scales_t + t_floats;           // [m, kb], act_quant's layout
    MINKE_TRY(quantize_rows(p.x, q, scales_rm, m, p.k, kFp8Block, stream));
    if (m_pad > m) MINKE_CUDA_TRY(cudaMemsetAsync(q + m * p.k, 0, size_t((m_pad - m) * p.k), stream));
    MINKE_TRY(detail::transpose_act_scales(scales_rm, scales_t, m, kb, m_pad, stream));
    const float* w_scales = p.w_scales;
    if (kb != kb4 || detail::alignment_of(p.w_scales) < 16) {
      MINKE_TRY(ensure(wsc, size_t(nb * kb4) * sizeof(float), stream));
      MINKE_TRY(detail::pad_weight_scales(p.w_scales, static_cast<float*>(wsc.p), nb, kb, kb4, stream));
      w_scales = static_cast<const float*>(wsc.p);
    }
    const LtKind kind = bf16_out ? LtKind::kFp8BlockBf16Out : LtKind::kFp8Block;
    void* d = p.out;
    if (m_pad > m || bf16_out) {
      MINKE_TRY(ensure(dout, size_t(m_pad * p.n) * (bf16_out ? 2 : sizeof(float)), stream));
      d = dout.p;
    }
    const Status run = lt->run(kind, m_pad, p.n, p.k, p.w, q, d, w_scales, scales_t, stream);
    if (!run.is_ok()) {
      // cuBLASLt offered an algorithm, then refused to run it: remember, and use the tiled kernel
      // on the same quantized activations.
      lt->disable(kind, m_pad, p.n, p.k, detail::alignment_of(p.w), detail::alignment_of(q), detail::alignment_of(d));
      detail::GemmKernelArgs a;
      a.x_q = q;
      a.x_scales = scales_rm;
      a.weight = p.w;
      a.weight_scale = p.w_scales;
      a.weight_type = WeightType::kF8E4M3;
      a.out = p.out;
      a.rows = m;
      a.n = p.n;
      a.k = p.k;
      a.max_group_rows = m;
      return detail::launch_tiled_gemm(a, stream);
    }
    if (bf16_out) return detail::convert_from_bf16(static_cast<const uint16_t*>(d), p.out, m * p.n, stream);
    if (m_pad > m)
      MINKE_CUDA_TRY(cudaMemcpyAsync(p.out, d, size_t(m * p.n) * sizeof(float), cudaMemcpyDeviceToDevice, stream));
    return Status::ok();
  }

  Status linear(const LinearParams& p, cudaStream_t stream) {
    MINKE_ASSIGN_OR_RETURN(const GemmPath path, choose(p));
    const float* x = p.x;
    if (p.quantize_input && p.w_type != WeightType::kF8E4M3) {
      // The CPU fake-quantizes x whatever the weight: round a copy (x stays untouched).
      MINKE_TRY(ensure(xf, size_t(p.m * p.k) * sizeof(float), stream));
      float* copy = static_cast<float*>(xf.p);
      MINKE_CUDA_TRY(cudaMemcpyAsync(copy, p.x, size_t(p.m * p.k) * sizeof(float), cudaMemcpyDeviceToDevice, stream));
      for (int64_t r = 0; r < p.m; r += kMaxQuantRows)
        MINKE_TRY(fp8_fake_quant(copy + r * p.k, std::min(kMaxQuantRows, p.m - r), p.k, p.block_k, stream));
      x = copy;
    }
    switch (path) {
      case GemmPath::kCublasF32:
        return lt->run(LtKind::kF32, p.m, p.n, p.k, p.w, x, p.out, nullptr, nullptr, stream);
      case GemmPath::kCublasBF16: {
        MINKE_TRY(ensure(act, size_t(p.m * p.k) * 2, stream));
        auto* xb = static_cast<uint16_t*>(act.p);
        MINKE_TRY(detail::convert_to_bf16(x, xb, p.m * p.k, stream));
        return lt->run(LtKind::kBF16, p.m, p.n, p.k, p.w, xb, p.out, nullptr, nullptr, stream);
      }
      case GemmPath::kCublasBF16Split: {
        MINKE_TRY(ensure(act, size_t(2 * p.m * p.k) * 2, stream));
        MINKE_TRY(ensure(dout, size_t(2 * p.m * p.n) * sizeof(float), stream));
        auto* xb = static_cast<uint16_t*>(act.p);
        auto* y2 = static_cast<float*>(dout.p);
        MINKE_TRY(detail::split_to_bf16(x, xb, p.m * p.k, stream));
        MINKE_TRY(lt->run(LtKind::kBF16, 2 * p.m, p.n, p.k, p.w, xb, y2, nullptr, nullptr, stream));
        return detail::add_halves(y2, p.out, p.m * p.n, stream);
      }
      case GemmPath::kCublasFp8Block:
      case GemmPath::kCublasFp8BlockBf16Out:
        return fp8_block(p, path == GemmPath::kCublasFp8BlockBf16Out, stream);
      case GemmPath::kSkinny:
      case GemmPath::kTiled:
        return own(p, x, path, stream);
    }
    return internal_error("cuda::Gemm: unknown path {}", int(path));
  }
};

Gemm::Gemm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
void Gemm::set_options(const GemmOptions& options) { impl_->options = options; }
Gemm::~Gemm() = default;

Result<std::unique_ptr<Gemm>> Gemm::create() {
  auto impl = std::make_unique<Impl>();
  MINKE_ASSIGN_OR_RETURN(impl->lt, detail::LtPlans::create(kWorkspaceBytes));
  return std::unique_ptr<Gemm>(new Gemm(std::move(impl)));
}

Status Gemm::linear(const LinearParams& p, cudaStream_t stream) {
  MINKE_TRY(check(p));
  if (p.m == 0) return Status::ok();
  return impl_->linear(p, stream);
}

Result<GemmPath> Gemm::plan(const LinearParams& p) {
  MINKE_TRY(check(p));
  return impl_->choose(p);
}

const char* Gemm::path_name(GemmPath path) {
  switch (path) {
    case GemmPath::kCublasF32: return "cublaslt_f32";
    case GemmPath::kCublasBF16: return "cublaslt_bf16";
    case GemmPath::kCublasBF16Split: return "cublaslt_bf16_split";
    case GemmPath::kCublasFp8Block: return "cublaslt_fp8_block128";
    case GemmPath::kCublasFp8BlockBf16Out: return "cublaslt_fp8_block128_bf16out";
    case GemmPath::kSkinny: return "skinny_kernel";
    case GemmPath::kTiled: return "tiled_kernel";
  }
  return "unknown";
}

}  // namespace minke::cuda
