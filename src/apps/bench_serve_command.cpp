// `minke bench serve`: vLLM's online serving benchmark against any OpenAI-compatible server.
// Dataset -> arrival times -> the async streaming client -> vLLM's metrics and table. The
// flags carry vLLM's names and meanings; the output reads like `vllm bench serve`'s.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "apps/bench_commands.h"
#include "bench/arrivals.h"
#include "bench/bench_report.h"
#include "bench/datasets.h"
#include "bench/progress_bar.h"
#include "bench/stream_client.h"
#include "model/demo_model.h"
#include "tokenizer/tokenizer.h"

namespace minke {
namespace {

using namespace bench;
using Json = nlohmann::json;

struct ServeBenchOptions {
  std::string base_url, host = "127.0.0.1", endpoint = "/v1/completions", model, tokenizer, api_key;
  int port = 8000;
  DatasetSpec dataset;
  std::string request_rate = "inf";
  double burstiness = 1.0;
  std::optional<int64_t> max_concurrency;
  bool ignore_eos = false, disable_tqdm = false, save_result = false;
  std::optional<double> temperature;
  std::string percentile_metrics, metric_percentiles = "99", result_dir, result_filename;
  std::vector<std::string> goodput;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "minke bench serve: %s\n", message.c_str());
  return 2;
}

// --tokenizer, else the model id when it is a local directory with a tokenizer, else the
// DeepSeek-V3 tokenizer minke ships with.
Result<Tokenizer> load_tokenizer(const ServeBenchOptions& o, const std::string& model_id) {
  if (!o.tokenizer.empty()) return Tokenizer::from_dir(o.tokenizer);
  if (std::filesystem::exists(std::filesystem::path(model_id) / "tokenizer.json")) return Tokenizer::from_dir(model_id);
  return Tokenizer::from_dir(default_demo_paths().tokenizer_dir);
}

// The server's own token count (/tokenize), when it offers one: random prompts are aligned to it.
TokenCounter server_counter(const std::string& base, const std::string& model, const std::string& key) {
  auto count = [base, model, key](const std::string& prompt) -> Result<int64_t> {
    MINKE_ASSIGN_OR_RETURN(std::string body, http_post(base + "/tokenize", Json{{"model", model}, {"prompt", prompt}}.dump(), key));
    const Json j = Json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("count") || !j["count"].is_number_integer())
      return invalid_argument("/tokenize answered without a 'count': {}", body.substr(0, 200));
    return j["count"].get<int64_t>();
  };
  if (!count("Hello").is_ok()) return nullptr;
  return count;
}

std::string request_body(const ServeBenchOptions& o, const std::string& model, const BenchRequest& r, bool chat) {
  Json body = {{"model", model}};
  if (chat) {
    body["messages"] = Json::array({{{"role", "user"}, {"content", r.prompt}}});
    body["max_completion_tokens"] = r.expected_output_len;
  } else {
    body["prompt"] = r.prompt;
    body["max_tokens"] = r.expected_output_len;
  }
  body["temperature"] = o.temperature.value_or(0.0);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  if (o.ignore_eos) body["ignore_eos"] = true;
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Python's str(float) for the values vLLM prints: "inf", "1.0", "2.5".
std::string python_float(double v) {
  if (std::isinf(v)) return "inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.1f}", v);
  return fmt::format("{}", v);
}

