// build_engine_stack: model, tokenizer, then the KV pool from --kv-cache-memory and a
// max_model_len that the pool can hold at least once.
#include "apps/engine_stack.h"

#include <cctype>

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/scripted_runner.h"
#if MINKE_HAVE_CUDA
#include "backend/cuda/cuda_backend.h"
#include "engine/cuda/cuda_batch_sampler.h"
#include "engine/cuda/cuda_graph_runner.h"
#endif
#include "model/demo_model.h"
#include "model/model_loader.h"

namespace minke {

Result<int64_t> parse_bytes(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(uint8_t(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return invalid_argument("'{}' is not a size (e.g. 512MiB, 4GiB)", text);
  const double value = std::stod(text.substr(0, i));
  std::string unit = text.substr(i);
  for (auto& c : unit) c = char(std::tolower(uint8_t(c)));
  double scale;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kib" || unit == "kb") scale = 1024.0;
  else if (unit == "m" || unit == "mib" || unit == "mb") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gib" || unit == "gb") scale = 1024.0 * 1024 * 1024;
  else return invalid_argument("'{}': unknown unit '{}' (use KiB, MiB or GiB)", text, unit);
  return int64_t(value * scale);
}

void add_engine_flags(CLI::App& cmd, EngineArgs& a) {
  cmd.add_option("model_dir", a.model_dir, "Hugging Face DeepSeek-V3 model directory (default: the demo model)")
      ->check(CLI::ExistingDirectory);
  cmd.add_option("--max-model-len", a.max_model_len, "Prompt + completion tokens at most (default: what the model and cache allow)");
  cmd.add_option("--max-num-seqs", a.max_num_seqs, "Sequences running at once")->check(CLI::PositiveNumber);
  cmd.add_option("--max-num-batched-tokens", a.max_num_batched_tokens, "Tokens computed per step")->check(CLI::PositiveNumber);
  cmd.add_option("--block-size", a.block_size, "KV cache block size in tokens")->check(CLI::PositiveNumber);
  cmd.add_option("--kv-cache-memory", a.kv_cache_memory,
                 "KV cache size (e.g. 512MiB, 4GiB; default: 512MiB on the CPU, on a GPU what "
                 "--gpu-memory-utilization leaves after the weights and a profiled step)");
  cmd.add_flag("--no-enable-prefix-caching", a.no_enable_prefix_caching, "Disable prefix caching");
  cmd.add_option("--engine-seed", a.seed, "Seed for requests that have none");
  add_device_flags(cmd, a.device);
  cmd.add_flag("--enforce-eager", a.enforce_eager, "GPU: run decode steps eagerly, without CUDA graphs");
  cmd.add_option("--max-seq-len-to-capture", a.max_seq_len_to_capture,
                 "GPU: the longest context CUDA graphs serve (longer decode steps run eagerly)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--load-format", a.load_format,
                 "Weights: auto|safetensors (the checkpoint in MODEL_DIR) or dummy (random weights "
                 "made on the device from MODEL_DIR's config.json alone, for benchmarks)")
      ->check(CLI::IsMember({"auto", "safetensors", "dummy"}));
  cmd.add_option("--hf-overrides", a.hf_overrides,
                 "JSON object overriding config.json fields before validation, e.g. "
                 "'{\"num_hidden_layers\": 4}'")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
            if (j.is_discarded()) return "not valid JSON: " + text;
            if (!j.is_object()) return "must be a JSON object, e.g. {\"num_hidden_layers\": 4}";
            return "";
          },
          "JSON"));
  // A test seam (ScriptedRunner). Not hidden: CLI11 2.1 cannot parse hidden options' values.
  cmd.add_option("--scripted-output", a.scripted_output,
                 "Testing: emit the outputs scripted in this JSON file instead of the model's")
      ->group("Testing")->check(CLI::ExistingFile);
}

