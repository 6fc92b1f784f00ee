// `minke bench latency`: vLLM's offline latency benchmark. One batch of --batch-size requests
// (random token-id prompts of --input-len, exactly --output-len tokens each, ignore_eos) runs
// through the engine in-process, --num-iters-warmup times untimed then --num-iters timed; it
// prints the average and the 10/25/50/75/90/99th percentile end-to-end latency of the batch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "apps/bench_commands.h"
#include "apps/engine_stack.h"
#include "bench/bench_metrics.h"

namespace minke {
namespace {

struct LatencyOptions {
  EngineArgs engine;
  int64_t input_len = 32, output_len = 128, batch_size = 8;
  int n = 1;
  int num_iters_warmup = 10, num_iters = 30;
  uint64_t seed = 0;
  std::string output_json;
};

Result<double> run_batch(Engine& engine, const std::vector<std::vector<int32_t>>& prompts, const LatencyOptions& o) {
  std::vector<EngineRequest> requests(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    requests[i].prompt = prompts[i];
    requests[i].params.temperature = 1.0f;
    requests[i].params.max_tokens = int(o.output_len);
    requests[i].params.ignore_eos = true;
    requests[i].params.n = o.n;
  }
  const auto start = std::chrono::steady_clock::now();
  MINKE_TRY(run_to_completion(engine, std::move(requests)).status());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run_latency(const LatencyOptions& o) {
  if (o.input_len < 1 || o.output_len < 1 || o.batch_size < 1 || o.num_iters < 1) {
    std::fprintf(stderr, "minke bench latency: --input-len, --output-len, --batch-size and --num-iters must be >= 1\n");
    return 2;
  }
  auto stack = build_engine_stack(o.engine);
  if (!stack.is_ok()) {
    std::fprintf(stderr, "minke bench latency: %s\n", stack.status().to_string().c_str());
    return 2;
  }
  EngineStack& s = **stack;
  if (o.input_len + o.output_len > s.max_model_len) {
    std::fprintf(stderr, "minke bench latency: --input-len + --output-len (%lld) exceeds the max model length %lld\n",
                 (long long)(o.input_len + o.output_len), (long long)s.max_model_len);
    return 2;
  }
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int32_t> token(0, int32_t(std::min<int64_t>(s.runner->vocab_size(), 10000)) - 1);
  std::vector<std::vector<int32_t>> prompts(size_t(o.batch_size));
  for (auto& p : prompts)
    for (int64_t i = 0; i < o.input_len; ++i) p.push_back(token(rng));  // vLLM: random ids below 10000
  s.engine->start();
  for (int i = 0; i < o.num_iters_warmup; ++i) {
    std::fprintf(stderr, "\rWarmup iterations: %d/%d", i + 1, o.num_iters_warmup);
    if (auto r = run_batch(*s.engine, prompts, o); !r.is_ok()) {
      std::fprintf(stderr, "\nminke bench latency: %s\n", r.status().to_string().c_str());
      return 1;
    }
  }
  std::vector<double> latencies;
  for (int i = 0; i < o.num_iters; ++i) {
    std::fprintf(stderr, "\rProfiling iterations: %d/%d", i + 1, o.num_iters);
    auto r = run_batch(*s.engine, prompts, o);
    if (!r.is_ok()) {
      std::fprintf(stderr, "\nminke bench latency: %s\n", r.status().to_string().c_str());
      return 1;
    }
    latencies.push_back(*r);
  }
  std::fprintf(stderr, "\n");
  s.engine->stop();
  double sum = 0;
  for (double l : latencies) sum += l;
  std::printf("Avg latency: %.9g seconds\n", sum / double(latencies.size()));
  nlohmann::json percentiles;
  for (int p : {10, 25, 50, 75, 90, 99}) {
    const double v = bench::numpy_percentile(latencies, p);
    std::printf("%d%% percentile latency: %.9g seconds\n", p, v);
    percentiles[std::to_string(p)] = v;
  }
  if (!o.output_json.empty()) {
    std::ofstream out(o.output_json);
    out << nlohmann::json{{"avg_latency", sum / double(latencies.size())}, {"latencies", latencies},
                          {"percentiles", percentiles}}.dump(4) << "\n";
    if (!out) {
      std::fprintf(stderr, "minke bench latency: cannot write %s\n", o.output_json.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

Command add_bench_latency_command(CLI::App& bench) {
  auto o = std::make_shared<LatencyOptions>();
  CLI::App* cmd = bench.add_subcommand("latency", "Offline: end-to-end latency of one batch through the engine");
  add_engine_flags(*cmd, o->engine);
  cmd->add_option("--input-len", o->input_len, "Prompt tokens per request");
  cmd->add_option("--output-len", o->output_len, "Generated tokens per request");
  cmd->add_option("--batch-size", o->batch_size, "Requests in the batch");
  cmd->add_option("-n,--n", o->n, "Completions per request")->check(CLI::PositiveNumber);
  cmd->add_option("--num-iters-warmup", o->num_iters_warmup, "Untimed iterations first")->check(CLI::NonNegativeNumber);
  cmd->add_option("--num-iters", o->num_iters, "Timed iterations");
  cmd->add_option("--seed", o->seed, "Seed of the random prompts");
  cmd->add_option("--output-json", o->output_json, "Write the latencies as JSON here");
  return {cmd, [o] { return run_latency(*o); }};
}

}  // namespace minke
