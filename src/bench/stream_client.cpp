// The benchmark client: URL parsing and the Beast engine
// (Runner) that schedules, connects, writes, reads and times requests on one io_context. The
// only Beast translation unit of minke_bench.
#include "bench/stream_client.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <thread>

namespace minke::bench {

// ---------------------------------------------------------------------------- URLs

Result<ParsedUrl> parse_http_url(std::string_view url) {
  std::string_view rest = url;
  if (const size_t s = rest.find("://"); s != std::string_view::npos) {
    std::string scheme(rest.substr(0, s));
    for (char& c : scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "https")
      return unsupported("{}: https is not supported (minke bench speaks plain HTTP); use http://",
                         url);
    if (scheme != "http") return invalid_argument("{}: only http:// URLs are supported", url);
    rest.remove_prefix(s + 3);
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos)
    return invalid_argument("{}: credentials in the URL are not supported", url);
  ParsedUrl out;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8000
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid_argument("{}: unterminated [IPv6]", url);
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid_argument("{}: bad text after [IPv6]", url);
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return invalid_argument("{}: no host", url);
  if (port.empty()) port = "80";
  int port_num = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_num);
  if (ec != std::errc() || end != port.data() + port.size() || port_num <= 0 || port_num > 65535)
    return invalid_argument("{}: bad port '{}'", url, port);
  out.port = std::string(port);
  if (const size_t q = path.find_first_of("?#"); q != std::string_view::npos)
    path = path.substr(0, q);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.prefix = std::string(path);
  return out;
}

// ---------------------------------------------------------------------------- the engine

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr size_t kErrorBodyCap = 64 * 1024;   // non-2xx bodies: enough for the excerpt
constexpr size_t kJsonBodyCap = 64u << 20;    // non-streamed 2xx bodies
constexpr size_t kExcerpt = 512;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

std::string excerpt(std::string_view s) {
  std::string out(s.substr(0, kExcerpt));
  if (s.size() > kExcerpt) out += "...";
  return out;
}

