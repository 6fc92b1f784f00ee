// The serving benchmark's numbers, defined as vLLM's `vllm bench serve` defines them
// (vllm/benchmarks/serve.py: calculate_metrics, check_goodput_args/parse_goodput, and the
// speculative-decoding deltas in benchmark()). Pure arithmetic: no I/O, no clocks, no NaN.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/request_result.h"
#include "core/status.h"

namespace minke::bench {

// numpy's statistics of one latency metric, in milliseconds: np.mean/median/std (ddof=0)
// and np.percentile (method "linear") of the values in seconds, each then times 1000.
struct MetricStats {
  double mean_ms = 0;
  double median_ms = 0;
  double std_ms = 0;
  std::vector<std::pair<double, double>> percentiles_ms;  // (p, value), in the order asked
};

struct MetricsOptions {
  std::vector<double> percentiles{99};                          // --metric-percentiles
  std::vector<std::pair<std::string, double>> goodput_slos_ms;  // --goodput; empty: no goodput
};

// vLLM's BenchmarkMetrics, plus what its report needs besides (duration, whether goodput was
// asked for) and calculate_metrics' second result (actual_output_lens).
struct BenchmarkMetrics {
  double duration_s = 0;
  bool goodput_enabled = false;
  int64_t completed = 0;  // successful requests
  int64_t failed = 0;
  int64_t total_input = 0;            // prompt tokens of successful requests
  int64_t total_output = 0;           // output tokens of successful requests
  double request_throughput = 0;      // completed / duration
  double request_goodput = 0;         // requests meeting every SLO / duration
  double output_throughput = 0;       // total_output / duration
  double total_token_throughput = 0;  // (total_input + total_output) / duration
  MetricStats ttft, tpot, itl, e2el;
  double max_output_tokens_per_s = 0;       // the fullest one-second bucket of token times
  int64_t max_concurrent_requests = 0;      // most requests in flight at one instant
  std::vector<int64_t> actual_output_lens;  // per request; 0 for a failed one
};

// Never fails: with no successful request every statistic is 0 (vLLM warns and reports
// zeros), and a duration that is not > 0 gives rates of 0 instead of a division by zero.
BenchmarkMetrics compute_metrics(const std::vector<RequestResult>& results, double duration_s,
                                 const MetricsOptions& options);

// The parts of compute_metrics, exposed for tests and reuse.
// numpy: np.mean, np.median, np.std (ddof=0), np.percentile(values, p) (linear), bit for bit
// where numpy's pairwise summation decides the rounding. Empty input gives 0, like numpy of
// vLLM's `values or 0`.
double numpy_mean(const std::vector<double>& values);
double numpy_median(std::vector<double> values);
double numpy_std(const std::vector<double>& values);
double numpy_percentile(std::vector<double> values, double p);
// Peak output tokens/s: token times (start + ttft, then + each itl) of successful requests
// counted in one-second buckets from the earliest start; the fullest bucket.
double peak_output_tokens_per_s(const std::vector<RequestResult>& results);
// Peak concurrency: a sweep over the half-open intervals [start, start + latency) of
// successful requests, a departure counted before an arrival at the same instant.
int64_t peak_concurrent_requests(const std::vector<RequestResult>& results);

// "--goodput ttft:100 tpot:20": KEY:VALUE items, KEY one of ttft, tpot, e2el, VALUE
// milliseconds >= 0. A repeated key keeps its first place and takes the last value (a Python
// dict). Errors name the bad item.
Result<std::vector<std::pair<std::string, double>>> parse_goodput(const std::vector<std::string>& args);
// "--metric-percentiles 25,50,99": numbers in [0, 100], in the order given.
Result<std::vector<double>> parse_percentiles(std::string_view text);
// "--percentile-metrics ttft,tpot,itl": names among ttft, tpot, itl, e2el; empty text gives
// vLLM's default for generation, ttft,tpot,itl. The report prints them in vLLM's fixed order.
Result<std::vector<std::string>> parse_percentile_metrics(std::string_view text);

// Speculative decoding, from the server's Prometheus counters read before and after the run.
struct SpecDecodeCounters {
  int64_t num_drafts = 0;
  int64_t num_draft_tokens = 0;
  int64_t num_accepted_tokens = 0;
  std::map<int64_t, int64_t> accepted_per_pos;  // position -> accepted tokens
};
struct SpecDecodeStats {
  double acceptance_rate = 0;    // percent: accepted / draft tokens * 100
  double acceptance_length = 0;  // 1 + accepted / drafts
  int64_t num_drafts = 0;
  int64_t draft_tokens = 0;
  int64_t accepted_tokens = 0;
  std::vector<double> per_position_acceptance_rates;  // fractions, by position
};
// The `vllm:spec_decode_*_total` counters of a /metrics text, summed over labels; nullopt
// when the text has none (speculative decoding is off).
std::optional<SpecDecodeCounters> parse_spec_decode_counters(std::string_view prometheus_text);
// The run's share; nullopt when no draft token was proposed between the two reads.
std::optional<SpecDecodeStats> spec_decode_stats(const SpecDecodeCounters& before,
                                                 const SpecDecodeCounters& after);

}  // namespace minke::bench
