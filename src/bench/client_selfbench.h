// The benchmark client's self-benchmark (`minke bench client`): the client against MockServer
// in this process, N streams of T tokens every I seconds, measuring the client thread's CPU per
// token and whether it keeps the server's schedule; then N doubled until it does not. Also the
// cost of one chunk's parse, scan_chunk() against nlohmann::json. Prints nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace minke::bench {

struct SelfBenchOptions {
  int64_t tokens_per_stream = 100;  // T
  double interval_s = 0.02;         // I: ttft and itl of the mock (50 tokens/s per stream)
  int64_t start_streams = 250;      // the first N; doubled while the client keeps up
  int64_t max_streams = 8000;       // two descriptors per stream (both ends are here)
  double tolerance = 0.10;          // achieved/expected token rate >= 1 - tolerance, and
                                    // mean ITL <= I * (1 + tolerance)
  double max_cpu_util = 0.90;       // client CPU / wall / client_io_threads above this: saturated
  int client_io_threads = 1;        // ClientOptions::io_threads ("streams on one core": 1)
  int client_cpu = -1;              // pin the client's threads to CPUs [client_cpu,
                                    // client_cpu + client_io_threads) and the mock's threads
                                    // off them; -1: no pinning
  int server_io_threads = 2;
  int server_timer_threads = 1;
};

struct SelfBenchPoint {
  int64_t streams = 0;
  int64_t tokens_expected = 0, tokens_received = 0;
  int64_t failed = 0;
  std::string first_error;
  double wall_s = 0, expected_wall_s = 0;
  double client_cpu_s = 0;       // all the client's threads
  double cpu_util = 0;           // client_cpu_s / wall_s / client_io_threads
  double us_per_token = 0;       // client CPU microseconds per token chunk received
  double expected_tokens_per_s = 0, achieved_tokens_per_s = 0;
  double mean_itl_s = 0, p99_itl_s = 0;
  double mean_client_lag_s = 0;  // latency minus the scripted ttft + (T - 1) * I, averaged
  double server_max_lag_s = 0;   // the mock's timer lateness: high means the mock was the limit
  double server_cpu_cores = 0;   // CPU of the rest of the process (the mock) / wall
  int server_cores = 0;          // cores the mock could use: min(its threads, CPUs not the client's)
  // server_max_lag_s > I, or server_cpu_cores >= 85% of server_cores: the mock, not the
  // client, set the pace, and the point says nothing about the client.
  bool server_limited = false;
  bool kept_up = false;
  std::string why;               // what failed the point, empty when kept_up
};

struct ChunkParseCost {
  int64_t chunk_bytes = 0;  // the sample chunk (a vLLM-shaped chat delta)
  double scan_ns = 0;       // scan_chunk()
  double nlohmann_ns = 0;   // nlohmann::json::parse + the same lookups
};

struct SelfBenchReport {
  ChunkParseCost parse;
  std::vector<SelfBenchPoint> points;
  int64_t max_sustained_streams = 0;  // the largest N that kept up (0: not even the first)
};

ChunkParseCost measure_chunk_parse(int64_t iterations = 200000);

// One run at `streams` concurrent streams.
Result<SelfBenchPoint> selfbench_point(int64_t streams, const SelfBenchOptions& options);

// measure_chunk_parse(), then selfbench_point() at start_streams, doubling while it keeps up.
Result<SelfBenchReport> run_selfbench(const SelfBenchOptions& options);

}  // namespace minke::bench
