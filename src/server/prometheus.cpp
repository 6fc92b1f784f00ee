// Prometheus Histogram and text-format 0.0.4 writer (see prometheus.h). Format reference:
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
#include "server/prometheus.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/check.h"

namespace minke {
namespace {

bool is_metric_name(std::string_view s) {  // [a-zA-Z_:][a-zA-Z0-9_:]*
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_label_name(std::string_view s) {  // [a-zA-Z_][a-zA-Z0-9_]*, "__" prefix reserved
  if (s.empty() || s.starts_with("__")) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void append_label(std::string& out, std::string_view name, std::string_view value) {
  if (out.size() > 1) out += ',';
  out += name;
  out += "=\"";
  out += prometheus_escape_label_value(value);
  out += '"';
}

}  // namespace

// ---- Histogram ------------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {
  MINKE_CHECK(!upper_bounds_.empty(), "Histogram needs at least one finite upper bound");
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    MINKE_CHECK(std::isfinite(upper_bounds_[i]), "Histogram bound {} is {}; +Inf is implicit", i,
                upper_bounds_[i]);
    MINKE_CHECK(i == 0 || upper_bounds_[i - 1] < upper_bounds_[i],
                "Histogram bounds must ascend strictly: bound {} = {} follows {}", i,
                upper_bounds_[i], upper_bounds_[i - 1]);
  }
  // make_unique<T[]> value-initializes, but be explicit: every bucket starts at zero.
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  // First bound >= v, so `le` is inclusive; NaN compares false everywhere and goes to +Inf.
  size_t bucket = upper_bounds_.size();
  if (!std::isnan(v)) {
    bucket = static_cast<size_t>(
        std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) - upper_bounds_.begin());
  }
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  // atomic<double>::fetch_add (C++20) is a compare-exchange loop on the bit pattern.
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  s.cumulative.resize(upper_bounds_.size());
  uint64_t running = 0;
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  // count is derived from the same reads, so the buckets are monotone and +Inf == count.
  s.count = running + buckets_[upper_bounds_.size()].load(std::memory_order_relaxed);
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> Histogram::time_to_first_token_buckets() {
  return {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,   0.75,
          1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
}

std::vector<double> Histogram::inter_token_latency_buckets() {
  return {0.01, 0.025, 0.05, 0.075, 0.1,  0.15, 0.2,  0.3,  0.4, 0.5,
          0.75, 1.0,   2.5,  5.0,   7.5,  10.0, 20.0, 40.0, 80.0};
}

std::vector<double> Histogram::e2e_request_latency_buckets() {
  return {0.3,  0.5,  0.8,  1.0,  1.5,  2.0,   2.5,   5.0,   10.0,   15.0,  20.0,
          30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
}

// ---- text format ----------------------------------------------------------------------------

std::string prometheus_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integral values that fit int64 print as integers ("42", never "4.2e+01"); -0.0 prints "0".
  if (v == std::trunc(v) && std::fabs(v) < 0x1p63) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);  // shortest round-trip
}

std::string prometheus_escape_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string prometheus_escape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

PrometheusText::PrometheusText(Labels common_labels) : common_labels_(std::move(common_labels)) {
  for (size_t i = 0; i < common_labels_.size(); ++i) {
    MINKE_CHECK(is_label_name(common_labels_[i].first), "bad label name '{}'",
                common_labels_[i].first);
    for (size_t j = 0; j < i; ++j) {
      MINKE_CHECK(common_labels_[i].first != common_labels_[j].first, "duplicate label '{}'",
                  common_labels_[i].first);
    }
  }
}

PrometheusText::Family& PrometheusText::family(std::string_view name, std::string_view help,
                                               std::string_view type) {
  MINKE_CHECK(is_metric_name(name), "bad metric name '{}'", name);
  auto it = index_.find(std::string(name));
  if (it != index_.end()) {
    Family& f = families_[it->second];
    MINKE_CHECK(f.type == type, "metric '{}' is a {}, not a {}", name, f.type, type);
    MINKE_CHECK(f.help == help, "metric '{}' has two HELP texts", name);
    return f;
  }
  index_.emplace(std::string(name), families_.size());
  families_.push_back(Family{std::string(name), std::string(help), std::string(type), {}});
  return families_.back();
}

std::string PrometheusText::label_block(const Labels& labels, std::string_view le) const {
  if (common_labels_.empty() && labels.empty() && le.empty()) return {};
  std::string out = "{";
  for (const auto& [name, value] : common_labels_) append_label(out, name, value);
  for (const auto& [name, value] : labels) {
    MINKE_CHECK(is_label_name(name), "bad label name '{}'", name);
    for (const auto& [common, unused] : common_labels_) {
      MINKE_CHECK(common != name, "label '{}' is already a common label", name);
    }
    append_label(out, name, value);
  }
  if (!le.empty()) append_label(out, "le", le);
  out += '}';
  return out;
}

void PrometheusText::counter(std::string_view name, std::string_view help, double value,
                             const Labels& labels) {
  MINKE_CHECK(name.ends_with("_total"), "counter '{}' must be named *_total", name);
  Family& f = family(name, help, "counter");
  f.samples += fmt::format("{}{} {}\n", name, label_block(labels), prometheus_number(value));
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value,
                           const Labels& labels) {
  Family& f = family(name, help, "gauge");
  f.samples += fmt::format("{}{} {}\n", name, label_block(labels), prometheus_number(value));
}

void PrometheusText::histogram(std::string_view name, std::string_view help, const Histogram& h,
                               const Labels& labels) {
  for (const auto& [label, unused] : labels) {
    MINKE_CHECK(label != "le", "histogram '{}' may not carry an 'le' label", name);
  }
  for (const auto& [label, unused] : common_labels_) {
    MINKE_CHECK(label != "le", "histogram '{}' may not carry an 'le' label", name);
  }
  Family& f = family(name, help, "histogram");
  const Histogram::Snapshot s = h.snapshot();
  std::string& out = f.samples;
  for (size_t i = 0; i < s.upper_bounds.size(); ++i) {
    out += fmt::format("{}_bucket{} {}\n", name,
                       label_block(labels, prometheus_number(s.upper_bounds[i])), s.cumulative[i]);
  }
  out += fmt::format("{}_bucket{} {}\n", name, label_block(labels, "+Inf"), s.count);
  const std::string plain = label_block(labels);
  out += fmt::format("{}_sum{} {}\n", name, plain, prometheus_number(s.sum));
  out += fmt::format("{}_count{} {}\n", name, plain, s.count);
}

std::string PrometheusText::str() const {
  std::string out;
  for (const Family& f : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, prometheus_escape_help(f.help),
                       f.name, f.type);
    out += f.samples;
  }
  return out;
}

}  // namespace minke
