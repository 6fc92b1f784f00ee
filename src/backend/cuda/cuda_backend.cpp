// CudaBackend: device memory, transfers, the error latch, and the elementwise ops; the
// products, attention and MoE ops are in cuda_backend_ops.cpp.
#include "backend/cuda/cuda_backend.h"

#include <cstring>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/elementwise.h"
#include "backend/cuda/fp8_quant.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/head_linear.h"
#include "backend/cuda/moe.h"
#include "backend/cuda/moe_expert_table.h"
#include "backend/cuda/random_fill.h"
#include "backend/cuda/rms_norm.h"

namespace minke {

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(const CudaBackendOptions& o) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();
    return unavailable("--device cuda: no CUDA device is visible (driver missing or no GPU)");
  }
  if (o.device < 0 || o.device >= count)
    return invalid_argument("CUDA device {} requested; {} visible", o.device, count);
  if (!(o.gpu_memory_utilization > 0.0 && o.gpu_memory_utilization <= 1.0))
    return invalid_argument("--gpu-memory-utilization must be in (0, 1], got {}", o.gpu_memory_utilization);
  std::unique_ptr<CudaBackend> b(new CudaBackend());
  b->device_ = o.device;
  MINKE_CUDA_TRY(cudaSetDevice(o.device));
  cudaDeviceProp prop{};
  MINKE_CUDA_TRY(cudaGetDeviceProperties(&prop, o.device));
  b->device_name_ = prop.name;
  if (prop.major < 9)
    return unsupported("{} has compute capability {}.{}; minke's kernels are built for sm_90a (Hopper)",
                       prop.name, prop.major, prop.minor);
  size_t free_bytes = 0, total_bytes = 0;
  MINKE_CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
  // vLLM's rule: the budget is a fraction of the total; what others hold comes out of it.
  const int64_t used_elsewhere = int64_t(total_bytes) - int64_t(free_bytes);
  const int64_t limit = int64_t(double(total_bytes) * o.gpu_memory_utilization) - used_elsewhere;
  if (limit <= 0)
    return out_of_range("--gpu-memory-utilization {} of {:.1f} GiB leaves nothing: {:.1f} GiB are in use already",
                        o.gpu_memory_utilization, double(total_bytes) / (1 << 30),
                        double(used_elsewhere) / (1 << 30));
  b->pool_ = cuda::DevicePool::create(limit);
  MINKE_CUDA_TRY(cudaStreamCreateWithFlags(&b->stream_, cudaStreamNonBlocking));
  MINKE_ASSIGN_OR_RETURN(b->gemm_, cuda::Gemm::create());
  b->gemm_->set_options(o.gemm);
  MINKE_ASSIGN_OR_RETURN(b->head_linear_, cuda::HeadLinear::create());
  return b;
}

CudaBackend::~CudaBackend() {
  if (stream_ != nullptr) {
    cudaStreamSynchronize(stream_);
    expert_tables_.clear();
    gemm_.reset();
    head_linear_.reset();
    cudaStreamDestroy(stream_);
  }
}

void CudaBackend::record(const Status& status) {
  if (status.is_ok()) return;
  std::lock_guard<std::mutex> lock(error_mu_);
  if (error_.is_ok()) error_ = status;
}

bool CudaBackend::failed() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return !error_.is_ok();
}

