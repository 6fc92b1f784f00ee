// minke: the command-line entry point. Each subcommand lives in its own
// *_command.cpp and is listed here once.
#include <vector>

#include "apps/command.h"

int main(int argc, char** argv) {
  CLI::App app{"minke: DeepSeek-V3 inference engine"};
  app.require_subcommand(1);
  const std::vector<minke::Command> commands = {
      minke::add_serve_command(app),
      minke::add_generate_command(app),
      minke::add_verify_command(app),
      minke::add_render_command(app),
      minke::add_tokenize_command(app),
      minke::add_bench_command(app),
  };
  CLI11_PARSE(app, argc, argv);
  for (const auto& c : commands)
    if (c.app->parsed()) return c.run();
  return 0;
}