namespace {

// Whether decode steps replay CUDA graphs (the model's runner, on a GPU, unless --enforce-eager).
bool uses_cuda_graphs(const EngineArgs& a, const Backend& backend) {
  return backend.device() == Device::kCuda && !a.enforce_eager && a.scripted_output.empty();
}

struct KvPlan {
  int64_t blocks = 0;
  int64_t max_model_len = 0;  // the longest context the plan leaves room for (GPU auto only)
  std::string source;         // what sized the cache, for error messages
  std::string remedy;
};

// Activation bytes of the largest step: one prefill of `tokens` tokens at positions
// [0, tokens) on a scratch cache, measured by the backend's peak memory.
Result<int64_t> profile_step_bytes(EngineStack& s, int64_t tokens, int64_t block_size) {
  Backend& be = *s.backend;
  const int64_t pages = (tokens + block_size - 1) / block_size;
  AttentionBatch b;
  b.page_size = block_size;
  b.positions = Tensor::zeros(DType::kI32, {tokens});
  b.slot_mapping = Tensor::zeros(DType::kI64, {tokens});
  b.seq_starts = Tensor::zeros(DType::kI32, {2});
  b.context_lens = Tensor::zeros(DType::kI32, {1});
  b.block_table = Tensor::zeros(DType::kI32, {1, pages});
  for (int64_t t = 0; t < tokens; ++t) {
    b.positions.data<int32_t>()[t] = int32_t(t);
    b.slot_mapping.data<int64_t>()[t] = t;
  }
  for (int64_t p = 0; p < pages; ++p) b.block_table.data<int32_t>()[p] = int32_t(p);
  b.seq_starts.data<int32_t>()[1] = int32_t(tokens);
  b.context_lens.data<int32_t>()[0] = int32_t(tokens);
  Tensor ids = Tensor::zeros(DType::kI32, {tokens});
  Tensor rows = Tensor::zeros(DType::kI32, {1});
  rows.data<int32_t>()[0] = int32_t(tokens - 1);
  be.reset_peak_memory();
  const int64_t before = be.memory_stats().in_use;
  {
    LatentKvCache cache(be, s.model->num_cache_layers(), pages, block_size, s.model->latent_dim());
    const int64_t cache_bytes = be.memory_stats().in_use - before;
    MINKE_TRY(s.model->forward(ForwardInput{ids, b, rows}, cache.layers()).status());
    be.synchronize();
    MINKE_TRY(be.take_error());
    return be.memory_stats().peak - before - cache_bytes;
  }
}

Result<KvPlan> plan_kv_cache(const EngineArgs& a, EngineStack& s) {
  const int64_t latent = s.model->latent_dim(), layers = s.model->num_cache_layers();
  const int64_t per_token = latent * layers * int64_t(sizeof(float));
  const int64_t per_block = a.block_size * per_token;
  KvPlan plan;
  if (!a.kv_cache_memory.empty() || s.backend->device() == Device::kCpu) {
    const std::string text = a.kv_cache_memory.empty() ? "512MiB" : a.kv_cache_memory;
    MINKE_ASSIGN_OR_RETURN(const int64_t bytes, parse_bytes(text));
    plan.blocks = bytes / per_block;
    if (plan.blocks < 1) return invalid_argument("--kv-cache-memory {} holds no block of {} bytes", text, per_block);
    plan.source = "--kv-cache-memory " + text;
    plan.remedy = "raise --kv-cache-memory";
    return plan;
  }
  // GPU: what the budget leaves after the weights and the largest step's activations (with
  // a 10% margin). A prefill over a cached prefix also up-projects that prefix, costing
  // per_context bytes for each position of context beyond the profiled step.
  const ModelConfig& c = s.model->config();
  const int64_t model_max = c.max_position_embeddings > 0 ? c.max_position_embeddings : (int64_t(1) << 20);
  const int64_t step = std::min(a.max_num_batched_tokens, a.max_model_len > 0 ? a.max_model_len : model_max);
  MINKE_ASSIGN_OR_RETURN(const int64_t activations, profile_step_bytes(s, step, a.block_size));
  const Backend::MemoryStats m = s.backend->memory_stats();
  const int64_t per_context =
      (c.num_attention_heads * (c.qk_nope_head_dim + c.v_head_dim) + 3 * latent) * int64_t(sizeof(float));
  // CUDA graphs keep private memory for their decode steps' activations, at most those of the
  // largest step: reserve that once more.
  const bool graphs = uses_cuda_graphs(a, *s.backend);
  const int64_t avail = m.limit - m.in_use - activations - activations / 10 - (graphs ? activations : 0);
  int64_t len = a.max_model_len > 0 ? a.max_model_len : model_max;
  int64_t kv_bytes = avail - std::max<int64_t>(0, len - step) * per_context;
  if (a.max_model_len <= 0 && kv_bytes < len * per_token) {
    // The longest context the cache can also hold: len * per_token + (len - step) * per_context = avail.
    len = std::max<int64_t>(step, (avail + step * per_context) / (per_token + per_context));
    kv_bytes = avail - std::max<int64_t>(0, len - step) * per_context;
  }
  plan.blocks = std::max<int64_t>(0, kv_bytes) / per_block;
  plan.max_model_len = len;
  plan.source = fmt::format("the GPU budget ({:.2f} GiB: {:.2f} GiB weights, {:.2f} GiB activations{})",
                            double(m.limit) / (1 << 30), double(m.in_use) / (1 << 30),
                            double(activations) / (1 << 30), graphs ? ", as much again for CUDA graphs" : "");
  plan.remedy = "raise --gpu-memory-utilization, lower --max-num-batched-tokens";
  if (plan.blocks < 1)
    return out_of_range("no GPU memory is left for the KV cache: {}; {} or --max-model-len", plan.source,
                        plan.remedy);
  return plan;
}

}  // namespace

