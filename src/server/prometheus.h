// Prometheus metrics: a lock-free Histogram (observe() from any thread) and PrometheusText, a
// writer for the text exposition format 0.0.4. Metric/label names come from code, so bad names
// are programmer bugs (MINKE_CHECK); label values and HELP text are escaped here.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace minke {

// The Content-Type of a /metrics response in text format 0.0.4.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// A cumulative histogram with fixed, finite, strictly ascending upper bounds plus the implicit
// +Inf bucket. Bounds are inclusive (`le`): observe(0.5) counts in the bucket whose bound is 0.5.
// observe() is wait-free for the counts and a short CAS loop for the sum (relaxed atomics; no
// locks). Not copyable or movable: hold it in a long-lived object or behind a unique_ptr.
class Histogram {
 public:
  // Aborts (MINKE_CHECK) on empty, non-finite or non-strictly-ascending bounds.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts v in the first bucket with v <= bound (or +Inf) and adds it to the sum. NaN counts
  // only in +Inf and makes the sum NaN, as client_golang does.
  void observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;    // [n] finite bounds, ascending
    std::vector<uint64_t> cumulative;    // [n] observations <= upper_bounds[i]
    uint64_t count = 0;                  // all observations: the +Inf bucket
    double sum = 0.0;
  };
  // Buckets, +Inf and count are mutually consistent (count is the sum of the bucket reads);
  // under concurrent observe() the sum may lag or lead them by the observations in flight.
  Snapshot snapshot() const;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

  // vLLM's default buckets (vllm/v1/metrics/loggers.py), in seconds.
  static std::vector<double> time_to_first_token_buckets();
  static std::vector<double> inter_token_latency_buckets();
  static std::vector<double> e2e_request_latency_buckets();

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // [n + 1] per-bucket (not cumulative);
                                                      // the last one is the +Inf overflow
  std::atomic<double> sum_{0.0};
};

// Builds one text exposition. Each family (name) gets exactly one `# HELP` and one `# TYPE`
// line; calling counter()/gauge()/histogram() again with the same name adds a sample to that
// family (it must then have the same type and help, and a distinct label set). Families are
// written in first-call order. Every sample carries the common labels, then its own.
class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;  // {name, value}

  explicit PrometheusText(Labels common_labels = {});
  // So that `PrometheusText t({{"model_name", "demo"}})` is not ambiguous with the copy
  // constructor (the inner braces would also match vector's iterator-pair constructor).
  PrometheusText(std::initializer_list<Labels::value_type> common_labels)
      : PrometheusText(Labels(common_labels)) {}

  // name must end in `_total` (the caller passes the full name).
  void counter(std::string_view name, std::string_view help, double value,
               const Labels& labels = {});
  void gauge(std::string_view name, std::string_view help, double value,
             const Labels& labels = {});
  // Emits name_bucket{...,le="..."} for each bound and +Inf, then name_sum and name_count.
  void histogram(std::string_view name, std::string_view help, const Histogram& h,
                 const Labels& labels = {});

  // The whole exposition; every line ends in '\n'.
  std::string str() const;

 private:
  struct Family {
    std::string name, help, type;
    std::string samples;  // rendered sample lines
  };
  Family& family(std::string_view name, std::string_view help, std::string_view type);
  // `{common...,labels...[,le="..."]}`; empty when there are no labels at all.
  std::string label_block(const Labels& labels, std::string_view le = {}) const;

  Labels common_labels_;
  std::vector<Family> families_;                      // in first-call order
  std::unordered_map<std::string, size_t> index_;     // name -> families_ index
};

// Exposed for tests. A sample value: integers as integers ("42"), others in shortest
// round-trip form ("0.005"), and "+Inf", "-Inf", "NaN".
std::string prometheus_number(double v);
// Label value escaping: backslash, double quote and newline.
std::string prometheus_escape_label_value(std::string_view s);
// HELP text escaping: backslash and newline.
std::string prometheus_escape_help(std::string_view s);

}  // namespace minke
