// The `minke bench` subcommands, each in its own bench_*_command.cpp.
#pragma once

#include "apps/command.h"

namespace minke {

Command add_bench_latency_command(CLI::App& bench);

}  // namespace minke
