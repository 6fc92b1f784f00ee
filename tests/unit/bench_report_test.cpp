// The serving benchmark's table and saved JSON against vLLM's. The goldens in
// tests/data/bench/serving_result_*.txt are what the print block of benchmark() and its
// process_one_metric in vllm/benchmarks/serve.py (vllm-project/vllm 009e6d4a) print for the
// scenario below, run through that code's calculate_metrics under Python and numpy.
#include "bench/bench_report.h"

#include <gtest/gtest.h>

#include "bench_test_results.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace minke::bench {
namespace {

std::string read_golden(const std::string& name) {
  std::ifstream in(std::string(MINKE_TEST_DATA_DIR) + "/bench/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using test::failed;
using test::ok;
using test::scenario;

SpecDecodeStats spec_stats() {
  const SpecDecodeCounters before{10, 30, 12, {{0, 8}, {1, 3}, {2, 1}}};
  const SpecDecodeCounters after{50, 150, 87, {{0, 40}, {1, 27}, {2, 20}}};
  return *spec_decode_stats(before, after);
}

TEST(BenchReport, DefaultTableMatchesVllmGolden) {
  const BenchmarkMetrics m = compute_metrics(scenario(), 4.0, {});
  EXPECT_EQ(format_serving_result(m, {}), read_golden("serving_result_default.txt"));
}

TEST(BenchReport, FullTableMatchesVllmGolden) {
  // Every optional row: concurrency, a finite rate, goodput, all four sections, fractional
  // percentile labels and the speculative-decoding section.
  const BenchmarkMetrics m = compute_metrics(
      scenario(), 4.0, {.percentiles = {50, 99, 99.9}, .goodput_slos_ms = {{"ttft", 800}, {"tpot", 600}}});
  ReportOptions o;
  o.max_concurrency = 8;
  o.request_rate = 2.0;
  o.percentile_metrics = {"e2el", "itl", "tpot", "ttft"};  // printed in vLLM's order regardless
  o.spec_decode = spec_stats();
  EXPECT_EQ(format_serving_result(m, o), read_golden("serving_result_full.txt"));
}

TEST(BenchReport, WithoutTokenizerVllmDropsTokenRows) {
  const BenchmarkMetrics m = compute_metrics(scenario(), 4.0, {});
  ReportOptions o;
  o.has_tokenizer = false;
  o.percentile_metrics = {"ttft", "e2el"};
  const std::string table = format_serving_result(m, o);
  EXPECT_EQ(table.find("Total generated tokens"), std::string::npos);
  EXPECT_EQ(table.find("Output token throughput"), std::string::npos);
  EXPECT_EQ(table.find("Total token throughput"), std::string::npos);
  EXPECT_EQ(table.find("Time to First Token"), std::string::npos);
  EXPECT_NE(table.find("Peak concurrent requests:                3.00      \n"), std::string::npos);
  EXPECT_NE(table.find("----------------End-to-end Latency----------------\n"), std::string::npos);
}

TEST(BenchReport, AllFailedTablePrintsZeros) {
  const std::vector<RequestResult> results = {failed(10, 0, "refused"), failed(10, 0, "refused")};
  const BenchmarkMetrics m = compute_metrics(results, 0.5, {});
  const std::string table = format_serving_result(m, {});
  EXPECT_EQ(table.find("nan"), std::string::npos);
  EXPECT_EQ(table.find("inf"), std::string::npos);
  EXPECT_NE(table.find("Successful requests:                     0         \n"), std::string::npos);
  EXPECT_NE(table.find("Failed requests:                         2         \n"), std::string::npos);
  EXPECT_NE(table.find("Mean TTFT (ms):                          0.00      \n"), std::string::npos);
  EXPECT_NE(table.find("P99 ITL (ms):                            0.00      \n"), std::string::npos);
}

TEST(BenchReport, PercentileLabelsAsPython) {
  EXPECT_EQ(percentile_label(99), "99");
  EXPECT_EQ(percentile_label(50.0), "50");
  EXPECT_EQ(percentile_label(0), "0");
  EXPECT_EQ(percentile_label(99.9), "99.9");
  EXPECT_EQ(percentile_label(99.99), "99.99");
  EXPECT_EQ(percentile_label(12.5), "12.5");
  EXPECT_EQ(percentile_label(0.001), "0.001");
  EXPECT_EQ(percentile_label(0.00001), "1e-05");
}

TEST(BenchReport, FailedRequestsCappedAtTen) {
  std::vector<RequestResult> results = scenario();
  for (int i = 0; i < 11; ++i) results.push_back(failed(1, 0, "err " + std::to_string(i)));
  const std::string text = format_failed_requests(results);
  EXPECT_EQ(text.rfind("Failed requests during benchmark run detected (capping to 10):\n"
                       "Error 0: HTTP 500: boom\nError 1: err 0\n",
                       0),
            0u);
  EXPECT_NE(text.find("Error 9: err 8\n"), std::string::npos);
  EXPECT_EQ(text.find("Error 10"), std::string::npos);
  EXPECT_EQ(format_failed_requests({scenario()[0]}), "");
}

TEST(BenchReport, ResultJsonHasVllmKeysInOrder) {
  const std::vector<RequestResult> results = scenario();
  const BenchmarkMetrics m =
      compute_metrics(results, 4.0, {.percentiles = {99, 99.9}, .goodput_slos_ms = {}});
  ReportOptions o;
  o.percentile_metrics = {"ttft", "e2el"};
  ResultHeader h;
  h.date = "20250101-120000";
  h.model_id = "deepseek-ai/DeepSeek-V3";
  h.tokenizer_id = "deepseek-ai/DeepSeek-V3";
  h.num_prompts = 5;
  h.metadata = {{"tp", "8"}};
  nlohmann::ordered_json j = serving_result_json(m, results, o, h);
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"date",
                                            "endpoint_type",
                                            "backend",
                                            "label",
                                            "model_id",
                                            "tokenizer_id",
                                            "num_prompts",
                                            "tp",
                                            "request_rate",
                                            "burstiness",
                                            "max_concurrency",
                                            "duration",
                                            "completed",
                                            "failed",
                                            "total_input_tokens",
                                            "total_output_tokens",
                                            "request_throughput",
                                            "request_goodput",
                                            "output_throughput",
                                            "total_token_throughput",
                                            "latencies",
                                            "max_output_tokens_per_s",
                                            "max_concurrent_requests",
                                            "rtfx",
                                            "mean_ttft_ms",
                                            "median_ttft_ms",
                                            "std_ttft_ms",
                                            "p99_ttft_ms",
                                            "p99.9_ttft_ms",
                                            "mean_e2el_ms",
                                            "median_e2el_ms",
                                            "std_e2el_ms",
                                            "p99_e2el_ms",
                                            "p99.9_e2el_ms"}));
  EXPECT_EQ(j["request_rate"], "inf");
  EXPECT_TRUE(j["request_goodput"].is_null());
  EXPECT_TRUE(j["label"].is_null());
  EXPECT_EQ(j["completed"], 4);
  EXPECT_EQ(j["latencies"], (std::vector<double>{2.0, 0.25, 0.0, 3.0, 1.75}));
  EXPECT_DOUBLE_EQ(j["p99_ttft_ms"].get<double>(), 992.5);

