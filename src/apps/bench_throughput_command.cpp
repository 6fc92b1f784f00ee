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

namespace minke {
namespace {

struct ThroughputOptions {
  EngineArgs engine;
  bench::DatasetSpec dataset;
  int n = 1;
  std::string output_json;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "minke bench throughput: %s\n", message.c_str());
  return 2;
}

int run_throughput(const ThroughputOptions& o) {
  auto stack = build_engine_stack(o.engine);
  if (!stack.is_ok()) return fail(stack.status().to_string());
  EngineStack& s = **stack;
  auto requests = bench::load_dataset(*s.tokenizer, o.dataset);
  if (!requests.is_ok()) return fail(requests.status().to_string());
  std::vector<EngineRequest> batch(requests->size());
  int64_t prompt_tokens = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].prompt = s.tokenizer->encode((*requests)[i].prompt, true);
    batch[i].params.temperature = 1.0f;
    batch[i].params.top_p = 1.0f;
    batch[i].params.ignore_eos = true;  // vLLM's throughput benchmark generates every token asked for
    batch[i].params.max_tokens = int((*requests)[i].expected_output_len);
    batch[i].params.n = o.n;
    prompt_tokens += int64_t(batch[i].prompt.size());
  }
  s.engine->start();
  const auto start = std::chrono::steady_clock::now();
  auto generated = run_to_completion(*s.engine, std::move(batch));
  if (!generated.is_ok()) return fail(generated.status().to_string());
  const int64_t output_tokens = *generated;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.engine->stop();
  const double n_requests = double(requests->size());
  std::printf("Throughput: %.2f requests/s, %.2f total tokens/s, %.2f output tokens/s\n", n_requests / elapsed,
              double(prompt_tokens + output_tokens) / elapsed, double(output_tokens) / elapsed);
  std::printf("Total num prompt tokens:  %lld\nTotal num output tokens:  %lld\n", (long long)prompt_tokens,
              (long long)output_tokens);
  if (!o.output_json.empty()) {
    std::ofstream out(o.output_json);
    out << nlohmann::json{{"elapsed_time", elapsed}, {"num_requests", requests->size()},
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
  add_dataset_flags(*cmd, o->dataset);
  cmd->add_option("-n,--n", o->n, "Completions per request")->check(CLI::PositiveNumber);
  cmd->add_option("--output-json", o->output_json, "Write the results as JSON here");
  return {cmd, [o] { return run_throughput(*o); }};
}

}  // namespace minke