bool contains_nocase(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

// One request as the engine sends it.
struct Outgoing {
  std::string_view method;
  std::string target;          // prefix + path
  const std::string* body;     // may be empty (GET)
  double send_at = 0;
  int64_t prompt_len = 0;
};

// A TCP connection; in a job while in flight, in the idle pool between requests.
struct Conn {
  explicit Conn(asio::io_context& io) : sock(io) {}
  tcp::socket sock;
  beast::flat_buffer buf;
  std::optional<http::response_parser<http::string_body>> parser;
};

// An I/O thread's share: its io_context, the connections it owns and what it counted. With one
// I/O thread, that is the calling thread and its io_context also schedules.
struct Worker {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;  // keeps run() up
  std::vector<std::unique_ptr<Conn>> idle;  // kept-alive connections, reused LIFO
  ChunkInfo chunk;                          // scratch, reused for every chunk
  ClientStats stats;
  double cpu_s = 0;
  std::thread thread;
};

// The state of one request from dispatch to completion. Handlers hold Job& (jobs_ never moves).
struct Job {
  size_t index = 0;
  Worker* w = nullptr;  // runs every operation of this request
  std::unique_ptr<Conn> conn;
  std::optional<asio::steady_timer> timer;  // the per-request timeout
  Clock::time_point start, last_token, done_at;
  bool reused = false, retried = false, finished = false, timed_out = false;
  bool header_seen = false, sse = false, saw_done = false, have_token = false;
  int status = 0;
  std::string head;     // request line and headers
  SseParser events;     // SSE responses
  std::string body;     // other responses (errors, non-streamed JSON, one-shot requests)
  std::string failure;  // set while Beast parses; fail() runs once control is back
  // The parser's chunk-body callback (Beast keeps a reference to it).
  std::function<size_t(std::uint64_t, beast::string_view, error_code&)> on_chunk;
};

class Runner {
 public:
  Runner(const ParsedUrl& url, const ClientOptions& options, std::vector<Outgoing> out, bool raw)
      : url_(url), options_(options), out_(std::move(out)), raw_(raw) {
    const int n = raw ? 1 : std::max(1, options.io_threads);
    for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
  }

  // Resolves the host, runs the schedule on this thread (and the sockets on io_threads - 1 more
  // when there are several), returns when every request is done.
  Status run(ProgressFn progress) {
    progress_ = std::move(progress);
    if (out_.empty()) return Status::ok();
    error_code ec;
    tcp::resolver resolver(sched());
    endpoints_ = resolver.resolve(url_.host, url_.port, ec);
    if (ec) return unavailable("cannot resolve {}:{}: {}", url_.host, url_.port, ec.message());
    const bool v6 = url_.host.find(':') != std::string::npos;
    host_header_ = (v6 ? "[" + url_.host + "]" : url_.host) + (url_.port == "80" ? "" : ":" + url_.port);
    results_.resize(out_.size());
    jobs_.resize(out_.size());
    order_.resize(out_.size());
    for (size_t i = 0; i < out_.size(); ++i) {
      order_[i] = i;
      jobs_[i].index = i;
      results_[i].prompt_len = out_[i].prompt_len;
    }
    std::stable_sort(order_.begin(), order_.end(),
                     [&](size_t a, size_t b) { return out_[a].send_at < out_[b].send_at; });
    release_.emplace(sched());
    if (threaded()) {
      sched_guard_.emplace(sched_io_.get_executor());  // done() ends it after the last request
      for (auto& w : workers_) {
        w->guard.emplace(w->io.get_executor());
        w->thread = std::thread([w = w.get()] {
          const double cpu0 = thread_cpu_seconds();
          w->io.run();
          w->cpu_s = thread_cpu_seconds() - cpu0;
        });
      }
    }
    const double cpu0 = thread_cpu_seconds();
    t0_ = Clock::now();
    release();
    sched().run();
    for (auto& w : workers_)
      if (w->thread.joinable()) w->thread.join();
    stats_.wall_s = seconds(Clock::now() - t0_);
    stats_.cpu_s = thread_cpu_seconds() - cpu0;
    for (auto& w : workers_) {
      stats_.cpu_s += w->cpu_s;
      stats_.connections_opened += w->stats.connections_opened;
      stats_.bytes_received += w->stats.bytes_received;
      stats_.events += w->stats.events;
      stats_.token_events += w->stats.token_events;
    }
    return Status::ok();
  }

  std::vector<RequestResult>& results() { return results_; }
  const ClientStats& stats() const { return stats_; }
  int raw_status() const { return jobs_.empty() ? 0 : jobs_[0].status; }
  std::string& raw_body() { return raw_body_; }

 private:
  bool threaded() const { return workers_.size() > 1; }
  asio::io_context& sched() { return threaded() ? sched_io_ : workers_[0]->io; }
  // Runs fn on the scheduling thread / on w's thread: at once when that is this thread.
  template <class F>
  void on_sched(F&& fn) {
    if (threaded()) asio::post(sched_io_, std::forward<F>(fn));
    else fn();
  }
  template <class F>
  void on_worker(Worker& w, F&& fn) {
    if (threaded()) asio::post(w.io, std::forward<F>(fn));
    else fn();
  }

  Clock::time_point due(size_t i) const {
    return t0_ + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(std::max(0.0, out_[i].send_at)));
  }

  // Moves every request whose time has come to the ready queue, then waits for the next one.
  void release() {
    const auto now = Clock::now();
    while (next_ < order_.size() && due(order_[next_]) <= now) ready_.push_back(order_[next_++]);
    pump();
    if (next_ == order_.size()) return;
    release_->expires_at(due(order_[next_]));
    release_->async_wait([this](error_code ec) {
      if (!ec) release();
    });
  }

  // Starts ready requests while the concurrency limit allows (vLLM's semaphore, FIFO).
  void pump() {
    while (!ready_.empty() && (options_.max_concurrency <= 0 || in_flight_ < options_.max_concurrency)) {
      const size_t i = ready_.front();
      ready_.pop_front();
      dispatch(jobs_[i]);
    }
  }

  // On the scheduling thread: the request leaves the queue now; a worker takes it from here.
  void dispatch(Job& job) {
    job.start = Clock::now();
    results_[job.index].start = seconds(job.start - t0_);
    stats_.peak_in_flight = std::max(stats_.peak_in_flight, ++in_flight_);
    const Outgoing& o = out_[job.index];
    job.head = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: minke-bench\r\n", o.method,
                           o.target.empty() ? "/" : o.target, host_header_);
    if (!o.body->empty() || o.method != "GET")
      job.head += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", o.body->size());
    if (!options_.api_key.empty()) job.head += fmt::format("Authorization: Bearer {}\r\n", options_.api_key);
    job.head += "\r\n";
    job.w = workers_[next_worker_++ % workers_.size()].get();
    on_worker(*job.w, [this, &job] { start(job); });
  }

  void start(Job& job) {
    Worker& w = *job.w;
    job.timer.emplace(w.io);
    job.timer->expires_after(options_.timeout);
    job.timer->async_wait([this, &job](error_code ec) {
      if (ec || job.finished) return;
      job.timed_out = true;
      if (job.conn) job.conn->sock.close(ec);  // the pending operation ends with an error
    });
    if (!w.idle.empty()) {
      job.conn = std::move(w.idle.back());
      w.idle.pop_back();
      job.reused = true;
      return send(job);
    }
    connect(job);
  }

  void connect(Job& job) {
    job.conn = std::make_unique<Conn>(job.w->io);
    job.reused = false;
    job.w->stats.connections_opened++;
    asio::async_connect(job.conn->sock, endpoints_, [this, &job](error_code ec, const tcp::endpoint&) {
      if (ec)
        return fail(job, job.timed_out ? timeout_message()
                                       : fmt::format("cannot connect to {}:{}: {}", url_.host, url_.port,
                                                     ec.message()));
      job.conn->sock.set_option(tcp::no_delay(true), ec);
      send(job);
    });
  }

  void send(Job& job) {
    auto& p = job.conn->parser.emplace();
    p.eager(true);
    p.body_limit(std::numeric_limits<std::uint64_t>::max());  // bodies are drained as they come
    // Chunked bodies go through this callback as Beast decodes them: http::async_read_some
    // keeps reading while a read ends inside a chunk's framing, which an SSE read always
    // does, so its completion would come only at the end of the stream.
    job.on_chunk = [this, &job](std::uint64_t, beast::string_view data, error_code& ec) {
      if (!on_body(job, std::string_view(data.data(), data.size()), Clock::now()))
        ec = asio::error::operation_aborted;  // stops the parser; job.failure says why
      return data.size();
    };
    p.on_chunk_body(job.on_chunk);
    job.header_seen = false;
    std::array<asio::const_buffer, 2> bufs{asio::buffer(job.head), asio::buffer(*out_[job.index].body)};
    asio::async_write(job.conn->sock, bufs, [this, &job](error_code ec, size_t) {
      if (ec) return on_error(job, ec);
      read(job);
    });
  }

  void read(Job& job) {
    Conn& c = *job.conn;
    http::async_read_some(c.sock, c.buf, *c.parser, [this, &job](error_code ec, size_t) { on_read(job, ec); });
  }

  void on_read(Job& job, error_code ec) {
    const auto now = Clock::now();
    auto& p = *job.conn->parser;
    std::string& body = p.get().body();  // bodies that are not chunked (Content-Length, to EOF)
    if (!body.empty()) {
      on_body(job, body, now);
      body.clear();
    }
    if (!job.failure.empty()) return fail(job, std::move(job.failure));
    if (ec) return on_error(job, ec);
    if (p.is_done()) return complete(job, now);
    read(job);
  }

  void see_header(Job& job) {
    const auto& m = job.conn->parser->get();
    job.header_seen = true;
    job.status = int(m.result_int());
    const auto ct = m[http::field::content_type];
    job.sse = !raw_ && job.status / 100 == 2 &&
              contains_nocase(std::string_view(ct.data(), ct.size()), "text/event-stream");
  }

  // Body bytes as they arrive; false when the job has failed (job.failure).
  bool on_body(Job& job, std::string_view data, Clock::time_point now) {
    if (!job.header_seen) see_header(job);
    job.w->stats.bytes_received += int64_t(data.size());
    if (job.sse) {
      job.events.feed(data);
      while (auto event = job.events.next())
        if (!on_event(job, *event, now)) return false;
      return true;
    }
    job.body.append(data);
    if (job.status / 100 != 2 && job.body.size() > kErrorBodyCap) job.failure = http_error(job);
    else if (job.body.size() > kJsonBodyCap) job.failure = fmt::format("response body over {} bytes", kJsonBodyCap);
    return job.failure.empty();
  }

  // Handles one SSE event; false when it failed the job (job.failure).
  bool on_event(Job& job, std::string_view data, Clock::time_point now) {
    job.w->stats.events++;
    ChunkInfo& chunk = job.w->chunk;
    if (job.saw_done) return true;
    if (data == "[DONE]") {
      job.saw_done = true;
      job.done_at = now;
      return true;
    }
    if (Status st = scan_chunk(data, chunk); !st.is_ok())
      job.failure = "invalid JSON in a stream chunk: " + excerpt(data);
    else if (chunk.is_error)
      job.failure = "error event: " + excerpt(chunk.error_message);
    else
      apply_chunk(job, now);
    return job.failure.empty();
  }

  // vLLM's bookkeeping: the first token-carrying chunk sets TTFT, each later one adds an ITL.
  void apply_chunk(Job& job, Clock::time_point now) {
    const ChunkInfo& chunk = job.w->chunk;
    RequestResult& r = results_[job.index];
    if (chunk.has_usage) {
      r.output_tokens = chunk.completion_tokens;
      r.output_tokens_from_usage = true;
    }
    if (chunk.prompt_tokens >= 0) r.prompt_len = chunk.prompt_tokens;
    const bool token = chunk.choices > 0 &&
                       (options_.count_textless_chunks || !chunk.text.empty() || chunk.tool_call_delta);
    if (token) {
      if (!job.have_token) r.ttft = seconds(now - job.start);
      else r.itl.push_back(seconds(now - job.last_token));
      job.have_token = true;
      job.last_token = now;
      r.token_times.push_back(seconds(now - t0_));
      job.w->stats.token_events++;
    }
    r.generated_text += chunk.text;
  }

  // The whole response has arrived.
  void complete(Job& job, Clock::time_point now) {
    if (!job.header_seen) see_header(job);
    auto& p = *job.conn->parser;
    const bool reuse = p.keep_alive() && job.conn->buf.size() == 0;
    if (raw_) {
      raw_body_ = std::move(job.body);
      return finish(job, reuse, true);
    }
    if (job.status / 100 != 2) return fail(job, http_error(job), reuse);
    RequestResult& r = results_[job.index];
    if (job.sse) {
      while (auto event = job.events.finish())
        if (!on_event(job, *event, now)) return fail(job, std::move(job.failure), reuse);
      if (!job.saw_done) return fail(job, "the stream ended without data: [DONE]", reuse);
      r.latency = seconds(job.done_at - job.start);
    } else {  // a non-streamed JSON response: one chunk
      ChunkInfo& chunk = job.w->chunk;
      if (Status st = scan_chunk(job.body, chunk); !st.is_ok())
        return fail(job, "invalid JSON response: " + excerpt(job.body), reuse);
      if (chunk.is_error) return fail(job, "error response: " + excerpt(chunk.error_message), reuse);
      apply_chunk(job, now);
      r.latency = seconds(now - job.start);
    }
    if (!job.have_token)
      return fail(job, "no chunk carried tokens (vLLM: never received a valid chunk to calculate TTFT)", reuse);
    finish(job, reuse, true);
  }

  void on_error(Job& job, error_code ec) {
    const bool nothing_back = !job.conn->parser || !job.conn->parser->got_some();
    if (job.reused && !job.retried && !job.timed_out && nothing_back) {
      // A kept-alive connection the server had closed while idle: try once on a new one.
      job.retried = true;
      error_code ignored;
      job.conn->sock.close(ignored);
      return connect(job);
    }
    if (job.timed_out) return fail(job, timeout_message());
    const bool closed = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                        ec == asio::error::eof || ec == asio::error::connection_reset ||
                        ec == asio::error::broken_pipe;
    const int64_t tokens = int64_t(results_[job.index].token_times.size());
    if (closed)
      return fail(job, fmt::format("connection closed by the server before the response ended ({}; "
                                   "after {} token chunks)", ec.message(), tokens));
    fail(job, fmt::format("connection error: {} (after {} token chunks)", ec.message(), tokens));
  }

  std::string http_error(const Job& job) const {
    const auto reason = job.conn->parser->get().reason();
    return fmt::format("HTTP {} {}: {}", job.status, std::string_view(reason.data(), reason.size()),
                       excerpt(job.body));
  }
  std::string timeout_message() const {
    return fmt::format("timed out after {} s", options_.timeout.count());
  }

  void fail(Job& job, std::string error, bool reuse = false) {
    RequestResult& r = results_[job.index];
    r.success = false;
    r.error = std::move(error);
    finish(job, reuse, false);
  }

  // On the job's worker: frees the connection (to the pool or closed), then tells the scheduler.
  void finish(Job& job, bool reuse, bool success) {
    job.finished = true;
    results_[job.index].success = success;
    job.timer.reset();  // cancels the wait; its handler sees operation_aborted
    job.events = SseParser();
    std::string().swap(job.head);
    std::string().swap(job.body);
    job.on_chunk = nullptr;
    if (job.conn) {
      if (reuse) {
        job.conn->parser.reset();
        job.w->idle.push_back(std::move(job.conn));
      } else {
        error_code ignored;
        job.conn->sock.close(ignored);
        job.conn.reset();
      }
    }
    on_sched([this] { done(); });
  }

  void done() {
    --in_flight_;
    ++done_;
    if (progress_) progress_(done_, int64_t(out_.size()));
    if (done_ < int64_t(out_.size())) return pump();
    release_->cancel();
    sched_guard_.reset();
    for (auto& w : workers_)  // idle connections close; the I/O threads run out of work
      on_worker(*w, [w = w.get()] {
        w->idle.clear();
        w->guard.reset();
      });
  }

  ParsedUrl url_;
  const ClientOptions& options_;
  std::vector<Outgoing> out_;
  bool raw_;  // one-shot mode: keep the status and body, no SSE
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t next_worker_ = 0;
  asio::io_context sched_io_{1};  // the scheduling thread's, when there are workers apart
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> sched_guard_;
  std::optional<asio::steady_timer> release_;
  tcp::resolver::results_type endpoints_;
  std::string host_header_;
  ProgressFn progress_;
  Clock::time_point t0_;
  std::vector<size_t> order_;  // request indices by send time
  size_t next_ = 0;            // order_[next_] is the next to release
  std::deque<size_t> ready_;   // released, waiting for a concurrency slot
  std::vector<Job> jobs_;
  std::vector<RequestResult> results_;
  int64_t in_flight_ = 0, done_ = 0;  // scheduling thread only
  ClientStats stats_;
  std::string raw_body_;
};