  h.save_detailed = true;  // the per-request lists stay, failed requests included
  o.spec_decode = spec_stats();
  j = serving_result_json(m, results, o, h);
  EXPECT_EQ(j["output_lens"], (std::vector<int64_t>{4, 1, 0, 3, 5}));
  EXPECT_EQ(j["input_lens"], (std::vector<int64_t>{10, 20, 30, 30, 40}));
  EXPECT_EQ(j["errors"][2], "HTTP 500: boom");
  EXPECT_EQ(j["itls"][3], (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(j["generated_texts"][4], "v w x y z");
  EXPECT_EQ(j["spec_decode_num_drafts"], 40);
  EXPECT_EQ(j["spec_decode_per_position_acceptance_rates"], (std::vector<double>{0.8, 0.6, 0.475}));
}

TEST(BenchReport, PythonJsonDumps) {
  nlohmann::ordered_json j;
  j["date"] = "20250101-120000";
  j["request_rate"] = 10.0;
  j["tiny"] = 0.00001;
  j["big"] = 1e16;
  j["n"] = 5;
  j["none"] = nullptr;
  j["ok"] = true;
  j["texts"] = {"caf\xc3\xa9 \xf0\x9f\x98\x80", "tab\t\"q\"\\ \x01 \x7f", "bad \xff byte"};
  j["empty"] = nlohmann::ordered_json::array();
  j["obj"] = nlohmann::ordered_json::object();
  j["nan"] = std::nan("");
  EXPECT_EQ(
      python_json_dumps(j),
      "{\"date\": \"20250101-120000\", \"request_rate\": 10.0, \"tiny\": 1e-05, \"big\": 1e+16, \"n\": 5, "
      "\"none\": null, \"ok\": true, \"texts\": [\"caf\\u00e9 \\ud83d\\ude00\", "
      "\"tab\\t\\\"q\\\"\\\\ \\u0001 \\u007f\", \"bad \\ufffd byte\"], \"empty\": [], \"obj\": {}, "
      "\"nan\": NaN}");
}

}  // namespace
}  // namespace minke::bench
