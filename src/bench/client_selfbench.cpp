// The client self-benchmark: the client runs on a thread of its own (optionally pinned, with
// the mock's threads kept off its CPU) so that CLOCK_THREAD_CPUTIME_ID is the client alone.
#include "bench/client_selfbench.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "bench/mock_server.h"
#include "bench/stream_client.h"

namespace minke::bench {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

// The same extraction as scan_chunk(), through a DOM.
void parse_with_nlohmann(std::string_view data, ChunkInfo& out) {
  const Json j = Json::parse(data);
  out = ChunkInfo();
  if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty()) {
    out.choices = int64_t(c->size());
    const Json& c0 = (*c)[0];
    if (auto t = c0.find("text"); t != c0.end() && t->is_string()) out.text = t->get<std::string>();
    for (const char* key : {"delta", "message"}) {
      auto d = c0.find(key);
      if (d == c0.end() || !d->is_object()) continue;
      if (auto r = d->find("reasoning_content"); r != d->end() && r->is_string()) out.text += r->get<std::string>();
      else if (auto r2 = d->find("reasoning"); r2 != d->end() && r2->is_string()) out.text += r2->get<std::string>();
      if (auto t = d->find("content"); t != d->end() && t->is_string()) out.text += t->get<std::string>();
    }
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    if (auto ct = u->find("completion_tokens"); ct != u->end() && ct->is_number()) {
      out.has_usage = true;
      out.completion_tokens = ct->get<int64_t>();
    }
  }
  if (auto e = j.find("error"); e != j.end() && !e->is_null()) out.is_error = true;
}

// Pins `thread` to CPUs [first, first + count), or to all the others when `exclude`.
bool pin_to(pthread_t thread, int first, int count, bool exclude) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int n = int(std::thread::hardware_concurrency());
  for (int i = 0; i < n; ++i)
    if ((i >= first && i < first + count) != exclude) CPU_SET(i, &set);
  if (CPU_COUNT(&set) == 0) return false;
  return pthread_setaffinity_np(thread, sizeof set, &set) == 0;
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

Status ensure_fd_limit(int64_t needed) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return io_error("getrlimit(RLIMIT_NOFILE) failed");
  if (lim.rlim_cur != RLIM_INFINITY && rlim_t(needed) > lim.rlim_cur) {
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? rlim_t(needed) : std::min(rlim_t(needed), lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && rlim_t(needed) > lim.rlim_cur)
    return out_of_range("{} streams need {} file descriptors; the limit is {}", needed / 2, needed,
                        uint64_t(lim.rlim_cur));
  return Status::ok();
}

}  // namespace

ChunkParseCost measure_chunk_parse(int64_t iterations) {
  const std::string sample =
      R"({"id":"chatcmpl-3f1c2a9b8e7d4c6a","object":"chat.completion.chunk","created":1718000000,)"
      R"("model":"deepseek-ai/DeepSeek-V3","choices":[{"index":0,"delta":{"content":" the"},)"
      R"("logprobs":null,"finish_reason":null}],"usage":null})";
  ChunkParseCost cost;
  cost.chunk_bytes = int64_t(sample.size());
  ChunkInfo info;
  size_t sink = 0;
  auto t0 = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    (void)scan_chunk(sample, info);
    sink += info.text.size();
  }
  auto t1 = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    parse_with_nlohmann(sample, info);
    sink += info.text.size();
  }
  auto t2 = Clock::now();
  const double n = double(std::max<int64_t>(iterations, 1));
  cost.scan_ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / n;
  cost.nlohmann_ns = std::chrono::duration<double, std::nano>(t2 - t1).count() / n;
  if (sink == 42) cost.chunk_bytes++;  // keeps the loops observable
  return cost;
}

