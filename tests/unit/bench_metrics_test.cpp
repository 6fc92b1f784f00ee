// compute_metrics against values worked out by hand from vLLM's definitions
// (vllm/benchmarks/serve.py, calculate_metrics), and the flag parsers.
#include "bench/bench_metrics.h"

#include <gtest/gtest.h>

#include "bench_test_results.h"

#include <cmath>

namespace minke::bench {
namespace {

using test::failed;
using test::ok;
using test::scenario;

TEST(BenchMetrics, CountsAndThroughputs) {
  const BenchmarkMetrics m = compute_metrics(scenario(), 4.0, {});
  EXPECT_EQ(m.completed, 4);
  EXPECT_EQ(m.failed, 1);
  EXPECT_EQ(m.total_input, 100);  // the failed request's 30 prompt tokens do not count
  EXPECT_EQ(m.total_output, 13);
  EXPECT_EQ(m.actual_output_lens, (std::vector<int64_t>{4, 1, 0, 3, 5}));
  EXPECT_DOUBLE_EQ(m.request_throughput, 1.0);
  EXPECT_DOUBLE_EQ(m.output_throughput, 3.25);
  EXPECT_DOUBLE_EQ(m.total_token_throughput, 28.25);
  EXPECT_FALSE(m.goodput_enabled);
  EXPECT_DOUBLE_EQ(m.request_goodput, 0.0);
}

TEST(BenchMetrics, LatencyStatisticsInMilliseconds) {
  const BenchmarkMetrics m =
      compute_metrics(scenario(), 4.0, {.percentiles = {25, 50, 99}, .goodput_slos_ms = {}});
  // TTFT: 0.5, 0.25, 1.0, 0.75 s. Median of an even count is the mean of the middle two;
  // P99 sits at index 3 * 0.99 = 2.97: 1.0 - 0.25 * 0.03 (numpy lerps from above for t >= .5).
  EXPECT_DOUBLE_EQ(m.ttft.mean_ms, 625.0);
  EXPECT_DOUBLE_EQ(m.ttft.median_ms, 625.0);
  EXPECT_DOUBLE_EQ(m.ttft.std_ms, std::sqrt(0.3125 / 4) * 1000);  // population std (ddof=0)
  ASSERT_EQ(m.ttft.percentiles_ms.size(), 3u);
  EXPECT_EQ(m.ttft.percentiles_ms[0].first, 25.0);
  EXPECT_DOUBLE_EQ(m.ttft.percentiles_ms[0].second, 437.5);  // index .75: .25 + .25 * .75
  EXPECT_DOUBLE_EQ(m.ttft.percentiles_ms[1].second, 625.0);
  EXPECT_DOUBLE_EQ(m.ttft.percentiles_ms[2].second, 992.5);

  // TPOT: (latency - ttft) / (output - 1) = 0.5, 1.0, 0.25; the 1-token request has none.
  EXPECT_DOUBLE_EQ(m.tpot.mean_ms, 1.75 / 3 * 1000);
  EXPECT_DOUBLE_EQ(m.tpot.median_ms, 500.0);
  const double tpot_mean = 1.75 / 3;
  const double tpot_var = ((0.5 - tpot_mean) * (0.5 - tpot_mean) + (1.0 - tpot_mean) * (1.0 - tpot_mean) +
                           (0.25 - tpot_mean) * (0.25 - tpot_mean)) /
                          3;
  EXPECT_DOUBLE_EQ(m.tpot.std_ms, std::sqrt(tpot_var) * 1000);
  EXPECT_DOUBLE_EQ(m.tpot.percentiles_ms[2].second, 990.0);  // index 1.98: 1.0 - 0.5 * 0.02

  // ITL pooled over requests: 0.5 x3, 1.0 x2, 0.25 x4.
  EXPECT_DOUBLE_EQ(m.itl.mean_ms, 500.0);
  EXPECT_DOUBLE_EQ(m.itl.median_ms, 500.0);
  EXPECT_DOUBLE_EQ(m.itl.std_ms, std::sqrt(0.75 / 9) * 1000);
  EXPECT_DOUBLE_EQ(m.itl.percentiles_ms[0].second, 250.0);   // index 2, exact
  EXPECT_DOUBLE_EQ(m.itl.percentiles_ms[2].second, 1000.0);  // index 7.92 between two 1.0s

  // E2EL: 2.0, 0.25, 3.0, 1.75 s.
  EXPECT_DOUBLE_EQ(m.e2el.mean_ms, 1750.0);
  EXPECT_DOUBLE_EQ(m.e2el.median_ms, 1875.0);
  EXPECT_DOUBLE_EQ(m.e2el.percentiles_ms[2].second, 2970.0);
}

TEST(BenchMetrics, NumpyPercentileInterpolation) {
  const std::vector<double> v = {4, 1, 3, 2};  // sorted 1 2 3 4
  EXPECT_DOUBLE_EQ(numpy_percentile(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(numpy_percentile(v, 100), 4.0);
  EXPECT_DOUBLE_EQ(numpy_percentile(v, 10), 1.3);  // index 0.3
  EXPECT_DOUBLE_EQ(numpy_percentile(v, 90), 3.7);  // index 2.7
  EXPECT_DOUBLE_EQ(numpy_percentile(v, 50), 2.5);
  // Bit for bit as numpy: from the upper neighbour when the weight is >= 0.5, where the lower
  // form a + (b - a) * t would give 0.7000000000000001 and 0.28.
  EXPECT_EQ(numpy_percentile({0.1, 0.9}, 75), 0.7);
  EXPECT_EQ(numpy_percentile({0.3, 0.1}, 90), 0.27999999999999997);
  EXPECT_DOUBLE_EQ(numpy_percentile({7.0}, 99), 7.0);
  EXPECT_DOUBLE_EQ(numpy_percentile({}, 99), 0.0);
  EXPECT_DOUBLE_EQ(numpy_median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(numpy_std({1, 2, 3, 4}), std::sqrt(1.25));  // ddof=0, not sqrt(5/3)
  // numpy's pairwise summation: 0.1 ten times sums to 1.0 exactly when paired (8 lanes, then
  // the rest), where a left-to-right loop gives 0.9999999999999999.
  EXPECT_EQ(numpy_mean(std::vector<double>(10, 0.1)), 0.1);
}

TEST(BenchMetrics, PeakOutputThroughputBucketsFromEarliestStart) {
  // Token times 0.5, 1.0, 1.5, 2.0 | 0.5 | 2.0, 3.0, 4.0 | 2.25, 2.5, 2.75, 3.0, 3.25:
  // seconds [0,1): 2, [1,2): 2, [2,3): 5, [3,4): 3, [4,5): 1.
  EXPECT_EQ(peak_output_tokens_per_s(scenario()), 5.0);

  // Buckets start at the first successful request (100.4 s; the failed one at 99 does not
  // count): 100.9, 101.1, 101.3 fall in one bucket though they straddle a whole second.
  std::vector<RequestResult> shifted = {failed(5, 99.0, "timeout"),
                                        ok(5, 4, 100.4, 0.5, 1.2, {0.2, 0.2, 0.2})};
  shifted[1].token_times = {0, 0, 0, 0};  // vLLM rebuilds token times from ttft and itl
  EXPECT_EQ(peak_output_tokens_per_s(shifted), 3.0);
  EXPECT_EQ(peak_output_tokens_per_s({failed(5, 0.0, "x")}), 0.0);
}

TEST(BenchMetrics, PeakConcurrencyIsASweepOverHalfOpenIntervals) {
  EXPECT_EQ(peak_concurrent_requests(scenario()), 3);  // at 1.5 s: [0,2), [1,4), [1.5,3.25)
  // A request ending at 1.0 has left when the next starts at 1.0.
  EXPECT_EQ(peak_concurrent_requests({ok(1, 2, 0.0, 0.1, 1.0, {}), ok(1, 2, 1.0, 0.1, 1.0, {})}), 1);
  EXPECT_EQ(peak_concurrent_requests({ok(1, 2, 0.0, 0.1, 1.0, {}), ok(1, 2, 0.0, 0.1, 1.0, {})}), 2);
  // Failed requests are not in flight for this count.
  EXPECT_EQ(peak_concurrent_requests({ok(1, 2, 0.0, 0.1, 1.0, {}), failed(1, 0.5, "x")}), 1);
}

TEST(BenchMetrics, GoodputCountsRequestsMeetingEverySlo) {
  // ttft <= 800 ms and tpot <= 600 ms: all but the request with a 1.0 s TTFT; the 1-token
  // request counts with TPOT 0.
  BenchmarkMetrics m = compute_metrics(
      scenario(), 4.0, {.percentiles = {99}, .goodput_slos_ms = {{"ttft", 800}, {"tpot", 600}}});
  EXPECT_TRUE(m.goodput_enabled);
  EXPECT_DOUBLE_EQ(m.request_goodput, 0.75);
  // e2el <= 1800 ms: the 0.25 s and 1.75 s requests.
  m = compute_metrics(scenario(), 4.0, {.percentiles = {99}, .goodput_slos_ms = {{"e2el", 1800}}});
  EXPECT_DOUBLE_EQ(m.request_goodput, 0.5);
  // An SLO equal to the value is met (slo >= value).
  m = compute_metrics(scenario(), 4.0, {.percentiles = {99}, .goodput_slos_ms = {{"ttft", 500}}});
  EXPECT_DOUBLE_EQ(m.request_goodput, 0.5);
}

TEST(BenchMetrics, NoSuccessGivesZerosNotNaN) {
  for (const auto& results :
       {std::vector<RequestResult>{failed(10, 0, "a"), failed(20, 1, "b")}, std::vector<RequestResult>{}}) {
    const BenchmarkMetrics m =
        compute_metrics(results, 2.0, {.percentiles = {50, 99}, .goodput_slos_ms = {{"ttft", 1}}});
    EXPECT_EQ(m.completed, 0);
    EXPECT_EQ(m.failed, static_cast<int64_t>(results.size()));
    EXPECT_EQ(m.total_input, 0);
    EXPECT_EQ(m.request_throughput, 0.0);
    EXPECT_EQ(m.request_goodput, 0.0);
    EXPECT_EQ(m.max_output_tokens_per_s, 0.0);
    EXPECT_EQ(m.max_concurrent_requests, 0);
    for (const MetricStats* s : {&m.ttft, &m.tpot, &m.itl, &m.e2el}) {
      EXPECT_EQ(s->mean_ms, 0.0);
      EXPECT_EQ(s->median_ms, 0.0);
      EXPECT_EQ(s->std_ms, 0.0);
      ASSERT_EQ(s->percentiles_ms.size(), 2u);
      EXPECT_EQ(s->percentiles_ms[1].second, 0.0);
    }
  }
  // A zero duration gives zero rates rather than inf or NaN.
  const BenchmarkMetrics m = compute_metrics(scenario(), 0.0, {});
  EXPECT_EQ(m.request_throughput, 0.0);
  EXPECT_EQ(m.total_token_throughput, 0.0);
}

TEST(BenchMetrics, ParseGoodput) {
  auto slos = parse_goodput({"ttft:100", "tpot:20.5", "ttft:150"});
  ASSERT_TRUE(slos.is_ok()) << slos.status().to_string();
  EXPECT_EQ(*slos, (std::vector<std::pair<std::string, double>>{{"ttft", 150}, {"tpot", 20.5}}));
  EXPECT_TRUE(parse_goodput({}).is_ok());
  for (const char* bad :
       {"ttft", "ttft:abc", "ttft:", "ttft:1:2", "itl:10", "foo:10", "ttft:-1", "e2el:nan"}) {
    auto r = parse_goodput({"tpot:5", bad});
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << r.status().message();
  }
}

TEST(BenchMetrics, ParsePercentiles) {
  auto p = parse_percentiles("25,50, 99.9,100");
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(*p, (std::vector<double>{25, 50, 99.9, 100}));
  for (const char* bad : {"", "99,", "abc", "101", "-1", "nan"}) {
    auto r = parse_percentiles(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(parse_percentiles("50,x9").status().message().find("'x9'"), std::string::npos);
}

TEST(BenchMetrics, ParsePercentileMetrics) {
  EXPECT_EQ(*parse_percentile_metrics(""), (std::vector<std::string>{"ttft", "tpot", "itl"}));
  EXPECT_EQ(*parse_percentile_metrics("e2el,ttft"), (std::vector<std::string>{"e2el", "ttft"}));
  auto bad = parse_percentile_metrics("ttft,latency");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("'latency'"), std::string::npos);
  EXPECT_EQ(parse_percentile_metrics("client_queue_time").status().code(), StatusCode::kUnsupported);
}

TEST(BenchMetrics, SpecDecodeCountersAndDeltas) {
  const std::string text =
      "# HELP vllm:spec_decode_num_drafts_total Number of drafts.\n"
      "# TYPE vllm:spec_decode_num_drafts_total counter\n"
      "vllm:spec_decode_num_drafts_total{engine=\"0\",model_name=\"m\"} 30.0\n"
      "vllm:spec_decode_num_drafts_total{engine=\"1\",model_name=\"m\"} 20.0\n"
      "vllm:spec_decode_num_drafts_created{engine=\"0\"} 1.7e9\n"
      "vllm:spec_decode_num_draft_tokens_total{engine=\"0\"} 150.0\n"
      "vllm:spec_decode_num_accepted_tokens_total{engine=\"0\"} 87.0\n"
      "vllm:spec_decode_num_accepted_tokens_per_pos_total{engine=\"0\",position=\"0\"} 40.0\n"
      "vllm:spec_decode_num_accepted_tokens_per_pos_total{engine=\"0\",position=\"1\"} 27.0\n"
      "vllm:num_requests_running{engine=\"0\"} 3.0\n";
  const auto after = parse_spec_decode_counters(text);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->num_drafts, 50);
  EXPECT_EQ(after->num_draft_tokens, 150);
  EXPECT_EQ(after->num_accepted_tokens, 87);
  EXPECT_EQ(after->accepted_per_pos, (std::map<int64_t, int64_t>{{0, 40}, {1, 27}}));
  EXPECT_FALSE(parse_spec_decode_counters("vllm:num_requests_running 1\n").has_value());

  const SpecDecodeCounters before{10, 30, 12, {{0, 8}, {1, 3}, {2, 1}}};
  const auto stats = spec_decode_stats(before, *after);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->num_drafts, 40);
  EXPECT_EQ(stats->draft_tokens, 120);
  EXPECT_EQ(stats->accepted_tokens, 75);
  EXPECT_DOUBLE_EQ(stats->acceptance_rate, 62.5);
  EXPECT_DOUBLE_EQ(stats->acceptance_length, 1 + 75.0 / 40);
  // Position 2 is missing after: vLLM takes it as unchanged.
  EXPECT_EQ(stats->per_position_acceptance_rates, (std::vector<double>{32.0 / 40, 24.0 / 40, 0.0}));
  EXPECT_FALSE(spec_decode_stats(*after, *after).has_value());  // no draft tokens in the run
}

}  // namespace
}  // namespace minke::bench
