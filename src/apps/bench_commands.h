// The `minke bench` subcommands, each in its own bench_*_command.cpp.
#pragma once

#include "apps/command.h"

namespace minke {

Command add_bench_latency_command(CLI::App& bench);
Command add_bench_serve_command(CLI::App& bench);
Command add_bench_throughput_command(CLI::App& bench);
Command add_bench_client_command(CLI::App& bench);

}  // namespace minke
