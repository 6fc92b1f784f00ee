// The serving benchmark's table and result document, following the print calls and the
// result dict of vllm/benchmarks/serve.py (benchmark(), process_one_metric, main_async()).
#include "bench/bench_report.h"

#include "core/py_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace minke::bench {
namespace {

constexpr int kWidth = 50;

// "{s:{c}^{n}}".format(s=text, n=50, c=fill): Python centres with the odd pad on the right.
std::string banner(std::string_view text, char fill) {
  const size_t pad = text.size() < size_t{kWidth} ? size_t{kWidth} - text.size() : 0;
  return std::string(pad / 2, fill) + std::string(text) + std::string(pad - pad / 2, fill) + "\n";
}
// "{:<40} {:<10}" with an int, and "{:<40} {:<10.2f}" with a float.
std::string row(std::string_view label, int64_t value) {
  return fmt::format("{:<40} {:<10}\n", label, value);
}
std::string row(std::string_view label, double value) {
  return fmt::format("{:<40} {:<10.2f}\n", label, value);
}

struct LatencySection {
  const char* key;     // "ttft": the --percentile-metrics name and the JSON key infix
  const char* name;    // "TTFT", in the row labels
  const char* header;  // "Time to First Token", in the banner
  const MetricStats BenchmarkMetrics::*stats;
  bool needs_tokenizer;
};
// benchmark()'s process_one_metric calls, in their order.
constexpr LatencySection kSections[] = {
    {"ttft", "TTFT", "Time to First Token", &BenchmarkMetrics::ttft, true},
    {"tpot", "TPOT", "Time per Output Token (excl. 1st token)", &BenchmarkMetrics::tpot, true},
    {"itl", "ITL", "Inter-token Latency", &BenchmarkMetrics::itl, true},
    {"e2el", "E2EL", "End-to-end Latency", &BenchmarkMetrics::e2el, false},
};

bool selected(const LatencySection& s, const ReportOptions& o) {
  return (o.has_tokenizer || !s.needs_tokenizer) &&
         std::find(o.percentile_metrics.begin(), o.percentile_metrics.end(), s.key) !=
             o.percentile_metrics.end();
}


void dump(std::string& out, const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: out += "null"; return;
    case nlohmann::json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return;
    case nlohmann::json::value_t::number_integer: out += std::to_string(j.get<int64_t>()); return;
    case nlohmann::json::value_t::number_unsigned: out += std::to_string(j.get<uint64_t>()); return;
    case nlohmann::json::value_t::number_float: {
      const double d = j.get<double>();  // json.dumps writes NaN and Infinity (allow_nan)
      out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : py_float_repr(d);
      return;
    }
    case nlohmann::json::value_t::string: py_json_string_into(out, j.get_ref<const std::string&>(), /*ensure_ascii=*/true); return;
    case nlohmann::json::value_t::array: {
      out += '[';
      for (size_t i = 0; i < j.size(); ++i) {
        if (i > 0) out += ", ";
        dump(out, j[i]);
      }
      out += ']';
      return;
    }
    case nlohmann::json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : j.items()) {
        if (!first) out += ", ";
        first = false;
        py_json_string_into(out, key, /*ensure_ascii=*/true);
        out += ": ";
        dump(out, value);
      }
      out += '}';
      return;
    }
    default: out += "null"; return;  // binary and discarded values never occur here
  }
}

}  // namespace

std::string percentile_label(double p) {
  // str(int(p)) if int(p) == p else str(p)
  if (std::isfinite(p) && std::trunc(p) == p && std::fabs(p) < 1e18)
    return std::to_string(static_cast<int64_t>(p));
  return py_float_repr(p);
}

std::string format_spec_decode(const SpecDecodeStats& s) {
  std::string out = banner("Speculative Decoding", '-');
  out += row("Acceptance rate (%):", s.acceptance_rate);
  out += row("Acceptance length:", s.acceptance_length);
  out += row("Drafts:", s.num_drafts);
  out += row("Draft tokens:", s.draft_tokens);
  out += row("Accepted tokens:", s.accepted_tokens);
  if (!s.per_position_acceptance_rates.empty()) {
    out += "Per-position acceptance (%):\n";
    for (size_t i = 0; i < s.per_position_acceptance_rates.size(); ++i)
      out += row(fmt::format("  Position {}:", i), s.per_position_acceptance_rates[i] * 100);
  }
  return out;
}

std::string format_serving_result(const BenchmarkMetrics& m, const ReportOptions& o) {
  std::string out = banner(" Serving Benchmark Result ", '=');
  out += row("Successful requests:", m.completed);
  out += row("Failed requests:", m.failed);
  if (o.max_concurrency) out += row("Maximum request concurrency:", *o.max_concurrency);
  if (!std::isinf(o.request_rate)) out += row("Request rate configured (RPS):", o.request_rate);
  out += row("Benchmark duration (s):", m.duration_s);
  out += row("Total input tokens:", m.total_input);
  if (o.has_tokenizer) out += row("Total generated tokens:", m.total_output);
  out += row("Request throughput (req/s):", m.request_throughput);
  if (m.goodput_enabled) out += row("Request goodput (req/s):", m.request_goodput);
  if (o.has_tokenizer) {
    out += row("Output token throughput (tok/s):", m.output_throughput);
    out += row("Peak output token throughput (tok/s):", m.max_output_tokens_per_s);
  }
  // An int, but vLLM formats it with {:<10.2f}.
  out += row("Peak concurrent requests:", static_cast<double>(m.max_concurrent_requests));
  if (o.has_tokenizer) out += row("Total token throughput (tok/s):", m.total_token_throughput);

  for (const LatencySection& s : kSections) {
    if (!selected(s, o)) continue;
    const MetricStats& stats = m.*s.stats;
    out += banner(s.header, '-');
    out += row(fmt::format("Mean {} (ms):", s.name), stats.mean_ms);
    out += row(fmt::format("Median {} (ms):", s.name), stats.median_ms);
    for (const auto& [p, value] : stats.percentiles_ms)
      out += row(fmt::format("P{} {} (ms):", percentile_label(p), s.name), value);
  }
  if (o.spec_decode) out += format_spec_decode(*o.spec_decode);
  out += std::string(kWidth, '=') + "\n";
  return out;
}

