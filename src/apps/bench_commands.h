// The `minke bench` subcommands, each in its own bench_*_command.cpp.
#pragma once

#include "apps/command.h"
#include "bench/datasets.h"

namespace minke {

// --dataset-name, --dataset-path, --num-prompts, --random-*, --sharegpt-output-len,
// --custom-output-len, --disable-shuffle and --seed, as vLLM names them.
void add_dataset_flags(CLI::App& cmd, bench::DatasetSpec& spec);

Command add_bench_latency_command(CLI::App& bench);
Command add_bench_serve_command(CLI::App& bench);
Command add_bench_throughput_command(CLI::App& bench);
Command add_bench_client_command(CLI::App& bench);

}  // namespace minke
