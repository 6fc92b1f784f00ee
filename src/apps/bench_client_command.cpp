// `minke bench client`: the serving benchmark's self-benchmark. The streaming client runs
// against a built-in mock SSE server that emits tokens at a known rate; it reports the
// client's CPU cost per streamed token and the most concurrent streams one client thread
// keeps up with, so `bench serve` numbers can be trusted not to measure the client.
#include <cstdio>
#include <memory>
#include <string>

#include "apps/bench_commands.h"
#include "bench/client_selfbench.h"

namespace minke {
namespace {

int run_client_bench(const bench::SelfBenchOptions& o) {
  std::printf("mock server: %lld tokens per stream, one every %.1f ms; client on one thread\n",
              (long long)o.tokens_per_stream, o.interval_s * 1e3);
  const bench::ChunkParseCost parse = bench::measure_chunk_parse();
  std::printf("chunk parse (%lld-byte chat delta): minke scan %.0f ns, nlohmann::json %.0f ns (%.1fx)\n",
              (long long)parse.chunk_bytes, parse.scan_ns, parse.nlohmann_ns,
              parse.scan_ns > 0 ? parse.nlohmann_ns / parse.scan_ns : 0.0);
  std::printf("%8s %10s %10s %12s %12s %9s %10s %10s  %s\n", "streams", "tokens", "failed", "expected/s",
              "achieved/s", "cpu util", "us/token", "mean ITL", "verdict");
  int64_t best = 0;
  for (int64_t n = o.start_streams; n <= o.max_streams; n *= 2) {
    auto p = bench::selfbench_point(n, o);
    if (!p.is_ok()) {
      std::fprintf(stderr, "minke bench client: %s\n", p.status().to_string().c_str());
      return 1;
    }
    const std::string verdict =
        p->kept_up ? "kept up" : (p->server_limited ? "mock server limited: " : "fell behind: ") + p->why;
    std::printf("%8lld %10lld %10lld %12.0f %12.0f %8.0f%% %10.2f %8.1fms  %s\n", (long long)p->streams,
                (long long)p->tokens_received, (long long)p->failed, p->expected_tokens_per_s,
                p->achieved_tokens_per_s, p->cpu_util * 100, p->us_per_token, p->mean_itl_s * 1e3,
                verdict.c_str());
    std::fflush(stdout);
    if (!p->kept_up) break;
    best = n;
  }
  std::printf("most concurrent streams the client kept up with: %lld (of at most %lld tried)\n", (long long)best,
              (long long)o.max_streams);
  return 0;
}

}  // namespace

Command add_bench_client_command(CLI::App& bench) {
  auto o = std::make_shared<bench::SelfBenchOptions>();
  CLI::App* cmd = bench.add_subcommand("client", "Self-benchmark of bench serve's client against a mock SSE server");
  cmd->add_option("--tokens-per-stream", o->tokens_per_stream, "Tokens each mock stream emits")->check(CLI::PositiveNumber);
  cmd->add_option("--interval", o->interval_s, "Seconds between a stream's tokens")->check(CLI::PositiveNumber);
  cmd->add_option("--start-streams", o->start_streams, "First concurrency; doubled while the client keeps up")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-streams", o->max_streams, "Largest concurrency tried")->check(CLI::PositiveNumber);
  cmd->add_option("--client-cpu", o->client_cpu, "Pin the client thread to this CPU (-1: no pinning)");
  return {cmd, [o] { return run_client_bench(*o); }};
}

}  // namespace minke
