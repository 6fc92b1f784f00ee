// Section 4 of `minke bench kernels`: absorbed MLA decode (cuda::mla_attention_absorbed) over the
// paged f32 latent cache the CUDA backend keeps (page size 64, L = 512, R = 64), one decode token
// per sequence, every sequence at the same context. Roofline: the bytes of cache read + q + out at
// the measured copy bandwidth (a decode step should stream its context once).
#if MINKE_HAVE_CUDA

#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "apps/bench_kernels_cuda.h"
#include "apps/bench_kernels_report.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/mla_attention.h"

namespace minke::kbench {
namespace {

constexpr int64_t kL = 512, kR = 64, kPage = 64;
constexpr int64_t kMargin = int64_t(1) << 30;  // device memory left free for everything else

template <class T>
Result<DeviceBuffer> upload(const std::vector<T>& host) {
  MINKE_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::alloc(host.size() * sizeof(T)));
  MINKE_CUDA_TRY(cudaMemcpy(b.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return b;
}

}  // namespace

Status bench_mla_decode(KernelBenchContext& ctx) {
  const bool quick = ctx.options.quick;
  const std::vector<int64_t> batches = quick ? std::vector<int64_t>{1, 32} : std::vector<int64_t>{1, 8, 32, 128};
  const std::vector<int64_t> contexts = quick ? std::vector<int64_t>{4096} : std::vector<int64_t>{512, 4096, 16384};
  const std::vector<int64_t> head_counts = {128, 16};
  const double bw = ctx.roof.copy_gbs;
  const double fp32_spec = spec_fp32_tflops(ctx.info.cc_major, ctx.info.multiprocessors, ctx.clock_khz);
  std::printf("== 4. MLA decode, absorbed, over the paged latent cache (f32, page %lld, L = %lld, R = %lld) ==\n",
              (long long)kPage, (long long)kL, (long long)kR);
  std::printf("bytes = cache rows read + q_abs + q_pe + out; %%BW roof = (bytes / %s GB/s) / time; FLOP = "
              "2 (2L + R) per head and position;\n%%FP32 = TFLOP/s over the FP32 CUDA-core spec (%s TFLOP/s). "
              "Median of %d, L2 flushed before each run.\n",
              fixed(bw, 1).c_str(), fixed(fp32_spec, 1).c_str(), ctx.iters());

  std::vector<std::vector<std::vector<std::string>>> rows(head_counts.size());
  nlohmann::json& results = ctx.json["mla_decode"];
  results = nlohmann::json::array();
  uint64_t seed = 400;
  std::string skipped;
  for (const int64_t batch : batches) {
    for (const int64_t context : contexts) {
      const int64_t per_seq = (context + kPage - 1) / kPage, num_pages = batch * per_seq;
      const int64_t cache_floats = num_pages * kPage * (kL + kR);
      const int64_t q_out = batch * head_counts.front() * (2 * kL + kR) * int64_t(sizeof(float));
      const int64_t need = cache_floats * int64_t(sizeof(float)) + q_out + int64_t(cuda::kMlaMaxSplits) * q_out;
      if (need > ctx.free_bytes() - kMargin) {
        skipped += fmt::format(" batch {} x context {} (needs {} GB);", batch, context, gigabytes(double(need)));
        results.push_back({{"batch", batch}, {"context", context}, {"skipped", "exceeds free device memory"}});
        continue;
      }
      MINKE_ASSIGN_OR_RETURN(DeviceBuffer cache, random_buffer(DType::kF32, cache_floats, -1.0f, 1.0f, ++seed, ctx.stream));
      std::vector<int32_t> pages(static_cast<size_t>(num_pages));
      std::vector<int32_t> positions(static_cast<size_t>(batch), int32_t(context - 1));
      std::vector<int32_t> starts(static_cast<size_t>(batch + 1));
      std::iota(pages.begin(), pages.end(), 0);  // sequence s owns pages [s * per_seq, (s + 1) * per_seq)
      std::iota(starts.begin(), starts.end(), 0);
      MINKE_ASSIGN_OR_RETURN(DeviceBuffer d_table, upload(pages));
      MINKE_ASSIGN_OR_RETURN(DeviceBuffer d_positions, upload(positions));
      MINKE_ASSIGN_OR_RETURN(DeviceBuffer d_starts, upload(starts));
      for (size_t h = 0; h < head_counts.size(); ++h) {
        const int64_t heads = head_counts[h];
        MINKE_ASSIGN_OR_RETURN(DeviceBuffer q_abs, random_buffer(DType::kF32, batch * heads * kL, -1.0f, 1.0f, ++seed, ctx.stream));
        MINKE_ASSIGN_OR_RETURN(DeviceBuffer q_pe, random_buffer(DType::kF32, batch * heads * kR, -1.0f, 1.0f, ++seed, ctx.stream));
        MINKE_ASSIGN_OR_RETURN(DeviceBuffer out, DeviceBuffer::alloc(size_t(batch * heads * kL) * sizeof(float)));
        cuda::MlaDecodeParams p;
        p.q_abs = q_abs.as<float>();
        p.q_pe = q_pe.as<float>();
        p.cache = cache.as<float>();
        p.out = out.as<float>();
        p.positions = d_positions.as<int32_t>();
        p.seq_starts = d_starts.as<int32_t>();
        p.block_table = d_table.as<int32_t>();
        p.tokens = batch, p.heads = heads, p.kv_lora_rank = kL, p.rope_dim = kR;
        p.num_seqs = batch, p.num_pages = num_pages, p.page_size = kPage, p.max_pages = per_seq;
        p.max_context = context;
        p.scale = float(1.0 / std::sqrt(192.0));
        MINKE_ASSIGN_OR_RETURN(const cuda::MlaDecodePlan plan, cuda::plan_mla_decode(p));
        MINKE_ASSIGN_OR_RETURN(DeviceBuffer ws, DeviceBuffer::alloc(plan.workspace_bytes));
        p.workspace = ws.get();
        p.workspace_bytes = ws.bytes();
        MINKE_ASSIGN_OR_RETURN(const Timing t, ctx.time([&] { return cuda::mla_attention_absorbed(p, ctx.stream); }));
        const double bytes = mla_decode_bytes(batch, context, heads, kL, kR);
        const double flops = mla_decode_flops(batch, context, heads, kL, kR);
        const double rate = gbs(bytes, t.median_us), tf = tflops(flops, t.median_us);
        const double frac = roofline_fraction(roofline_us(0, bytes, kNaN, bw), t.median_us);
        rows[h].push_back({std::to_string(heads), std::to_string(batch), std::to_string(context),
                           std::to_string(plan.num_splits), fixed(t.median_us, 1), fixed(rate, 1), fixed(tf, 2),
                           percent(frac), percent(tf / fp32_spec)});
        results.push_back({{"heads", heads}, {"batch", batch}, {"context", context}, {"splits", plan.num_splits},
                           {"median_us", t.median_us}, {"best_us", t.best_us}, {"bytes", bytes}, {"flops", flops},
                           {"gbs", rate}, {"tflops", tf}, {"fraction_of_bw_roofline", frac},
                           {"fraction_of_fp32_spec", tf / fp32_spec}});
      }
    }
  }
  Table out({"heads", "batch", "context", "splits", "median us", "GB/s", "TFLOP/s", "%BW roof", "%FP32 spec"});
  for (auto& per_heads : rows)
    for (auto& row : per_heads) out.add_row(std::move(row));
  std::printf("%s", out.render().c_str());
  if (!skipped.empty()) std::printf("skipped, not enough free device memory:%s\n", skipped.c_str());
  std::printf("\n");
  return Status::ok();
}

}  // namespace minke::kbench

#endif  // MINKE_HAVE_CUDA