Result<SelfBenchPoint> selfbench_point(int64_t streams, const SelfBenchOptions& o) {
  if (streams <= 0 || o.tokens_per_stream <= 0 || !(o.interval_s > 0))
    return invalid_argument("self-benchmark: streams, tokens and interval must be > 0");
  MINKE_TRY(ensure_fd_limit(2 * streams + 256));
  const int64_t T = o.tokens_per_stream;
  const double I = o.interval_s;

  MockServerOptions mo;
  mo.ttft = I;
  mo.itl = I;
  mo.tokens = T;
  mo.io_threads = o.server_io_threads;
  mo.timer_threads = o.server_timer_threads;
  mo.usage = MockServerOptions::Usage::kAlways;
  // The mock's threads inherit this thread's affinity: keep them off the client's CPU.
  const bool pin = o.client_cpu >= 0;
  cpu_set_t saved;
  if (pin) {
    pthread_getaffinity_np(pthread_self(), sizeof saved, &saved);
    pin_to(pthread_self(), o.client_cpu, o.client_io_threads, /*exclude=*/true);
  }
  auto mock = MockServer::start(mo);
  if (pin) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  if (!mock.is_ok()) return std::move(mock).status();

  ClientOptions co;
  co.base_url = (*mock)->base_url();
  co.io_threads = o.client_io_threads;
  const std::string body = fmt::format(
      R"({{"model":"mock","prompt":"hello","max_tokens":{},"stream":true,"stream_options":{{"include_usage":true}}}})", T);
  std::vector<ClientRequest> requests(static_cast<size_t>(streams));
  for (int64_t i = 0; i < streams; ++i) {
    requests[size_t(i)].path = "/v1/completions";
    requests[size_t(i)].body = body;
    requests[size_t(i)].send_at = I * double(i) / double(streams);  // phases spread over one interval
  }

  Result<std::vector<RequestResult>> results = internal_error("the client thread did not run");
  ClientStats stats;
  const double process_cpu0 = process_cpu_seconds();
  const auto wall0 = Clock::now();
  std::thread client([&] {
    if (pin) pin_to(pthread_self(), o.client_cpu, o.client_io_threads, /*exclude=*/false);
    results = run_requests(co, requests, nullptr, &stats);
  });
  client.join();
  const double process_cpu = process_cpu_seconds() - process_cpu0;
  const double wall = std::chrono::duration<double>(Clock::now() - wall0).count();
  const MockServerStats server = (*mock)->stats();
  (*mock)->stop();
  if (!results.is_ok()) return std::move(results).status();

  SelfBenchPoint p;
  p.streams = streams;
  p.tokens_expected = streams * T;
  std::vector<double> itls;
  itls.reserve(size_t(streams * (T - 1)));
  double lag_sum = 0;
  const double scripted = I + double(T - 1) * I;
  for (const RequestResult& r : *results) {
    p.tokens_received += int64_t(r.token_times.size());
    if (!r.success) {
      if (p.failed++ == 0) p.first_error = r.error;
      continue;
    }
    itls.insert(itls.end(), r.itl.begin(), r.itl.end());
    lag_sum += r.latency - scripted;
  }
  p.wall_s = stats.wall_s;
  p.expected_wall_s = I + scripted;  // the phase spread, then one stream's script
  p.client_cpu_s = stats.cpu_s;
  p.cpu_util = p.wall_s > 0 ? p.client_cpu_s / p.wall_s / std::max(1, o.client_io_threads) : 0;
  p.us_per_token = p.tokens_received > 0 ? p.client_cpu_s * 1e6 / double(p.tokens_received) : 0;
  p.expected_tokens_per_s = double(p.tokens_expected) / p.expected_wall_s;
  p.achieved_tokens_per_s = p.wall_s > 0 ? double(p.tokens_received) / p.wall_s : 0;
  if (!itls.empty()) {
    p.mean_itl_s = std::accumulate(itls.begin(), itls.end(), 0.0) / double(itls.size());
    const size_t k = std::min(itls.size() - 1, size_t(double(itls.size()) * 0.99));
    std::nth_element(itls.begin(), itls.begin() + ptrdiff_t(k), itls.end());
    p.p99_itl_s = itls[k];
  }
  const int64_t ok = streams - p.failed;
  p.mean_client_lag_s = ok > 0 ? lag_sum / double(ok) : 0;
  p.server_max_lag_s = server.max_lag_s;
  cpu_set_t allowed;
  int cpus = int(std::thread::hardware_concurrency());
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) cpus = CPU_COUNT(&allowed);
  p.server_cores = std::max(1, std::min(o.server_io_threads + o.server_timer_threads,
                                        cpus - (pin ? o.client_io_threads : 0)));
  p.server_cpu_cores = wall > 0 ? std::max(0.0, process_cpu - stats.cpu_s) / wall : 0;
  p.server_limited = server.max_lag_s > I || p.server_cpu_cores >= 0.85 * p.server_cores;

  if (p.failed > 0) p.why = fmt::format("{} requests failed, first: {}", p.failed, p.first_error);
  else if (p.achieved_tokens_per_s < p.expected_tokens_per_s * (1 - o.tolerance))
    p.why = fmt::format("token rate {:.0f}/s below the scheduled {:.0f}/s", p.achieved_tokens_per_s,
                        p.expected_tokens_per_s);
  else if (p.mean_itl_s > I * (1 + o.tolerance))
    p.why = fmt::format("mean ITL {:.2f} ms over the scripted {:.2f} ms", p.mean_itl_s * 1e3, I * 1e3);
  else if (p.cpu_util > o.max_cpu_util)
    p.why = fmt::format("client thread at {:.0f}% CPU", p.cpu_util * 100);
  p.kept_up = p.why.empty();
  if (p.server_limited)
    p.why += fmt::format("{}server-limited: the mock's timers lagged {:.1f} ms, its threads used {:.2f} of {} cores",
                         p.why.empty() ? "" : "; ", p.server_max_lag_s * 1e3, p.server_cpu_cores, p.server_cores);
  return p;
}

Result<SelfBenchReport> run_selfbench(const SelfBenchOptions& o) {
  SelfBenchReport report;
  report.parse = measure_chunk_parse();
  for (int64_t n = std::max<int64_t>(o.start_streams, 1); n <= o.max_streams; n *= 2) {
    MINKE_ASSIGN_OR_RETURN(SelfBenchPoint p, selfbench_point(n, o));
    report.points.push_back(p);
    if (!p.kept_up || p.server_limited) break;
    report.max_sustained_streams = n;
  }
  return report;
}

}  // namespace minke::bench
