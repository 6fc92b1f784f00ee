// Section 5 of `minke bench kernels`: one full-width DeepSeek-V3 decoder layer (MLA + MoE with
// 256 experts, 8 active, a shared expert; FP8 weights, w8a8 as serving runs them) built through
// the real model code: a DeepseekV3 from DeepSeek-V3's config.json with --hf-overrides for one MoE
// layer and --load-format dummy weights, on a CudaBackend; DeepseekV3::forward_layer runs the layer
// as forward() would, without embedding or LM head. Roofline: (the weight bytes the step touches,
// with only the routed experts the router picked, + the KV cache read) / measured copy bandwidth.
#if MINKE_HAVE_CUDA

#include <stdlib.h>  // mkdtemp

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apps/bench_kernels_cuda.h"
#include "apps/bench_kernels_report.h"
#include "apps/route_recording_backend.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "model/dummy_weights.h"
#include "model/model_loader.h"

namespace minke::kbench {
namespace {

constexpr int64_t kContext = 1024, kPage = 64;
// Layers run back to back per timed run, as a forward pass runs its layers: the host enqueues one
// while the GPU executes the last (no wait between them), and the start-up latency is amortized.
constexpr int kLayersPerRun = 8;

// A fresh directory under the system temp dir, removed with everything in it on destruction.
struct TempDir {
  std::filesystem::path path;
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

Status make_temp_dir(TempDir& dir) {
  std::error_code ec;
  std::string tmpl = (std::filesystem::temp_directory_path(ec) / "minke-bench-kernels-XXXXXX").string();
  if (ec || mkdtemp(tmpl.data()) == nullptr) return io_error("cannot create a temporary directory ({})", tmpl);
  dir.path = tmpl;
  return Status::ok();
}

// One decode token per sequence at position kContext - 1 (so kContext cached positions); sequence s
// owns pages [s * per_seq, (s + 1) * per_seq) of the cache.
ForwardInput decode_batch(int64_t batch) {
  const int64_t per_seq = kContext / kPage;
  ForwardInput in;
  in.token_ids = Tensor::zeros(DType::kI32, {batch});
  in.logit_rows = Tensor::zeros(DType::kI32, {0});
  AttentionBatch& b = in.batch;
  b.positions = Tensor::zeros(DType::kI32, {batch});
  b.slot_mapping = Tensor::zeros(DType::kI64, {batch});
  b.seq_starts = Tensor::zeros(DType::kI32, {batch + 1});
  b.context_lens = Tensor::zeros(DType::kI32, {batch});
  b.block_table = Tensor::zeros(DType::kI32, {batch, per_seq});
  b.page_size = kPage;
  for (int64_t s = 0; s < batch; ++s) {
    b.positions.data<int32_t>()[s] = int32_t(kContext - 1);
    b.context_lens.data<int32_t>()[s] = int32_t(kContext);
    b.seq_starts.data<int32_t>()[s + 1] = int32_t(s + 1);
    for (int64_t j = 0; j < per_seq; ++j) b.block_table.data<int32_t>()[s * per_seq + j] = int32_t(s * per_seq + j);
    b.slot_mapping.data<int64_t>()[s] = (s * per_seq + per_seq - 1) * kPage + (kContext - 1) % kPage;
  }
  return in;
}

}  // namespace

Status bench_moe_layer(KernelBenchContext& ctx) {
  const std::vector<int64_t> batches = ctx.options.quick ? std::vector<int64_t>{1, 128}
                                                         : std::vector<int64_t>{1, 32, 128, 256};
  const double bw = ctx.roof.copy_gbs;
  std::printf("== 5. One DeepSeek-V3 decoder layer (MLA + MoE: 256 experts, 8 active, 1 shared; FP8 w8a8), "
              "decode at context %lld ==\n", (long long)kContext);

  TempDir dir;
  MINKE_TRY(make_temp_dir(dir));
  {
    std::ofstream f(dir.path / "config.json");
    f << deepseek_v3_config_json();
    if (!f) return io_error("cannot write {}", (dir.path / "config.json").string());
  }
  LoadOptions load;
  load.format = LoadFormat::kDummy;
  load.hf_overrides = kOneMoeLayerOverrides;
  load.load_mtp = false;
  load.fp8_activations = Fp8ActivationQuant::kAll;  // what build_engine_stack sets on a GPU
  MINKE_ASSIGN_OR_RETURN(const ModelConfig config,
                         ModelConfig::from_file((dir.path / "config.json").string(), load.hf_overrides));
  MINKE_ASSIGN_OR_RETURN(const std::vector<TensorInfo> plan, plan_dummy_weights(config, load));
  MINKE_ASSIGN_OR_RETURN(const LayerWeightBytes lw, layer_weight_bytes(plan, 0, /*absorbed_mla=*/true));
  std::printf("weights read per step: attention + norms %s GB (absorbed MLA: w_uk_t / w_uv f32, kv_b_proj unread), "
              "router %s GB, shared expert %s GB, %s GB per routed expert (%lld of them)\n",
              gigabytes(double(lw.attention)).c_str(), gigabytes(double(lw.router)).c_str(),
              gigabytes(double(lw.shared)).c_str(), gigabytes(double(lw.per_expert)).c_str(),
              (long long)lw.experts);

  CudaBackendOptions bo;
  bo.device = ctx.options.device_index;
  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<CudaBackend> backend, CudaBackend::create(bo));
  RouteRecordingBackend rec(*backend);
  SingleRankCommunicator comm;
  std::printf("loading the one-layer model with dummy weights on %s ...\n", backend->device_name().c_str());
  std::fflush(stdout);
  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<DeepseekV3> model,
                         load_deepseek_v3(dir.path.string(), rec, comm, load));
  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<KernelTimer> timer, KernelTimer::create(backend->stream(), ctx.info.l2_bytes));

  const int64_t latent = model->latent_dim();
  const int64_t max_batch = batches.back(), per_seq = kContext / kPage;
  std::vector<Tensor> caches = {rec.empty(DType::kF32, {max_batch * per_seq, kPage, latent})};
  rec.fill_uniform(caches[0], -1.0f, 1.0f, 501);
  MINKE_TRY(rec.take_error());

  Table table({"batch", "median us", "best us", "experts", "weights GB", "KV GB", "roof us", "%roof",
               "GB/s", "us/token"});
  nlohmann::json& j = ctx.json["moe_layer"];
  j = {{"context", kContext},
       {"attention_bytes", lw.attention},
       {"router_bytes", lw.router},
       {"shared_expert_bytes", lw.shared},
       {"per_expert_bytes", lw.per_expert},
       {"rows", nlohmann::json::array()}};
  for (const int64_t batch : batches) {
    const ForwardInput in = decode_batch(batch);
    Tensor x0 = rec.empty(DType::kF32, {batch, config.hidden_size});
    rec.fill_uniform(x0, -1.0f, 1.0f, 600 + uint64_t(batch));
    std::vector<Tensor> xs;  // one input per layer of a run, each a copy of x0
    for (int i = 0; i < kLayersPerRun; ++i) xs.push_back(rec.empty(DType::kF32, {batch, config.hidden_size}));
    TimeOptions opt = ctx.time_options();
    opt.before = [&]() -> Status {  // every layer starts from the same hidden states, so routes the same way
      for (Tensor& x : xs)
        MINKE_CUDA_TRY(cudaMemcpyAsync(x.raw(), x0.raw(), x.nbytes(), cudaMemcpyDeviceToDevice, backend->stream()));
      return Status::ok();
    };
    rec.clear_route_ids();
    MINKE_ASSIGN_OR_RETURN(Timing t, timer->time(
                                         [&]() -> Status {
                                           for (Tensor& x : xs) MINKE_TRY(model->forward_layer(0, in, x, caches));
                                           return Status::ok();
                                         },
                                         opt));
    MINKE_TRY(rec.take_error());  // the pass's device faults (forward_layer does not wait)
    t.median_us /= kLayersPerRun;
    t.best_us /= kLayersPerRun;
    if (!rec.last_route_ids().defined()) return internal_error("the layer ran no MoE router");
    const Tensor ids = rec.to_host(rec.last_route_ids());
    MINKE_TRY(rec.take_error());
    const int64_t distinct =
        count_distinct_experts({ids.data<int32_t>(), size_t(ids.numel())}, config.n_routed_experts);
    const double weights = double(lw.touched(distinct));
    const double kv = double(batch) * double(kContext) * double(latent) * sizeof(float);
    const double roof = roofline_us(0, weights + kv, kNaN, bw);
    const double frac = roofline_fraction(roof, t.median_us);
    table.add_row({std::to_string(batch), fixed(t.median_us, 1), fixed(t.best_us, 1), std::to_string(distinct),
                   gigabytes(weights), gigabytes(kv), fixed(roof, 1), percent(frac),
                   fixed(gbs(weights + kv, t.median_us), 1), fixed(t.median_us / double(batch), 2)});
    j["rows"].push_back({{"batch", batch}, {"median_us", t.median_us}, {"best_us", t.best_us},
                         {"distinct_experts", distinct}, {"weight_bytes", weights}, {"kv_bytes", kv},
                         {"roofline_us", roof}, {"fraction_of_roofline", frac}});
  }
  std::printf("time per layer = DeepseekV3::forward_layer as a forward pass runs it (%d layers back to back per "
              "run, host launches\nincluded, no CUDA graph), median of %d runs, L2 flushed before each; experts = "
              "distinct routed experts the\nrouter picked (random dummy weights); roofline = (weights touched + KV "
              "read) / %s GB/s\n%s\n",
              kLayersPerRun, ctx.iters(), fixed(bw, 1).c_str(), table.render().c_str());
  return Status::ok();
}

}  // namespace minke::kbench

#endif  // MINKE_HAVE_CUDA
