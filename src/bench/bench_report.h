// What `minke bench serve` prints and saves, character for character as `vllm bench serve`
// does at vllm-project/vllm 009e6d4a (vllm/benchmarks/serve.py: the print block of
// benchmark(), its process_one_metric, and the result dict of benchmark() and main_async()).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_metrics.h"
#include "bench/request_result.h"

namespace minke::bench {

struct ReportOptions {
  std::optional<int64_t> max_concurrency;  // the "Maximum request concurrency" row when set
  double request_rate = std::numeric_limits<double>::infinity();  // a row when finite
  // false is vLLM's --skip-tokenizer-init: no token rows and no ttft/tpot/itl sections.
  bool has_tokenizer = true;
  // The sections to print, among ttft, tpot, itl, e2el; always in that order, as vLLM does.
  std::vector<std::string> percentile_metrics{"ttft", "tpot", "itl"};
  std::optional<SpecDecodeStats> spec_decode;  // when the server exposes acceptance counters
};

// The "Serving Benchmark Result" table, from its "=" banner to the closing 50 "=", each line
// ending in '\n'.
std::string format_serving_result(const BenchmarkMetrics& metrics, const ReportOptions& options);
// The "Speculative Decoding" section of that table (a "-" banner and its rows).
std::string format_spec_decode(const SpecDecodeStats& stats);
// vLLM's list of the first 10 errors, printed before the table; empty when nothing failed.
std::string format_failed_requests(const std::vector<RequestResult>& results);
// What vLLM warns (on stderr) when no request succeeded.
inline constexpr std::string_view kAllRequestsFailedWarning =
    "All requests failed. This is likely due to a misconfiguration on the benchmark arguments.";
// A percentile as vLLM names it in "P{p}" and "p{p}_ttft_ms": 99 for 99.0, else Python's
// str(float) (99.9, 1e-05).
std::string percentile_label(double p);

// The run's setup that main_async() puts ahead of the measurements.
struct ResultHeader {
  std::string date;  // "%Y%m%d-%H%M%S"
  std::string backend = "openai";
  std::optional<std::string> label;
  std::string model_id;
  std::optional<std::string> tokenizer_id;
  int64_t num_prompts = 0;
  std::vector<std::pair<std::string, std::string>> metadata;  // --metadata KEY=VALUE, in order
  double burstiness = 1.0;
  bool save_detailed = false;  // keep the per-request lists (input_lens, ttfts, itls, ...)
};

// The --save-result document with vLLM's keys in vLLM's order. minke does not measure the
// client-side queue time, so "queue_times" is left out.
nlohmann::ordered_json serving_result_json(const BenchmarkMetrics& metrics,
                                           const std::vector<RequestResult>& results,
                                           const ReportOptions& options, const ResultHeader& header);
// json.dumps(doc) as Python writes it: ", " and ": " separators, ensure_ascii, float repr
// ("1.0", "1e-05", "NaN", "Infinity"), so a saved file reads as vLLM's would.
std::string python_json_dumps(const nlohmann::ordered_json& doc);

}  // namespace minke::bench
