// EngineStack: the objects behind an Engine (backend, model, KV cache, runner, tokenizer),
// sized from vLLM-style flags, and those flags themselves; shared by `minke generate`,
// `serve` and `bench throughput/latency`.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "apps/command.h"
#include "apps/device_choice.h"
#include "comm/communicator.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace minke {

struct EngineArgs {
  std::string model_dir;              // empty: the demo model
  int64_t max_model_len = 0;          // 0: the model's max_position_embeddings, capped by the cache
  int64_t max_num_seqs = 256;
  int64_t max_num_batched_tokens = 8192;
  int64_t block_size = 64;
  // The KV pool's size; empty: 512MiB on the CPU, on a GPU what the memory budget leaves
  // after the weights and a profiled forward pass.
  std::string kv_cache_memory;
  bool no_enable_prefix_caching = false;
  uint64_t seed = 0;
  DeviceArgs device;
  std::string load_format = "auto";  // auto | safetensors | dummy (random weights, config.json only)
  std::string hf_overrides;          // JSON object overriding config.json fields; empty: none
  bool enforce_eager = false;        // GPU: no CUDA graphs for decode steps
  int64_t max_seq_len_to_capture = 8192;  // GPU: decode graphs serve contexts up to this
  std::string scripted_output;  // test seam: a ScriptedRunner script file instead of the model
  std::function<void(int64_t done, int64_t total)> on_layer_loaded;  // loading progress
};

// The MODEL_DIR positional and the engine flags, shared by every command that runs the engine.
void add_engine_flags(CLI::App& cmd, EngineArgs& args);

struct EngineStack {
  std::string model_dir;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<SingleRankCommunicator> comm;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<DeepseekV3> model;
  std::unique_ptr<KvCacheManager> kv;
  std::unique_ptr<LatentKvCache> cache;
  std::unique_ptr<StepRunner> runner;  // the model's, or a ScriptedRunner (tests)
  std::unique_ptr<BatchSampler> sampler;  // on the GPU: CudaBatchSampler; null: the engine's host sampler
  std::unique_ptr<Engine> engine;
  int64_t max_model_len = 0;
  std::string summary;  // one line for logs: backend, KV cache, max model len, CUDA graphs
};

// Loads everything; errors name the flag at fault (e.g. a cache too small for --max-model-len).
Result<std::unique_ptr<EngineStack>> build_engine_stack(const EngineArgs& args);

// "1GiB", "512MiB", "2G", "1000000": bytes.
Result<int64_t> parse_bytes(const std::string& text);

}  // namespace minke
