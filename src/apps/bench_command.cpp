// `minke bench`: the benchmarks users know from vLLM (`vllm bench serve|throughput|latency`),
// plus `minke bench kernels` (GPU kernels against their rooflines).
#include <vector>

#include <fmt/format.h>

#include "apps/bench_commands.h"

namespace minke {

void add_dataset_flags(CLI::App& cmd, bench::DatasetSpec& d) {
  cmd.add_option("--dataset-name", d.name, "random, sharegpt or custom")->check(CLI::IsMember({"random", "sharegpt", "custom"}));
  cmd.add_option("--dataset-path", d.path, "ShareGPT JSON or custom JSONL file");
  cmd.add_option("--num-prompts", d.num_prompts, "Requests")->check(CLI::PositiveNumber);
  cmd.add_option("--random-input-len,--input-len", d.random_input_len, "Prompt tokens (random dataset)");
  cmd.add_option("--random-output-len,--output-len", d.random_output_len, "max_tokens (random dataset)");
  cmd.add_option("--random-range-ratio", d.random_range_ratio, "Lengths uniform in [L(1-r), L(1+r)]");
  cmd.add_option("--random-prefix-len", d.random_prefix_len, "Random tokens shared by every prompt");
  cmd.add_option("--sharegpt-output-len", d.sharegpt_output_len, "Override the ShareGPT replies' lengths");
  cmd.add_option("--custom-output-len", d.custom_output_len, "max_tokens (custom dataset)");
  cmd.add_flag("--disable-shuffle", [&d](int64_t) { d.shuffle = false; }, "Keep the dataset file's order");
  cmd.add_option("--seed", d.seed, "Seed of the dataset (and of bench serve's arrivals)");
}

Result<int64_t> run_to_completion(Engine& engine, std::vector<EngineRequest> requests) {
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto stream = engine.submit(std::move(requests[i]));
    if (!stream.is_ok()) return stream.status().with_context(fmt::format("request {}", i));
    streams.push_back(std::move(*stream));
  }
  int64_t generated = 0;
  for (auto& stream : streams)
    while (auto ev = stream->next()) {
      if (ev->finish && *ev->finish == FinishReason::kError) return ev->error;
      generated += int64_t(ev->token_ids.size());
    }
  return generated;
}

Command add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks: serve (online), throughput and latency (offline), client (self-benchmark), kernels (GPU)");
  bench->require_subcommand(1);
  auto subs = std::make_shared<std::vector<Command>>(std::vector<Command>{
      add_bench_serve_command(*bench),
      add_bench_throughput_command(*bench),
      add_bench_latency_command(*bench),
      add_bench_client_command(*bench),
      add_bench_kernels_command(*bench),
  });
  return {bench, [subs] {
            for (const Command& c : *subs)
              if (c.app->parsed()) return c.run();
            return 2;
          }};
}

}  // namespace minke