std::string format_failed_requests(const std::vector<RequestResult>& results) {
  std::string out;
  int shown = 0;
  for (const RequestResult& r : results) {
    if (r.success) continue;
    if (out.empty()) out = "Failed requests during benchmark run detected (capping to 10):\n";
    if (shown == 10) break;
    out += fmt::format("Error {}: {}\n", shown++, r.error);
  }
  return out;
}

nlohmann::ordered_json serving_result_json(const BenchmarkMetrics& m,
                                           const std::vector<RequestResult>& results, const ReportOptions& o,
                                           const ResultHeader& h) {
  using nlohmann::ordered_json;
  const auto optional_string = [](const std::optional<std::string>& s) {
    return s ? ordered_json(*s) : ordered_json(nullptr);
  };
  ordered_json j;  // main_async(): the setup first
  j["date"] = h.date;
  j["endpoint_type"] = h.backend;  // vLLM keeps it "for backward compatibility"
  j["backend"] = h.backend;
  j["label"] = optional_string(h.label);
  j["model_id"] = h.model_id;
  j["tokenizer_id"] = optional_string(h.tokenizer_id);
  j["num_prompts"] = h.num_prompts;
  for (const auto& [key, value] : h.metadata) j[key] = value;
  j["request_rate"] = std::isinf(o.request_rate) ? ordered_json("inf") : ordered_json(o.request_rate);
  j["burstiness"] = h.burstiness;
  j["max_concurrency"] = o.max_concurrency ? ordered_json(*o.max_concurrency) : ordered_json(nullptr);

  // benchmark()'s result dict.
  const auto per_request = [&](auto field) {
    ordered_json list = ordered_json::array();
    for (const RequestResult& r : results) list.push_back(field(r));
    return list;
  };
  j["duration"] = m.duration_s;
  j["completed"] = m.completed;
  j["failed"] = m.failed;
  j["total_input_tokens"] = m.total_input;
  j["total_output_tokens"] = m.total_output;
  j["request_throughput"] = m.request_throughput;
  j["request_goodput"] = m.goodput_enabled ? ordered_json(m.request_goodput) : ordered_json(nullptr);
  j["output_throughput"] = m.output_throughput;
  j["total_token_throughput"] = m.total_token_throughput;
  j["input_lens"] = per_request([](const RequestResult& r) { return r.prompt_len; });
  j["output_lens"] = m.actual_output_lens;
  j["ttfts"] = per_request([](const RequestResult& r) { return r.ttft; });
  j["itls"] = per_request([](const RequestResult& r) { return r.itl; });
  j["latencies"] = per_request([](const RequestResult& r) { return r.latency; });
  j["start_times"] = per_request([](const RequestResult& r) { return r.start; });
  j["generated_texts"] = per_request([](const RequestResult& r) { return r.generated_text; });
  j["errors"] = per_request([](const RequestResult& r) { return r.error; });
  j["max_output_tokens_per_s"] = m.max_output_tokens_per_s;
  j["max_concurrent_requests"] = m.max_concurrent_requests;
  j["rtfx"] = 0.0;  // audio input only
  if (o.spec_decode) {
    j["spec_decode_acceptance_rate"] = o.spec_decode->acceptance_rate;
    j["spec_decode_acceptance_length"] = o.spec_decode->acceptance_length;
    j["spec_decode_num_drafts"] = o.spec_decode->num_drafts;
    j["spec_decode_draft_tokens"] = o.spec_decode->draft_tokens;
    j["spec_decode_accepted_tokens"] = o.spec_decode->accepted_tokens;
    j["spec_decode_per_position_acceptance_rates"] = o.spec_decode->per_position_acceptance_rates;
  }
  for (const LatencySection& s : kSections) {  // process_one_metric adds what it prints
    if (!selected(s, o)) continue;
    const MetricStats& stats = m.*s.stats;
    j[fmt::format("mean_{}_ms", s.key)] = stats.mean_ms;
    j[fmt::format("median_{}_ms", s.key)] = stats.median_ms;
    j[fmt::format("std_{}_ms", s.key)] = stats.std_ms;
    for (const auto& [p, value] : stats.percentiles_ms)
      j[fmt::format("p{}_{}_ms", percentile_label(p), s.key)] = value;
  }
  if (!h.save_detailed) {  // main_async() drops these without --save-detailed
    for (const char* key :
         {"input_lens", "output_lens", "start_times", "ttfts", "itls", "generated_texts", "errors"})
      j.erase(key);
  }
  return j;
}

std::string python_json_dumps(const nlohmann::ordered_json& doc) {
  std::string out;
  dump(out, doc);
  return out;
}

}  // namespace minke::bench
