// `minke bench`: the benchmarks users know from vLLM (`vllm bench serve|throughput|latency`).
#include <vector>

#include "apps/bench_commands.h"

namespace minke {

Command add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks: serve (online), throughput and latency (offline), client (self-benchmark)");
  bench->require_subcommand(1);
  auto subs = std::make_shared<std::vector<Command>>(std::vector<Command>{
      add_bench_serve_command(*bench),
      add_bench_throughput_command(*bench),
      add_bench_latency_command(*bench),
      add_bench_client_command(*bench),
  });
  return {bench, [subs] {
            for (const Command& c : *subs)
              if (c.app->parsed()) return c.run();
            return 2;
          }};
}

}  // namespace minke
