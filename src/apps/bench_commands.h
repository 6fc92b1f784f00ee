// The `minke bench` subcommands, each in its own bench_*_command.cpp.
#pragma once

#include "apps/command.h"
#include "bench/datasets.h"
#include "engine/engine.h"

namespace minke {

// --dataset-name, --dataset-path, --num-prompts, --random-*, --sharegpt-output-len,
// --custom-output-len, --disable-shuffle and --seed, as vLLM names them.
void add_dataset_flags(CLI::App& cmd, bench::DatasetSpec& spec);

// Submits every request to the (started) engine and waits until all finish: the tokens
// generated, or the first error (a rejected request names its index).
Result<int64_t> run_to_completion(Engine& engine, std::vector<EngineRequest> requests);

Command add_bench_latency_command(CLI::App& bench);
Command add_bench_serve_command(CLI::App& bench);
Command add_bench_throughput_command(CLI::App& bench);
Command add_bench_client_command(CLI::App& bench);
// GPU kernel benchmarks against rooflines measured in the same run (bench_kernels_*.cpp).
Command add_bench_kernels_command(CLI::App& bench);

}  // namespace minke
