// Prometheus text format 0.0.4 and Histogram: a golden exposition, inclusive `le` buckets,
// escaping, one HELP/TYPE per family, and exact counts/sums under concurrent observe().
#include "server/prometheus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace minke {
namespace {

size_t count_occurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

TEST(PrometheusText, GoldenExposition) {
  Histogram latency({0.1, 0.5, 1.0});
  // Dyadic values, so the sum is exact: 0.0625 + 0.5 + 0.75 + 2 = 3.3125.
  for (double v : {0.0625, 0.5, 0.75, 2.0}) latency.observe(v);

  PrometheusText t({{"model_name", "demo"}});
  t.counter("minke:prompt_tokens_total", "Number of prefill tokens processed.", 42);
  t.gauge("minke:num_requests_running", "Number of requests in model execution batches.", 3);
  t.histogram("minke:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
              latency);
  t.counter("minke:request_success_total", "Count of successfully processed requests.", 7,
            {{"finished_reason", "stop"}});
  t.gauge("minke:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", 0.25);
  // Same family again, after another one: its sample must join the first, under one HELP/TYPE.
  t.counter("minke:request_success_total", "Count of successfully processed requests.", 1,
            {{"finished_reason", "length"}});

  const std::string expected =
      "# HELP minke:prompt_tokens_total Number of prefill tokens processed.\n"
      "# TYPE minke:prompt_tokens_total counter\n"
      "minke:prompt_tokens_total{model_name=\"demo\"} 42\n"
      "# HELP minke:num_requests_running Number of requests in model execution batches.\n"
      "# TYPE minke:num_requests_running gauge\n"
      "minke:num_requests_running{model_name=\"demo\"} 3\n"
      "# HELP minke:e2e_request_latency_seconds Histogram of e2e request latency in seconds.\n"
      "# TYPE minke:e2e_request_latency_seconds histogram\n"
      "minke:e2e_request_latency_seconds_bucket{model_name=\"demo\",le=\"0.1\"} 1\n"
      "minke:e2e_request_latency_seconds_bucket{model_name=\"demo\",le=\"0.5\"} 2\n"
      "minke:e2e_request_latency_seconds_bucket{model_name=\"demo\",le=\"1\"} 3\n"
      "minke:e2e_request_latency_seconds_bucket{model_name=\"demo\",le=\"+Inf\"} 4\n"
      "minke:e2e_request_latency_seconds_sum{model_name=\"demo\"} 3.3125\n"
      "minke:e2e_request_latency_seconds_count{model_name=\"demo\"} 4\n"
      "# HELP minke:request_success_total Count of successfully processed requests.\n"
      "# TYPE minke:request_success_total counter\n"
      "minke:request_success_total{model_name=\"demo\",finished_reason=\"stop\"} 7\n"
      "minke:request_success_total{model_name=\"demo\",finished_reason=\"length\"} 1\n"
      "# HELP minke:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n"
      "# TYPE minke:kv_cache_usage_perc gauge\n"
      "minke:kv_cache_usage_perc{model_name=\"demo\"} 0.25\n";
  EXPECT_EQ(t.str(), expected);
}

TEST(PrometheusText, HelpAndTypeOncePerFamily) {
  PrometheusText t({{"model_name", "m"}});
  Histogram a({1.0}), b({1.0});
  t.histogram("h_seconds", "h", a, {{"kind", "a"}});
  t.counter("c_total", "c", 1, {{"kind", "x"}});
  t.histogram("h_seconds", "h", b, {{"kind", "b"}});
  t.counter("c_total", "c", 2, {{"kind", "y"}});
  t.gauge("g", "g", 5);
  const std::string s = t.str();
  for (const char* name : {"h_seconds", "c_total", "g"}) {
    EXPECT_EQ(count_occurrences(s, std::string("# HELP ") + name + " "), 1u) << name << "\n" << s;
    EXPECT_EQ(count_occurrences(s, std::string("# TYPE ") + name + " "), 1u) << name << "\n" << s;
  }
  EXPECT_EQ(count_occurrences(s, "# HELP "), 3u);
  EXPECT_EQ(count_occurrences(s, "h_seconds_count{"), 2u);
  // A family's samples are contiguous: both c_total samples follow its TYPE line directly.
  EXPECT_NE(s.find("# TYPE c_total counter\n"
                   "c_total{model_name=\"m\",kind=\"x\"} 1\n"
                   "c_total{model_name=\"m\",kind=\"y\"} 2\n"),
            std::string::npos)
      << s;
}

TEST(PrometheusText, NoLabelsMeansNoBraces) {
  PrometheusText t;
  t.gauge("up", "Up.", 1);
  Histogram h({2.5});
  h.observe(3);
  t.histogram("x", "X.", h);
  EXPECT_EQ(t.str(),
            "# HELP up Up.\n# TYPE up gauge\nup 1\n"
            "# HELP x X.\n# TYPE x histogram\n"
            "x_bucket{le=\"2.5\"} 0\nx_bucket{le=\"+Inf\"} 1\nx_sum 3\nx_count 1\n");
}

TEST(PrometheusText, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(prometheus_escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(prometheus_escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");  // quotes stay in HELP

  PrometheusText t({{"model_name", "my \"best\"\nmodel\\v2"}});
  t.counter("n_total", "Line one\nline two \\ \"quoted\".", 1);
  EXPECT_EQ(t.str(),
            "# HELP n_total Line one\\nline two \\\\ \"quoted\".\n"
            "# TYPE n_total counter\n"
            "n_total{model_name=\"my \\\"best\\\"\\nmodel\\\\v2\"} 1\n");
}

TEST(PrometheusText, Numbers) {
  EXPECT_EQ(prometheus_number(42), "42");
  EXPECT_EQ(prometheus_number(0), "0");
  EXPECT_EQ(prometheus_number(-0.0), "0");
  EXPECT_EQ(prometheus_number(-3), "-3");
  EXPECT_EQ(prometheus_number(1e15), "1000000000000000");
  EXPECT_EQ(prometheus_number(0.005), "0.005");
  EXPECT_EQ(prometheus_number(2560.5), "2560.5");
  EXPECT_EQ(prometheus_number(0.1 + 0.2), "0.30000000000000004");  // round-trips exactly
  EXPECT_EQ(std::stod(prometheus_number(1e-7)), 1e-7);
  EXPECT_EQ(prometheus_number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(prometheus_number(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(prometheus_number(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(PrometheusHistogram, LeIsInclusive) {
  Histogram h({1.0, 2.0, 4.0});
  h.observe(1.0);                     // exactly on a bound: counts in le="1"
  h.observe(std::nextafter(1.0, 2));  // just above: le="2"
  h.observe(2.0);                     // le="2"
  h.observe(4.0);                     // le="4"
  h.observe(4.5);                     // +Inf only
  h.observe(-1.0);                    // below all bounds: le="1"
  const Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.upper_bounds, (std::vector<double>{1.0, 2.0, 4.0}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 5}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 1.0 + std::nextafter(1.0, 2) + 2.0 + 4.0 + 4.5 - 1.0);
}

TEST(PrometheusHistogram, InfBucketEqualsCountAndSum) {
  Histogram h({0.5});
  for (double v : {0.25, 1.0, 100.0, 0.5}) h.observe(v);
  PrometheusText t;
  t.histogram("lat_seconds", "L.", h);
  const std::string s = t.str();
  EXPECT_NE(s.find("lat_seconds_bucket{le=\"0.5\"} 2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_count 4\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_sum 101.75\n"), std::string::npos) << s;
}

TEST(PrometheusHistogram, NaNGoesToInfOnly) {
  Histogram h({1.0});
  h.observe(std::numeric_limits<double>::quiet_NaN());
  const Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0}));
  EXPECT_EQ(s.count, 1u);
  EXPECT_TRUE(std::isnan(s.sum));
}

TEST(PrometheusHistogram, ConcurrentObserveIsExact) {
  // 4 x 10000 caught a racy (load + store) sum in only ~40% of runs on 2 cores; 4 x 100000 takes
  // ~15 ms. No extra spinning reader thread: it would steal a core from the writers.
  constexpr int kThreads = 4, kPerThread = 100000;
  const double values[] = {0.25, 0.5, 1.0, 2.0};  // dyadic: every partial sum is exact
  Histogram h({0.25, 1.0});
  std::atomic<int> ready{0};
  std::atomic<int> bad_snapshots{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&] {
      // A start gate makes the writers overlap, so a lost update shows up.
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      uint64_t last_count = 0;
      for (int i = 0; i < kPerThread; ++i) {
        h.observe(values[i % 4]);
        if (i % 1024 == 0) {  // snapshots taken mid-flight stay monotone, with +Inf == count
          const Histogram::Snapshot s = h.snapshot();
          if (s.cumulative[0] > s.cumulative[1] || s.cumulative[1] > s.count ||
              s.count < last_count) {
            bad_snapshots.fetch_add(1);
          }
          last_count = s.count;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(bad_snapshots.load(), 0);

  const Histogram::Snapshot s = h.snapshot();
  const uint64_t n = uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(s.count, n);
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{n / 4, 3 * n / 4}));
  EXPECT_EQ(s.sum, (n / 4) * (0.25 + 0.5 + 1.0 + 2.0));  // 375000, exactly
}

TEST(PrometheusHistogram, VllmPresetsAreValidAndMatch) {
  // Constructing checks ascending and finite bounds; the ends pin the vLLM values.
  const Histogram ttft(Histogram::time_to_first_token_buckets());
  const Histogram itl(Histogram::inter_token_latency_buckets());
  const Histogram e2e(Histogram::e2e_request_latency_buckets());
  EXPECT_EQ(ttft.upper_bounds().size(), 22u);
  EXPECT_EQ(ttft.upper_bounds().front(), 0.001);
  EXPECT_EQ(ttft.upper_bounds().back(), 2560.0);
  EXPECT_EQ(itl.upper_bounds().size(), 19u);
  EXPECT_EQ(itl.upper_bounds().front(), 0.01);
  EXPECT_EQ(itl.upper_bounds().back(), 80.0);
  EXPECT_EQ(e2e.upper_bounds().size(), 21u);
  EXPECT_EQ(e2e.upper_bounds().front(), 0.3);
  EXPECT_EQ(e2e.upper_bounds().back(), 7680.0);
}

TEST(PrometheusDeathTest, RejectsProgrammerErrors) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Histogram(std::vector<double>{}), "at least one");
  EXPECT_DEATH(Histogram({1.0, 1.0}), "ascend strictly");
  EXPECT_DEATH(Histogram({2.0, 1.0}), "ascend strictly");
  EXPECT_DEATH(Histogram({1.0, std::numeric_limits<double>::infinity()}), "implicit");
  PrometheusText t;
  EXPECT_DEATH(t.counter("requests", "R.", 1), "_total");
  EXPECT_DEATH(t.gauge("bad name", "B.", 1), "bad metric name");
  EXPECT_DEATH(t.gauge("g", "G.", 1, {{"__reserved", "x"}}), "bad label name");
  t.gauge("g", "G.", 1);
  EXPECT_DEATH(t.histogram("g", "G.", Histogram({1.0})), "is a gauge");
  EXPECT_DEATH(t.histogram("h", "H.", Histogram({1.0}), {{"le", "1"}}), "'le' label");
}

}  // namespace
}  // namespace minke