Result<std::string> fetch(std::string_view method, const std::string& url, const std::string& body,
                          const std::string& api_key, std::chrono::seconds timeout) {
  MINKE_ASSIGN_OR_RETURN(ParsedUrl parsed, parse_http_url(url));
  std::string_view rest = url;
  if (const size_t s = rest.find("://"); s != std::string_view::npos) rest.remove_prefix(s + 3);
  const size_t slash = rest.find('/');
  Outgoing o{method, slash == std::string_view::npos ? "/" : std::string(rest.substr(slash)), &body};
  ClientOptions options;
  options.api_key = api_key;
  options.timeout = timeout;
  Runner runner(parsed, options, {o}, /*raw=*/true);
  MINKE_TRY(runner.run(nullptr));
  const RequestResult& r = runner.results()[0];
  if (!r.error.empty()) return unavailable("{} {}: {}", method, url, r.error);
  if (runner.raw_status() / 100 != 2)
    return unavailable("{} {}: HTTP {}: {}", method, url, runner.raw_status(), excerpt(runner.raw_body()));
  return std::move(runner.raw_body());
}

}  // namespace

Result<std::vector<RequestResult>> run_requests(const ClientOptions& options,
                                                const std::vector<ClientRequest>& requests,
                                                ProgressFn progress, ClientStats* stats) {
  MINKE_ASSIGN_OR_RETURN(ParsedUrl url, parse_http_url(options.base_url));
  if (options.timeout.count() <= 0) return invalid_argument("the request timeout must be > 0");
  std::vector<Outgoing> out;
  out.reserve(requests.size());
  for (const ClientRequest& r : requests) {
    if (!(r.send_at >= 0) || !std::isfinite(r.send_at))
      return invalid_argument("send_at must be finite and >= 0, got {}", r.send_at);
    std::string target = url.prefix;
    if (r.path.empty() || r.path.front() != '/') target += '/';
    target += r.path;
    out.push_back({"POST", std::move(target), &r.body, r.send_at, r.prompt_len});
  }
  Runner runner(url, options, std::move(out), /*raw=*/false);
  MINKE_TRY(runner.run(std::move(progress)));
  if (stats) *stats = runner.stats();
  return std::move(runner.results());
}

Result<std::string> http_get(const std::string& url, const std::string& api_key,
                             std::chrono::seconds timeout) {
  static const std::string kEmpty;
  return fetch("GET", url, kEmpty, api_key, timeout);
}

Result<std::string> http_post(const std::string& url, const std::string& body,
                              const std::string& api_key, std::chrono::seconds timeout) {
  return fetch("POST", url, body, api_key, timeout);
}

}  // namespace minke::bench
