// A `minke` subcommand: each file adds its flags to the CLI and returns the action
// that runs when the user picked it (the process exit code).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace minke {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command add_generate_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_verify_command(CLI::App& app);
Command add_render_command(CLI::App& app);
Command add_tokenize_command(CLI::App& app);
Command add_bench_command(CLI::App& app);

}  // namespace minke
