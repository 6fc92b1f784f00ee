// `minke bench throughput`: vLLM's offline throughput benchmark. Every prompt of a dataset
// (random by default, or a ShareGPT/custom file) goes to the engine in-process at once; it
// prints requests/s, total tokens/s and output tokens/s over the whole run.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/bench_commands.h"
#include "apps/engine_stack.h"
#include "bench/datasets.h"

namespace minke {
namespace {

struct ThroughputOptions {
  EngineArgs engine;
  std::string dataset_name = "random", dataset_path;
  int64_t input_len = 1024, output_len = 128, num_prompts = 1000, prefix_len = 0;
  double range_ratio = 0.0;
  int n = 1;
  uint64_t seed = 0;
  std::string output_json;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "minke bench throughput: %s\n", message.c_str());
  return 2;
}

Result<std::vector<bench::BenchRequest>> dataset(const ThroughputOptions& o, const Tokenizer& tok) {
  if (o.dataset_name == "random") {
    bench::RandomDatasetOptions r;
    r.num_prompts = o.num_prompts;
    r.input_len = o.input_len;
    r.output_len = o.output_len;
    r.range_ratio = o.range_ratio;
    r.prefix_len = o.prefix_len;
    r.seed = o.seed;
    return bench::random_dataset(tok, r);
  }
  if (o.dataset_path.empty()) return invalid_argument("--dataset-name {} needs --dataset-path", o.dataset_name);
  if (o.dataset_name == "sharegpt") {
    bench::ShareGptOptions s;
    s.num_prompts = o.num_prompts;
    s.seed = o.seed;
    return bench::sharegpt_dataset(tok, o.dataset_path, s);
  }
  if (o.dataset_name == "custom") {
    bench::CustomOptions c;
    c.num_prompts = o.num_prompts;
    c.output_len = o.output_len;
    return bench::custom_dataset(tok, o.dataset_path, c);
  }
  return invalid_argument("--dataset-name must be random, sharegpt or custom, got '{}'", o.dataset_name);
}

int run_throughput(const ThroughputOptions& o) {
  auto stack = build_engine_stack(o.engine);
  if (!stack.is_ok()) return fail(stack.status().to_string());
  EngineStack& s = **stack;
  auto requests = dataset(o, *s.tokenizer);
  if (!requests.is_ok()) return fail(requests.status().to_string());
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& r : *requests) prompts.push_back(s.tokenizer->encode(r.prompt, true));
  s.engine->start();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<RequestStream>> streams;
  int64_t prompt_tokens = 0, output_tokens = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    EngineRequest r;
    r.prompt = prompts[i];
    r.params.temperature = 1.0f;
    r.params.top_p = 1.0f;
    r.params.ignore_eos = true;  // vLLM's throughput benchmark generates every token asked for
    r.params.max_tokens = int((*requests)[i].expected_output_len);
    r.params.n = o.n;
    prompt_tokens += int64_t(r.prompt.size());
    auto stream = s.engine->submit(std::move(r));
    if (!stream.is_ok()) return fail("request " + std::to_string(i) + ": " + stream.status().message());
    streams.push_back(std::move(*stream));
  }
  for (auto& stream : streams)
    while (auto ev = stream->next()) {
      if (ev->finish && *ev->finish == FinishReason::kError) return fail(ev->error.message());
      output_tokens += int64_t(ev->token_ids.size());
    }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.engine->stop();
  const double n_requests = double(streams.size());
  std::printf("Throughput: %.2f requests/s, %.2f total tokens/s, %.2f output tokens/s\n", n_requests / elapsed,
              double(prompt_tokens + output_tokens) / elapsed, double(output_tokens) / elapsed);
  std::printf("Total num prompt tokens:  %lld\nTotal num output tokens:  %lld\n", (long long)prompt_tokens,
              (long long)output_tokens);
  if (!o.output_json.empty()) {
    std::ofstream out(o.output_json);
    out << nlohmann::json{{"elapsed_time", elapsed}, {"num_requests", streams.size()},
                          {"total_num_tokens", prompt_tokens + output_tokens},
                          {"requests_per_second", n_requests / elapsed},
                          {"tokens_per_second", double(prompt_tokens + output_tokens) / elapsed}}.dump(4) << "\n";
    if (!out) return fail("cannot write " + o.output_json);
  }
  return 0;
}

}  // namespace

Command add_bench_throughput_command(CLI::App& bench) {
  auto o = std::make_shared<ThroughputOptions>();
  CLI::App* cmd = bench.add_subcommand("throughput", "Offline: tokens/s of the engine over a whole dataset");
  add_engine_flags(*cmd, o->engine);
  cmd->add_option("--dataset-name", o->dataset_name, "random, sharegpt or custom");
  cmd->add_option("--dataset-path", o->dataset_path, "ShareGPT JSON or custom JSONL file");
  cmd->add_option("--input-len,--random-input-len", o->input_len, "Prompt tokens (random dataset)");
  cmd->add_option("--output-len,--random-output-len", o->output_len, "Generated tokens (random and custom)");
  cmd->add_option("--random-range-ratio", o->range_ratio, "Lengths uniform in [L(1-r), L(1+r)]");
  cmd->add_option("--random-prefix-len", o->prefix_len, "Random tokens shared by every prompt");
  cmd->add_option("--num-prompts", o->num_prompts, "Requests")->check(CLI::PositiveNumber);
  cmd->add_option("-n,--n", o->n, "Completions per request")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "Seed of the dataset");
  cmd->add_option("--output-json", o->output_json, "Write the results as JSON here");
  return {cmd, [o] { return run_throughput(*o); }};
}

}  // namespace minke