int run_bench_serve(ServeBenchOptions o) {
  if (o.api_key.empty())
    if (const char* env = std::getenv("OPENAI_API_KEY")) o.api_key = env;
  const std::string base = o.base_url.empty() ? "http://" + o.host + ":" + std::to_string(o.port) : o.base_url;
  double rate = std::numeric_limits<double>::infinity();
  if (o.request_rate != "inf") {
    char* end = nullptr;
    rate = std::strtod(o.request_rate.c_str(), &end);
    if (*end != '\0' || !(rate > 0)) return fail("--request-rate must be a positive number or inf, got " + o.request_rate);
  }
  auto percentiles = parse_percentiles(o.metric_percentiles);
  auto metric_names = parse_percentile_metrics(o.percentile_metrics);
  auto slos = parse_goodput(o.goodput);
  if (!percentiles.is_ok()) return fail(percentiles.status().message());
  if (!metric_names.is_ok()) return fail(metric_names.status().message());
  if (!slos.is_ok()) return fail(slos.status().message());
  const bool chat = o.endpoint.find("chat") != std::string::npos;

  std::string model = o.model;
  if (model.empty()) {  // vLLM: the server's first model
    auto models = http_get(base + "/v1/models", o.api_key);
    if (!models.is_ok()) return fail("cannot list the server's models (give --model): " + models.status().message());
    const Json j = Json::parse(*models, nullptr, false);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].empty() || !j["data"][0].contains("id"))
      return fail("/v1/models answered without a model; give --model");
    model = j["data"][0]["id"].get<std::string>();
  }
  auto tok = load_tokenizer(o, model);
  if (!tok.is_ok()) return fail(tok.status().to_string());
  DatasetSpec spec = o.dataset;
  if (spec.name == "random" && !chat) spec.count_tokens = server_counter(base, model, o.api_key);
  auto dataset = load_dataset(*tok, spec);
  if (!dataset.is_ok()) return fail(dataset.status().to_string());
  if (dataset->empty()) return fail("the dataset is empty");
  auto times = arrival_times(int64_t(dataset->size()), {rate, o.burstiness, o.dataset.seed});
  if (!times.is_ok()) return fail(times.status().message());

  std::vector<ClientRequest> requests;
  for (size_t i = 0; i < dataset->size(); ++i)
    requests.push_back({o.endpoint, request_body(o, model, (*dataset)[i], chat), (*times)[i], chat, (*dataset)[i].prompt_len});
  ClientOptions client;
  client.base_url = base;
  client.api_key = o.api_key;
  client.max_concurrency = o.max_concurrency.value_or(0);
  client.count_textless_chunks = true;  // vLLM's rule: every chunk with choices times TTFT and ITL

  std::printf("Starting initial single prompt test run...\n");
  std::fflush(stdout);
  ClientRequest probe = requests.front();
  probe.send_at = 0;
  auto probe_result = run_requests(client, {probe});
  if (!probe_result.is_ok()) return fail(probe_result.status().message());
  if (!(*probe_result)[0].success)
    return fail("Initial test run failed - Please make sure benchmark arguments are correctly specified. Error: " +
                (*probe_result)[0].error);
  std::printf("Initial test run completed. Starting main benchmark run...\n");
  std::printf("Traffic request rate: %s\n", python_float(rate).c_str());
  std::printf("Burstiness factor: %s (%s)\n", python_float(o.burstiness).c_str(),
              o.burstiness == 1.0 ? "Poisson process" : "Gamma distribution");
  std::printf("Maximum request concurrency: %s\n",
              o.max_concurrency ? std::to_string(*o.max_concurrency).c_str() : "None");
  std::fflush(stdout);

  // Speculative decoding: the server's acceptance counters before and after, when it has them.
  auto spec_counters = [&]() -> std::optional<SpecDecodeCounters> {
    auto text = http_get(base + "/metrics", o.api_key);
    return text.is_ok() ? parse_spec_decode_counters(*text) : std::nullopt;
  };
  const std::optional<SpecDecodeCounters> spec_before = spec_counters();
  ProgressBar bar(int64_t(requests.size()), !o.disable_tqdm);
  ClientStats stats;
  auto results = run_requests(client, requests, [&](int64_t done, int64_t) { bar.update(done); }, &stats);
  bar.finish();
  if (!results.is_ok()) return fail(results.status().message());
  for (RequestResult& r : *results)  // vLLM's fallback when the server sent no usage
    if (r.success && !r.output_tokens_from_usage)
      r.output_tokens = int64_t(tok->encode(r.generated_text, false).size());

  MetricsOptions mo;
  mo.percentiles = *percentiles;
  mo.goodput_slos_ms = *slos;
  const BenchmarkMetrics metrics = compute_metrics(*results, stats.wall_s, mo);
  ReportOptions ro;
  ro.max_concurrency = o.max_concurrency;
  ro.request_rate = rate;
  ro.percentile_metrics = *metric_names;
  if (spec_before)
    if (const std::optional<SpecDecodeCounters> spec_after = spec_counters())
      ro.spec_decode = spec_decode_stats(*spec_before, *spec_after);
  std::printf("%s", format_failed_requests(*results).c_str());
  if (metrics.completed == 0) std::fprintf(stderr, "%s\n", std::string(kAllRequestsFailedWarning).c_str());
  std::printf("%s", format_serving_result(metrics, ro).c_str());
  std::fflush(stdout);

  if (o.save_result || !o.result_filename.empty()) {
    char date[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y%m%d-%H%M%S", std::localtime(&now));
    ResultHeader h;
    h.date = date;
    h.model_id = model;
    h.tokenizer_id = o.tokenizer.empty() ? std::optional<std::string>() : o.tokenizer;
    h.num_prompts = int64_t(requests.size());
    h.burstiness = o.burstiness;
    std::string name = o.result_filename;
    if (name.empty()) {
      const std::string base_model = std::filesystem::path(model).filename().string();
      name = "openai-" + python_float(rate) + "qps" +
             (o.max_concurrency ? "-concurrency" + std::to_string(*o.max_concurrency) : "") + "-" + base_model + "-" +
             date + ".json";
    }
    const std::filesystem::path path = o.result_dir.empty() ? std::filesystem::path(name)
                                                            : std::filesystem::path(o.result_dir) / name;
    std::ofstream out(path);
    out << python_json_dumps(serving_result_json(metrics, *results, ro, h)) << "\n";
    if (!out) return fail("cannot write " + path.string());
  }
  return metrics.completed > 0 ? 0 : 1;
}

}  // namespace

