// build_engine_stack: model, tokenizer, then the KV pool from --kv-cache-memory and a
// max_model_len that the pool can hold at least once.
#include "apps/engine_stack.h"

#include <cctype>

#include "engine/scripted_runner.h"
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
  cmd.add_option("--kv-cache-memory", a.kv_cache_memory, "KV cache size (e.g. 512MiB, 4GiB)");
  cmd.add_flag("--no-enable-prefix-caching", a.no_enable_prefix_caching, "Disable prefix caching");
  cmd.add_option("--engine-seed", a.seed, "Seed for requests that have none");
  cmd.add_option("--threads", a.threads, "CPU threads (default: all)")->check(CLI::NonNegativeNumber);
  // A test seam (ScriptedRunner). Not hidden: CLI11 2.1 cannot parse hidden options' values.
  cmd.add_option("--scripted-output", a.scripted_output,
                 "Testing: emit the outputs scripted in this JSON file instead of the model's")
      ->group("Testing")->check(CLI::ExistingFile);
}

Result<std::unique_ptr<EngineStack>> build_engine_stack(const EngineArgs& a) {
  auto s = std::make_unique<EngineStack>();
  MINKE_ASSIGN_OR_RETURN(s->model_dir, model_dir_or_demo(a.model_dir));
  MINKE_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::from_dir(s->model_dir));
  s->tokenizer = std::make_unique<Tokenizer>(std::move(tok));
  s->backend = std::make_unique<CpuBackend>(a.threads > 0 ? a.threads : ThreadPool::default_threads());
  s->comm = std::make_unique<SingleRankCommunicator>();
  LoadOptions load;
  load.on_layer_loaded = a.on_layer_loaded;
  MINKE_ASSIGN_OR_RETURN(s->model, load_deepseek_v3(s->model_dir, *s->backend, *s->comm, load));
  MINKE_ASSIGN_OR_RETURN(const int64_t bytes, parse_bytes(a.kv_cache_memory));
  const int64_t per_block = a.block_size * s->model->latent_dim() * s->model->num_cache_layers() *
                            int64_t(sizeof(float));
  const int64_t blocks = bytes / per_block;
  const int64_t capacity = blocks * a.block_size;
  if (blocks < 1)
    return invalid_argument("--kv-cache-memory {} holds no block of {} bytes", a.kv_cache_memory, per_block);
  const int64_t model_max = s->model->config().max_position_embeddings;
  s->max_model_len = a.max_model_len > 0 ? a.max_model_len : std::min(model_max > 0 ? model_max : capacity, capacity);
  if (model_max > 0 && s->max_model_len > model_max)
    return invalid_argument("--max-model-len {} exceeds the model's max_position_embeddings {}",
                            s->max_model_len, model_max);
  if (s->max_model_len > capacity)
    return invalid_argument("--max-model-len {} does not fit the KV cache: --kv-cache-memory {} holds {} "
                            "tokens ({} blocks of {}); raise --kv-cache-memory or lower --max-model-len",
                            s->max_model_len, a.kv_cache_memory, capacity, blocks, a.block_size);
  s->kv = std::make_unique<KvCacheManager>(blocks, a.block_size, !a.no_enable_prefix_caching);
  s->cache = std::make_unique<LatentKvCache>(*s->backend, s->model->num_cache_layers(), blocks,
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
  } else {
    s->runner = std::make_unique<ModelRunner>(*s->model, *s->backend, *s->cache, *s->kv);
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
  s->engine = std::make_unique<Engine>(config, *s->runner, *s->kv, s->tokenizer.get(), eos_ids);
  return s;
}

}  // namespace minke