Status CudaBackend::take_error() {
  // Faults inside kernels surface only at a synchronization point (none while capturing).
  if (!capturing_) record(cuda_status(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"));
  std::lock_guard<std::mutex> lock(error_mu_);
  Status out = error_;
  error_ = Status::ok();
  return out;
}

Tensor CudaBackend::empty(DType dtype, const Shape& shape) {
  const size_t bytes = size_t(shape_numel(shape)) * dtype_size(dtype);
  Result<std::shared_ptr<void>> block = pool_->allocate(bytes);
  if (!block.is_ok()) {
    record(block.status());
    // A null view: every launcher refuses null pointers, so nothing is written through it.
    return Tensor::view_of(nullptr, dtype, shape, nullptr, Device::kCuda);
  }
  void* p = block->get();
  return Tensor::view_of(p, dtype, shape, std::move(block).value(), Device::kCuda);
}

Tensor CudaBackend::scratch(size_t bytes) { return empty(DType::kU8, {int64_t(bytes)}); }

Tensor CudaBackend::upload(const Tensor& host) {
  if (host.device() == Device::kCuda) return host;
  Tensor t = empty(host.dtype(), host.shape());
  if (capturing_) {  // through pinned staging, which a captured copy may read (see begin_capture)
    GraphUpload u{host.raw(), host.nbytes(), nullptr};
    if (t.raw() == nullptr || host.nbytes() == 0) return t;
    if (Status st = cuda_status(cudaHostAlloc(&u.staging, u.bytes, cudaHostAllocDefault), "cudaHostAlloc"); !st.is_ok()) {
      record(st);
      return t;
    }
    std::memcpy(u.staging, host.raw(), u.bytes);
    capture_->uploads_.push_back(u);
    record(cuda_status(cudaMemcpyAsync(t.raw(), u.staging, u.bytes, cudaMemcpyHostToDevice, stream_), "upload"));
    return t;
  }
  if (t.raw() != nullptr && host.nbytes() > 0)
    record(cuda_status(cudaMemcpyAsync(t.raw(), host.raw(), host.nbytes(), cudaMemcpyHostToDevice, stream_),
                       "upload"));
  return t;
}

Tensor CudaBackend::to_host(const Tensor& t) {
  if (t.device() == Device::kCpu) return t;
  Tensor host = Tensor::zeros(t.dtype(), t.shape());
  if (capturing_) {
    record(internal_error("to_host while capturing a CUDA graph"));
    return host;
  }
  if (t.raw() == nullptr || t.nbytes() == 0) return host;
  record(cuda_status(cudaMemcpyAsync(host.raw(), t.raw(), t.nbytes(), cudaMemcpyDeviceToHost, stream_),
                     "to_host"));
  record(cuda_status(cudaStreamSynchronize(stream_), "to_host: cudaStreamSynchronize"));
  return host;
}

void CudaBackend::synchronize() {
  if (!capturing_) record(cuda_status(cudaStreamSynchronize(stream_), "synchronize"));
}

void CudaBackend::fill_uniform(Tensor& t, float lo, float hi, uint64_t seed) {
  record(cuda::fill_uniform(t.raw(), t.dtype(), t.numel(), lo, hi, seed, stream_));
}

void CudaBackend::check_f32(const Tensor& t, const char* what) {
  MINKE_CHECK(t.dtype() == DType::kF32 && t.device() == Device::kCuda, "cuda {}: {} on {}", what, t.describe(),
              t.device() == Device::kCuda ? "cuda" : "cpu");
}

Status CudaBackend::embedding(const Tensor& ids, const Tensor& table, Tensor& out) {
  MINKE_CHECK(ids.dtype() == DType::kI32 && ids.ndim() == 1 && table.ndim() == 2,
              "embedding ids {} table {}", ids.describe(), table.describe());
  check_f32(out, "embedding out");
  MINKE_CHECK(out.dim(0) == ids.dim(0) && out.dim(1) == table.dim(1), "embedding out {}", out.describe());
  if (table.dtype() != DType::kF32 && table.dtype() != DType::kBF16)
    return unsupported("cuda embedding: {} table (F32 or BF16)", dtype_name(table.dtype()));
  // Ids come from the host each step: check them there, where the error can name the token
  // (a graph capture cannot read them back: its caller checks them).
  const Tensor host_ids = capturing_ ? Tensor::zeros(DType::kI32, {0}) : to_host(ids);
  for (int64_t t = 0; t < host_ids.dim(0); ++t) {
    const int32_t id = host_ids.data<int32_t>()[t];
    if (id < 0 || id >= table.dim(0))
      return out_of_range("token id {} at position {} is outside the vocabulary [0, {})", id, t, table.dim(0));
  }
  cuda::EmbeddingParams p{ids.data<int32_t>(), table.raw(), table.dtype() == DType::kBF16, out.data<float>(),
                          ids.dim(0), table.dim(1)};
  return cuda::embedding(p, stream_);
}

namespace {
cuda::RmsNormParams norm_params(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  const int64_t d = x.dim(-1);
  MINKE_CHECK(w.ndim() == 1 && w.dim(0) == d && out.numel() == x.numel(), "rms_norm x {} w {} out {}",
              x.describe(), w.describe(), out.describe());
  MINKE_CHECK(w.dtype() == DType::kF32 || w.dtype() == DType::kBF16, "rms_norm weight {}", w.describe());
  cuda::RmsNormParams p{x.data<float>(), nullptr, out.data<float>(), x.numel() / d, d, eps};
  if (w.dtype() == DType::kBF16) p.w_bf16 = static_cast<const uint16_t*>(w.raw());
  else p.w = w.data<float>();
  return p;
}
}  // namespace

void CudaBackend::rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& out) {
  check_f32(x, "rms_norm x");
  check_f32(out, "rms_norm out");
  record(cuda::rms_norm(norm_params(x, w, eps, out), stream_));
}

void CudaBackend::add_rms_norm(Tensor& x, const Tensor& delta, const Tensor& w, float eps, Tensor& out) {
  check_f32(x, "add_rms_norm x");
  check_f32(delta, "add_rms_norm delta");
  check_f32(out, "add_rms_norm out");
  MINKE_CHECK(delta.numel() == x.numel(), "add_rms_norm x {} delta {}", x.describe(), delta.describe());
  cuda::RmsNormParams p = norm_params(x, w, eps, out);
  p.residual = delta.data<float>();
  p.sum_out = x.data<float>();
  record(cuda::rms_norm(p, stream_));
}

void CudaBackend::add_inplace(Tensor& out, const Tensor& x) {
  check_f32(out, "add out");
  check_f32(x, "add x");
  MINKE_CHECK(out.numel() == x.numel(), "add {} += {}", out.describe(), x.describe());
  record(cuda::add_inplace(out.data<float>(), x.data<float>(), out.numel(), stream_));
}

void CudaBackend::silu_mul(const Tensor& gate, const Tensor& up, Tensor& out) {
  check_f32(gate, "silu_mul gate");
  check_f32(up, "silu_mul up");
  check_f32(out, "silu_mul out");
  MINKE_CHECK(gate.numel() == up.numel() && out.numel() == gate.numel(), "silu_mul {} {} -> {}",
              gate.describe(), up.describe(), out.describe());
  record(cuda::silu_mul(gate.data<float>(), up.data<float>(), out.data<float>(), out.numel(), stream_));
}

void CudaBackend::copy_cols(const Tensor& src, int64_t src_col, Tensor& dst, int64_t dst_col, int64_t ncols) {
  check_f32(src, "copy_cols src");
  check_f32(dst, "copy_cols dst");
  const int64_t cs = src.dim(-1), cd = dst.dim(-1), rows = src.numel() / cs;
  MINKE_CHECK(dst.numel() / cd == rows && src_col >= 0 && dst_col >= 0 && ncols >= 0 &&
                  src_col + ncols <= cs && dst_col + ncols <= cd,
              "copy_cols {}[:, {}+{}] -> {}[:, {}]", src.describe(), src_col, ncols, dst.describe(), dst_col);
  if (rows == 0 || ncols == 0 || failed()) return;
  record(cuda_status(cudaMemcpy2DAsync(dst.data<float>() + dst_col, size_t(cd) * sizeof(float),
                                       src.data<float>() + src_col, size_t(cs) * sizeof(float),
                                       size_t(ncols) * sizeof(float), size_t(rows), cudaMemcpyDeviceToDevice,
                                       stream_),
                     "copy_cols"));
}

void CudaBackend::gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) {
  check_f32(x, "gather_rows x");
  check_f32(out, "gather_rows out");
  MINKE_CHECK(rows.dtype() == DType::kI32 && rows.ndim() == 1 && out.dim(0) == rows.dim(0) &&
                  out.dim(-1) == x.dim(-1),
              "gather_rows {} by {} -> {}", x.describe(), rows.describe(), out.describe());
  record(cuda::gather_rows(x.data<float>(), rows.data<int32_t>(), out.data<float>(), rows.dim(0), x.dim(-1),
                           stream_));
}

void CudaBackend::fp8_fake_quant(Tensor& x, int64_t block) {
  check_f32(x, "fp8_fake_quant x");
  const int64_t k = x.dim(-1);
  record(cuda::fp8_fake_quant(x.data<float>(), x.numel() / k, k, block, stream_));
}

void CudaBackend::rope(Tensor& x, const Tensor& positions, const Tensor& inv_freq, float attention_factor) {
  check_f32(x, "rope x");
  check_f32(inv_freq, "rope inv_freq");
  MINKE_CHECK(x.ndim() == 3 && positions.dtype() == DType::kI32 && positions.dim(0) == x.dim(0) &&
                  2 * inv_freq.numel() <= x.dim(2),
              "rope x {} positions {} inv_freq {}", x.describe(), positions.describe(), inv_freq.describe());
  const Tensor pos = positions.device() == Device::kCuda ? positions : upload(positions);
  cuda::RopeParams p{x.data<float>(), pos.data<int32_t>(), inv_freq.data<float>(), x.dim(0), x.dim(1), x.dim(2),
                     inv_freq.numel(), attention_factor};
  record(cuda::rope(p, stream_));
}

}  // namespace minke