Command add_bench_serve_command(CLI::App& bench) {
  auto o = std::make_shared<ServeBenchOptions>();
  CLI::App* cmd = bench.add_subcommand("serve", "Online: benchmark an OpenAI-compatible server (vllm bench serve)");
  cmd->add_option("--base-url", o->base_url, "Server URL, e.g. http://127.0.0.1:8000 (default: --host and --port)");
  cmd->add_option("--host", o->host, "Server host");
  cmd->add_option("--port", o->port, "Server port");
  cmd->add_option("--endpoint", o->endpoint, "/v1/completions or /v1/chat/completions");
  cmd->add_option("--model", o->model, "Model name sent in requests (default: the server's first model)");
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory (default: the model's if local, else DeepSeek-V3's)");
  cmd->add_option("--api-key", o->api_key, "Bearer key (default: $OPENAI_API_KEY)");
  add_dataset_flags(*cmd, o->dataset);
  cmd->add_option("--request-rate", o->request_rate, "Requests/s (inf: all at once)");
  cmd->add_option("--burstiness", o->burstiness, "Gamma shape of the arrivals (1: Poisson)");
  cmd->add_option("--max-concurrency", o->max_concurrency, "Requests in flight at most")->check(CLI::PositiveNumber);
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Send ignore_eos (every request generates max_tokens)");
  cmd->add_option("--temperature", o->temperature, "Sampling temperature (default 0: greedy)");
  cmd->add_option("--percentile-metrics", o->percentile_metrics, "Among ttft,tpot,itl,e2el (default ttft,tpot,itl)");
  cmd->add_option("--metric-percentiles", o->metric_percentiles, "Percentiles to report, e.g. 25,50,99");
  cmd->add_option("--goodput", o->goodput, "SLOs such as ttft:100 tpot:20 e2el:1000 (ms)");
  cmd->add_flag("--save-result", o->save_result, "Write the results as JSON");
  cmd->add_option("--result-dir", o->result_dir, "Where --save-result writes");
  cmd->add_option("--result-filename", o->result_filename, "The JSON file name (implies --save-result)");
  cmd->add_flag("--disable-tqdm", o->disable_tqdm, "No progress bar");
  return {cmd, [o] { return run_bench_serve(*o); }};
}

}  // namespace minke