Result<std::unique_ptr<EngineStack>> build_engine_stack(const EngineArgs& a) {
  auto s = std::make_unique<EngineStack>();
  if (a.load_format == "dummy") {
    std::error_code ec;
    if (a.model_dir.empty() || !std::filesystem::is_regular_file(std::filesystem::path(a.model_dir) / "config.json", ec))
      return invalid_argument("--load-format dummy needs a MODEL_DIR with a config.json{}",
                              a.model_dir.empty() ? "" : fmt::format(" ('{}' has none)", a.model_dir));
  } else if (a.load_format != "auto" && a.load_format != "safetensors") {
    return invalid_argument("--load-format {}: expected auto, safetensors or dummy", a.load_format);
  }
  MINKE_ASSIGN_OR_RETURN(s->model_dir, model_dir_or_demo(a.model_dir));
  MINKE_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::from_dir(s->model_dir));
  s->tokenizer = std::make_unique<Tokenizer>(std::move(tok));
  MINKE_ASSIGN_OR_RETURN(s->backend, make_backend(a.device));
  s->comm = std::make_unique<SingleRankCommunicator>();
  const bool gpu = s->backend->device() == Device::kCuda;
  LoadOptions load;
  load.on_layer_loaded = a.on_layer_loaded;
  load.load_mtp = false;  // the engine does not speculate (yet): MTP layers would only take memory
  load.format = a.load_format == "dummy" ? LoadFormat::kDummy : LoadFormat::kAuto;
  load.hf_overrides = a.hf_overrides;
  // On the GPU, FP8 checkpoints run as DeepSeek's inference code does: activations quantized
  // per 128 channels before every FP8 product (w8a8). The CPU keeps exact activations.
  if (gpu) load.fp8_activations = Fp8ActivationQuant::kAll;
  MINKE_ASSIGN_OR_RETURN(s->model, load_deepseek_v3(s->model_dir, *s->backend, *s->comm, load));
  MINKE_ASSIGN_OR_RETURN(const KvPlan plan, plan_kv_cache(a, *s));
  const int64_t blocks = plan.blocks, capacity = blocks * a.block_size;
  const int64_t model_max = s->model->config().max_position_embeddings;
  const int64_t fits = plan.max_model_len > 0 ? std::min(plan.max_model_len, capacity) : capacity;
  s->max_model_len = a.max_model_len > 0 ? a.max_model_len : std::min(model_max > 0 ? model_max : fits, fits);
  if (model_max > 0 && s->max_model_len > model_max)
    return invalid_argument("--max-model-len {} exceeds the model's max_position_embeddings {}",
                            s->max_model_len, model_max);
  if (s->max_model_len > capacity)
    return invalid_argument("--max-model-len {} does not fit the KV cache: {} holds {} tokens ({} blocks of "
                            "{}); {} or lower --max-model-len",
                            s->max_model_len, plan.source, capacity, blocks, a.block_size, plan.remedy);
  s->kv = std::make_unique<KvCacheManager>(blocks, a.block_size, !a.no_enable_prefix_caching);
  // CUDA graphs pad decode batches with rows that write to a page of their own: one more page.
  const bool graphs = uses_cuda_graphs(a, *s->backend);
  s->cache = std::make_unique<LatentKvCache>(*s->backend, s->model->num_cache_layers(), blocks + (graphs ? 1 : 0),
                                             a.block_size, s->model->latent_dim());
  const auto& eos = s->model->config().eos_token_ids;
  std::vector<int32_t> eos_ids(eos.begin(), eos.end());
  if (eos_ids.empty() && s->tokenizer->eos_id()) eos_ids.push_back(*s->tokenizer->eos_id());
  if (!a.scripted_output.empty()) {
    const Tokenizer* tok = s->tokenizer.get();
    MINKE_ASSIGN_OR_RETURN(std::vector<Script> scripts,
                           load_scripts(a.scripted_output, [tok](const std::string& t) { return tok->encode(t, false); }));
    if (eos_ids.empty()) return invalid_argument("--scripted-output needs the model's EOS token");
    s->runner = std::make_unique<ScriptedRunner>(
        s->model->config().vocab_size, std::move(scripts), eos_ids[0],
        [tok](std::span<const int32_t> ids) { return tok->decode(ids, false); });
  } else if (graphs) {
#if MINKE_HAVE_CUDA
    CudaGraphOptions g;
    g.batch_sizes = default_graph_batch_sizes(a.max_num_seqs);
    g.max_context = std::min(s->max_model_len, a.max_seq_len_to_capture);
    MINKE_ASSIGN_OR_RETURN(s->runner, CudaGraphRunner::create(*s->model, static_cast<CudaBackend&>(*s->backend),
                                                              *s->cache, *s->kv, g));
#endif
  } else {
    s->runner = std::make_unique<ModelRunner>(*s->model, *s->backend, *s->cache, *s->kv,
                                              ModelRunnerOptions{.logits_on_device = gpu});
  }
  EngineConfig config;
  config.scheduler.max_num_seqs = a.max_num_seqs;
  config.scheduler.max_num_batched_tokens = a.max_num_batched_tokens;
  config.scheduler.max_model_len = s->max_model_len;
  MINKE_TRY(config.scheduler.validate());
  config.block_size = a.block_size;
  config.num_blocks = blocks;
  config.enable_prefix_caching = !a.no_enable_prefix_caching;
  config.seed = a.seed;
#if MINKE_HAVE_CUDA
  if (gpu) s->sampler = std::make_unique<CudaBatchSampler>(static_cast<CudaBackend&>(*s->backend).stream());
#endif
  s->engine = std::make_unique<Engine>(config, *s->runner, *s->kv, s->tokenizer.get(), eos_ids, s->sampler.get());
  const double kv_gib = double(blocks * a.block_size * s->model->latent_dim() * s->model->num_cache_layers() *
                               int64_t(sizeof(float))) / (1 << 30);
  s->summary = fmt::format("{}; KV cache {} blocks of {} tokens ({:.2f} GiB); max model len {}", s->backend->description(),
                           blocks, a.block_size, kv_gib, s->max_model_len);
#if MINKE_HAVE_CUDA
  if (auto* g = dynamic_cast<CudaGraphRunner*>(s->runner.get()); g != nullptr && !g->captured_sizes().empty())
    s->summary += fmt::format("; CUDA graphs for decode batches of {} to {} tokens, contexts up to {}",
                              g->captured_sizes().front(), g->captured_sizes().back(),
                              std::min(s->max_model_len, a.max_seq_len_to_capture));
#endif
  return s;
}

}  // namespace minke
