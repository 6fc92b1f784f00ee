// compute_metrics and its parts, following vllm/benchmarks/serve.py (calculate_metrics) line
// by line, with numpy's float arithmetic reproduced where it decides the last bits.
#include "bench/bench_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace minke::bench {
namespace {

// numpy's pairwise summation (DOUBLE_pairwise_sum in loops_utils.h.src): 8 accumulators up to
// 128 values, halves above. np.add.reduce adds the result to its identity, 0.0.
double pairwise_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (size_t j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

// np.add.reduce over a contiguous 1-D array, from the identity 0.0. Since numpy 2.3 (gh-27883,
// "growinner" honoured for unbuffered reductions) the loop sees the whole array at once;
// numpy < 2.3 handed it 8192 values (its buffer size) at a time, which changes the last bits
// of means over more than 8192 values.
constexpr size_t kReduceChunk = SIZE_MAX;
double sum(const std::vector<double>& v) {
  double total = 0.0;
  for (size_t at = 0; at < v.size(); at += std::min(kReduceChunk, v.size() - at))
    total += pairwise_sum(v.data() + at, std::min(kReduceChunk, v.size() - at));
  return total;
}

MetricStats stats_of(const std::vector<double>& seconds, const std::vector<double>& percentiles) {
  MetricStats s;
  s.mean_ms = numpy_mean(seconds) * 1000;
  s.median_ms = numpy_median(seconds) * 1000;
  s.std_ms = numpy_std(seconds) * 1000;
  for (double p : percentiles) s.percentiles_ms.emplace_back(p, numpy_percentile(seconds, p) * 1000);
  return s;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Python's float(text) for the forms a command line uses: surrounding spaces, a sign,
// decimal or exponent notation, inf and nan.
std::optional<double> parse_float(std::string_view text) {
  text = trim(text);
  if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t next = text.find(sep, at);
    parts.push_back(text.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

}  // namespace

double numpy_mean(const std::vector<double>& values) {
  return values.empty() ? 0.0 : sum(values) / static_cast<double>(values.size());
}

double numpy_median(std::vector<double> values) {
  const size_t n = values.size();
  if (n == 0) return 0.0;
  std::sort(values.begin(), values.end());
  if (n % 2 == 1) return values[n / 2];
  return (0.0 + values[n / 2 - 1] + values[n / 2]) / 2.0;  // np.mean of the middle two
}

double numpy_std(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  const double mean = numpy_mean(values);
  std::vector<double> sq(values.size());
  for (size_t i = 0; i < values.size(); ++i) sq[i] = (values[i] - mean) * (values[i] - mean);
  return std::sqrt(sum(sq) / static_cast<double>(values.size()));
}

double numpy_percentile(std::vector<double> values, double p) {
  const size_t n = values.size();
  if (n == 0) return 0.0;
  std::sort(values.begin(), values.end());
  // numpy's _quantile, method "linear": virtual index (n - 1) * q, then _lerp, which
  // interpolates from the upper neighbour when the weight is >= 0.5.
  const double index = static_cast<double>(n - 1) * (p / 100);
  if (!(index < static_cast<double>(n - 1))) return values[n - 1];
  if (index < 0) return values[0];
  const double below = std::floor(index);
  const double a = values[static_cast<size_t>(below)];
  const double b = values[static_cast<size_t>(below) + 1];
  const double t = index - below;
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

double peak_output_tokens_per_s(const std::vector<RequestResult>& results) {
  double min_start = 0, max_end = 0;
  bool any = false;
  for (const RequestResult& r : results) {
    if (!r.success) continue;
    min_start = any ? std::min(min_start, r.start) : r.start;
    max_end = any ? std::max(max_end, r.start + r.latency) : r.start + r.latency;
    any = true;
  }
  if (!any) return 0.0;
  // vLLM: int(np.ceil(max_end - min_start)) + 1 buckets, token i of a request at
  // start + ttft + itl[0] + ... + itl[i-1] (rebuilt from the gaps, not the recorded times),
  // bucket int(t - min_start), truncated toward zero. Sorting the bucket numbers instead of
  // filling an array gives the same counts without an allocation as long as the run.
  const double buckets = std::ceil(max_end - min_start) + 1;
  std::vector<int64_t> hits;
  for (const RequestResult& r : results) {
    if (!r.success) continue;
    double t = r.start + r.ttft;
    for (size_t i = 0; i <= r.itl.size(); ++i) {
      if (i > 0) t += r.itl[i - 1];
      const double offset = std::trunc(t - min_start);
      if (offset >= 0 && offset < buckets && offset < 9.0e18) hits.push_back(static_cast<int64_t>(offset));
    }
  }
  std::sort(hits.begin(), hits.end());
  int64_t best = 0;
  for (size_t i = 0, j = 0; i < hits.size(); i = j) {
    while (j < hits.size() && hits[j] == hits[i]) ++j;
    best = std::max(best, static_cast<int64_t>(j - i));
  }
  return static_cast<double>(best);
}

int64_t peak_concurrent_requests(const std::vector<RequestResult>& results) {
  std::vector<std::pair<double, int>> events;  // (time, +1 arrival / -1 departure)
  for (const RequestResult& r : results) {
    if (!r.success) continue;
    events.emplace_back(r.start, 1);
    events.emplace_back(r.start + r.latency, -1);
  }
  std::sort(events.begin(), events.end());  // at equal times -1 sorts first: [start, end)
  int64_t current = 0, peak = 0;
  for (const auto& [time, delta] : events) {
    current += delta;
    peak = std::max(peak, current);
  }
  return peak;
}

BenchmarkMetrics compute_metrics(const std::vector<RequestResult>& results, double duration_s,
                                 const MetricsOptions& options) {
  BenchmarkMetrics m;
  m.duration_s = duration_s;
  m.goodput_enabled = !options.goodput_slos_ms.empty();
  std::vector<double> ttfts, tpots, all_tpots, itls, e2els;
  for (const RequestResult& r : results) {
    if (!r.success) {
      m.actual_output_lens.push_back(0);
      ++m.failed;
      continue;
    }
    const int64_t output_len = r.output_tokens;
    m.actual_output_lens.push_back(output_len);
    m.total_input += r.prompt_len;
    m.total_output += output_len;
    double tpot = 0.0;  // a 1-token output has no TPOT; goodput counts it as 0
    if (output_len > 1) {
      tpot = (r.latency - r.ttft) / static_cast<double>(output_len - 1);
      tpots.push_back(tpot);
    }
    all_tpots.push_back(tpot);
    itls.insert(itls.end(), r.itl.begin(), r.itl.end());
    ttfts.push_back(r.ttft);
    e2els.push_back(r.latency);
    ++m.completed;
  }

  int64_t good = 0;
  if (m.goodput_enabled) {
    for (size_t i = 0; i < ttfts.size(); ++i) {
      bool ok = true;
      for (const auto& [name, slo_ms] : options.goodput_slos_ms) {
        const double value = name == "ttft" ? ttfts[i] : name == "tpot" ? all_tpots[i] : e2els[i];
        ok = ok && slo_ms / 1000 >= value;  // vLLM compares in seconds
      }
      good += ok ? 1 : 0;
    }
  }

  if (duration_s > 0 && std::isfinite(duration_s)) {
    m.request_throughput = static_cast<double>(m.completed) / duration_s;
    m.request_goodput = static_cast<double>(good) / duration_s;
    m.output_throughput = static_cast<double>(m.total_output) / duration_s;
    m.total_token_throughput = static_cast<double>(m.total_input + m.total_output) / duration_s;
  }
  m.ttft = stats_of(ttfts, options.percentiles);
  m.tpot = stats_of(tpots, options.percentiles);
  m.itl = stats_of(itls, options.percentiles);
  m.e2el = stats_of(e2els, options.percentiles);
  m.max_output_tokens_per_s = peak_output_tokens_per_s(results);
  m.max_concurrent_requests = peak_concurrent_requests(results);
  return m;
}

Result<std::vector<std::pair<std::string, double>>> parse_goodput(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, double>> slos;
  for (const std::string& item : args) {
    const std::vector<std::string_view> parts = split(item, ':');
    const std::optional<double> value = parts.size() == 2 ? parse_float(parts[1]) : std::nullopt;
    if (!value)
      return invalid_argument(
          "--goodput: invalid item '{}'; give service level objectives as KEY:VALUE pairs, where "
          "the key is a metric name and the value a number in milliseconds",
          item);
    const std::string name(parts[0]);
    if (name != "ttft" && name != "tpot" && name != "e2el")
      return invalid_argument("--goodput: invalid metric name in '{}'; it should be one of ttft, tpot, e2el",
                              item);
    if (!(*value >= 0))
      return invalid_argument("--goodput: invalid value in '{}'; it should be a non-negative number of ms",
                              item);
    auto same = std::find_if(slos.begin(), slos.end(), [&](const auto& s) { return s.first == name; });
    if (same != slos.end())
      same->second = *value;
    else
      slos.emplace_back(name, *value);
  }
  return slos;
}

Result<std::vector<double>> parse_percentiles(std::string_view text) {
  std::vector<double> percentiles;
  for (std::string_view item : split(text, ',')) {
    const std::optional<double> p = parse_float(item);
    if (!p || !(*p >= 0 && *p <= 100))
      return invalid_argument("--metric-percentiles: '{}' is not a percentile in [0, 100]", trim(item));
    percentiles.push_back(*p);
  }
  return percentiles;
}

Result<std::vector<std::string>> parse_percentile_metrics(std::string_view text) {
  if (trim(text).empty()) return std::vector<std::string>{"ttft", "tpot", "itl"};
  std::vector<std::string> names;
  for (std::string_view item : split(text, ',')) {
    const std::string name(trim(item));
    if (name == "client_queue_time" || name == "e2el_including_client_queue")
      return unsupported("--percentile-metrics: '{}' is not measured by minke yet", name);
    if (name != "ttft" && name != "tpot" && name != "itl" && name != "e2el")
      return invalid_argument("--percentile-metrics: unknown metric '{}'; allowed are ttft, tpot, itl, e2el",
                              name);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

std::optional<SpecDecodeCounters> parse_spec_decode_counters(std::string_view text) {
  SpecDecodeCounters c;
  bool found = false;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line.rfind("vllm:spec_decode", 0) != 0) continue;
    const size_t name_end = line.find_first_of("{ \t");
    const std::string_view name = line.substr(0, name_end);
    if (name.size() < 6 || name.substr(name.size() - 6) != "_total") continue;
    found = true;
    // The sample value follows the labels; a trailing timestamp is not part of it.
    const size_t labels_end = line[name_end] == '{' ? line.find('}', name_end) : name_end;
    if (labels_end == std::string_view::npos) continue;
    std::string_view rest = trim(line.substr(labels_end + (line[name_end] == '{' ? 1 : 0)));
    rest = rest.substr(0, rest.find_first_of(" \t"));
    const std::optional<double> value = parse_float(rest);
    if (!value || !std::isfinite(*value)) continue;
    const auto count = static_cast<int64_t>(*value);  // int(float(x))
    if (name.find("num_drafts") != std::string_view::npos) {
      c.num_drafts += count;
    } else if (name.find("num_draft_tokens") != std::string_view::npos) {
      c.num_draft_tokens += count;
    } else if (name.find("num_accepted_tokens_per_pos") != std::string_view::npos) {
      const std::string_view key = "position=\"";
      const size_t at = line.find(key);
      if (at == std::string_view::npos) continue;
      const size_t end = line.find('"', at + key.size());
      int64_t pos = 0;
      const std::string_view digits = line.substr(at + key.size(), end - at - key.size());
      const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pos);
      if (ec != std::errc() || p != digits.data() + digits.size()) continue;
      c.accepted_per_pos[pos] += count;
    } else if (name.find("num_accepted_tokens") != std::string_view::npos) {
      c.num_accepted_tokens += count;
    }
  }
  if (!found) return std::nullopt;
  return c;
}

std::optional<SpecDecodeStats> spec_decode_stats(const SpecDecodeCounters& before,
                                                 const SpecDecodeCounters& after) {
  SpecDecodeStats s;
  s.num_drafts = after.num_drafts - before.num_drafts;
  s.draft_tokens = after.num_draft_tokens - before.num_draft_tokens;
  s.accepted_tokens = after.num_accepted_tokens - before.num_accepted_tokens;
  if (s.draft_tokens <= 0) return std::nullopt;
  if (s.num_drafts > 0) {
    std::map<int64_t, int64_t> positions = after.accepted_per_pos;
    for (const auto& [pos, value] : before.accepted_per_pos) positions.emplace(pos, value);
    for (const auto& [pos, after_value] : positions) {
      const auto b = before.accepted_per_pos.find(pos);
      const int64_t before_value = b == before.accepted_per_pos.end() ? 0 : b->second;
      s.per_position_acceptance_rates.push_back(static_cast<double>(after_value - before_value) /
                                                static_cast<double>(s.num_drafts));
    }
  }
  s.acceptance_rate = static_cast<double>(s.accepted_tokens) / static_cast<double>(s.draft_tokens) * 100;
  s.acceptance_length =
      s.num_drafts > 0 ? 1 + static_cast<double>(s.accepted_tokens) / static_cast<double>(s.num_drafts) : 0.0;
  return s;
}

}  // namespace minke::bench
