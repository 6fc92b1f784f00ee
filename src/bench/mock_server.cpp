// MockServer: handlers parse the request, prepare the stream's chunks and push its first due
// time onto a heap; a timer thread pops due streams, sends their next chunk and pushes them back
// (absolute times: first token at arrival + ttft, then every itl, so a late tick does not shift
// the schedule). With timer_threads > 1, streams are spread over that many heaps and threads.
#include "bench/mock_server.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

#include "server/http_server.h"

namespace minke::bench {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Stream {
  int64_t index = 0;
  bool chat = false;
  bool streamed = true;
  bool usage = false;
  MockFault fault = MockFault::kNone;
  int64_t total = 0;        // tokens to send
  int64_t sent = 0;         // timer thread only
  int64_t prompt_tokens = 0;
  HttpResponder responder;  // non-streamed: answered at the end
  std::shared_ptr<SseStream> sse;
  std::string role_event, token_event, last_event;  // prepared once: the timer sends copies
  std::atomic<bool> gone{false};  // the client disconnected
  explicit Stream(HttpResponder r) : responder(std::move(r)) {}
};

struct Due {
  Clock::time_point at;
  std::shared_ptr<Stream> stream;
  bool operator>(const Due& o) const { return at > o.at; }
};

MockFault parse_fault(std::string_view name) {
  if (name == "http_500") return MockFault::kHttp500;
  if (name == "drop") return MockFault::kDrop;
  if (name == "error_event") return MockFault::kErrorEvent;
  if (name == "no_done") return MockFault::kNoDone;
  return MockFault::kNone;
}

int64_t count_words(std::string_view s) {
  int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

int64_t prompt_words(const Json& body) {
  int64_t n = 0;
  if (auto it = body.find("prompt"); it != body.end() && it->is_string())
    n += count_words(it->get_ref<const std::string&>());
  if (auto it = body.find("messages"); it != body.end() && it->is_array())
    for (const Json& m : *it)
      if (auto c = m.find("content"); c != m.end() && c->is_string())
        n += count_words(c->get_ref<const std::string&>());
  return n;
}

Clock::duration to_duration(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::max(0.0, s)));
}

}  // namespace

struct MockServer::Impl {
  explicit Impl(MockServerOptions o) : opt(std::move(o)), server(http_config(opt)) {}

  static HttpServerConfig http_config(const MockServerOptions& o) {
    HttpServerConfig c;
    c.port = 0;
    c.io_threads = o.io_threads;
    c.max_pending_write_bytes = o.write_cap_bytes;
    return c;
  }

  MockServerOptions opt;
  std::string text_json;  // token_text as a JSON string literal
  HttpServer server;
  // One timer thread and the streams it drives.
  struct Shard {
    std::mutex mu;  // guards heap and stopping
    std::condition_variable cv;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> heap;
    bool stopping = false;
    std::thread thread;
    std::atomic<double> max_lag{0};  // written by this shard's thread only
  };
  std::vector<std::unique_ptr<Shard>> shards;
  std::atomic<int64_t> requests{0}, in_flight{0}, peak_in_flight{0}, completed{0}, tokens_sent{0},
      disconnects{0};

  void schedule(Clock::time_point at, std::shared_ptr<Stream> s) {
    Shard& sh = *shards[size_t(s->index) % shards.size()];
    {
      std::lock_guard lock(sh.mu);
      sh.heap.push({at, std::move(s)});
    }
    sh.cv.notify_one();
  }

  void begin() {
    const int64_t now = ++in_flight;
    int64_t peak = peak_in_flight.load();
    while (now > peak && !peak_in_flight.compare_exchange_weak(peak, now)) {
    }
  }
  void end() {
    --in_flight;
    ++completed;
  }

  void handle(HttpRequest req, HttpResponder r, bool chat) {
    if (!opt.api_key.empty()) {
      auto auth = req.header("Authorization");
      if (!auth || *auth != "Bearer " + opt.api_key) {
        r.send_error(401, "invalid API key", "authentication_error");
        return;
      }
    }
    Json body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) {
      r.send_error(400, "the body is not a JSON object", "invalid_request_error");
      return;
    }
    const int64_t index = requests++;
    begin();
    auto s = std::make_shared<Stream>(r);
    s->index = index;
    s->chat = chat;
    s->fault = opt.fault ? opt.fault(index) : MockFault::kNone;
    if (auto f = body.find("mock_fault"); f != body.end() && f->is_string())
      s->fault = parse_fault(f->get_ref<const std::string&>());
    if (s->fault == MockFault::kHttp500) {
      end();  // before the answer: see retire()
      r.send_error(500, "mock failure", "internal_server_error");
      return;
    }
    s->total = opt.tokens;
    if (s->total <= 0) {
      s->total = 16;
      for (const char* key : {"max_tokens", "max_completion_tokens"})
        if (auto it = body.find(key); it != body.end() && it->is_number_integer()) s->total = it->get<int64_t>();
      s->total = std::max<int64_t>(s->total, 1);
    }
    s->streamed = body.value("stream", false);
    bool asked = false;
    if (auto so = body.find("stream_options"); so != body.end() && so->is_object())
      asked = so->value("include_usage", false);
    s->usage = opt.usage == MockServerOptions::Usage::kAlways ||
               (opt.usage == MockServerOptions::Usage::kAsRequested && asked);
    s->prompt_tokens = prompt_words(body);
    if (s->streamed) {
      s->token_event = token_event(*s, false);
      s->last_event = token_event(*s, true);
      if (chat)
        s->role_event = "data: " + chunk_head(*s) +
                        R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}])" +
                        (s->usage ? R"(,"usage":null)" : "") + "}\n\n";
      s->sse = r.start_sse();
      if (!s->sse) {  // the client is already gone
        ++disconnects;
        end();
        return;
      }
    }
    std::weak_ptr<Stream> weak = s;
    r.on_disconnect([weak] {
      if (auto st = weak.lock()) st->gone = true;
    });
    // Non-streamed: one answer when the last token would have been sent.
    const auto at = Clock::now() + to_duration(opt.ttft) +
                    (s->streamed ? Clock::duration(0) : to_duration(opt.itl * double(s->total - 1)));
    schedule(at, std::move(s));
  }

  std::string chunk_head(const Stream& s) const {
    return fmt::format(R"({{"id":"{}-mock-{}","object":"{}","created":0,"model":"mock","choices":[)",
                       s.chat ? "chatcmpl" : "cmpl", s.index,
                       s.chat ? "chat.completion.chunk" : "text_completion");
  }
  std::string token_event(const Stream& s, bool last) const {
    std::string e = "data: " + chunk_head(s);
    if (s.chat)
      e += fmt::format(R"({{"index":0,"delta":{{"content":{}}},"logprobs":null,"finish_reason":{}}}])",
                       text_json, last ? "\"length\"" : "null");
    else
      e += fmt::format(R"({{"index":0,"text":{},"logprobs":null,"finish_reason":{}}}])", text_json,
                       last ? "\"length\"" : "null");
    if (s.usage) e += R"(,"usage":null)";
    e += "}\n\n";
    return e;
  }
  std::string usage_json(const Stream& s) const {
    return fmt::format(R"({{"prompt_tokens":{},"completion_tokens":{},"total_tokens":{}}})", s.prompt_tokens,
                       s.sent, s.prompt_tokens + s.sent);
  }

  // Counts a response as finished. Called before its last bytes are sent: a client that has seen
  // the end and sent its next request must never find this one still counted in flight.
  void retire(bool disconnected) {
    if (disconnected) ++disconnects;
    end();
  }

  // Applies the stream's fault now; false when it has none to apply at this point.
  bool apply_fault(Stream& s) {
    if (s.fault == MockFault::kDrop) {
      // A backlog over write_cap_bytes closes the connection (see MockServerOptions).
      retire(false);
      s.sse->send_raw(":" + std::string(16 * opt.write_cap_bytes, 'x') + "\n");
      s.sse->send_raw(": drop\n\n");
      return true;
    }
    if (s.fault == MockFault::kErrorEvent) {
      retire(false);
      s.sse->send_event(http_error_json("mock error event", "internal_server_error", "500"));
      s.sse->send_raw("data: [DONE]\n\n");
      s.sse->close();
      return true;
    }
    return false;
  }

  // Sends what is due for `s` at `at`; the time of its next step, or nullopt when it is over.
  std::optional<Clock::time_point> step(Stream& s, Clock::time_point at) {
    if (s.gone) {
      retire(true);
      return std::nullopt;
    }
    if (!s.streamed) {
      const std::string text = [&] {
        std::string t;
        for (int64_t i = 0; i < s.total; ++i) t += opt.token_text;
        return t;
      }();
      s.sent = s.total;
      Json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", "length"}};
      if (s.chat) choice["message"] = {{"role", "assistant"}, {"content", text}};
      else choice["text"] = text;
      Json out = {{"id", fmt::format("mock-{}", s.index)},
                  {"object", s.chat ? "chat.completion" : "text_completion"},
                  {"created", 0},
                  {"model", "mock"},
                  {"choices", Json::array({choice})},
                  {"usage", Json::parse(usage_json(s))}};
      tokens_sent += s.total;
      retire(false);
      s.responder.send_json(200, out.dump());
      return std::nullopt;
    }
    const bool faulty = s.fault == MockFault::kDrop || s.fault == MockFault::kErrorEvent;
    const int64_t fault_at = std::min(opt.fault_after_tokens, s.total);
    if (faulty && s.sent >= fault_at && apply_fault(s)) return std::nullopt;
    if (s.chat && s.sent == 0) s.sse->send_raw(s.role_event);  // as minke and vLLM: the role opens
    ++s.sent;
    s.sse->send_raw(s.sent == s.total ? s.last_event : s.token_event);
    ++tokens_sent;
    if (s.sent < s.total) return at + to_duration(opt.itl);
    if (faulty && apply_fault(s)) return std::nullopt;
    retire(false);
    if (s.usage) s.sse->send_raw("data: " + chunk_head(s) + R"(],"usage":)" + usage_json(s) + "}\n\n");
    if (s.fault != MockFault::kNoDone) s.sse->send_raw("data: [DONE]\n\n");
    s.sse->close();
    return std::nullopt;
  }

  void run_timer(Shard& sh) {
    std::vector<Due> batch, again;
    std::unique_lock lock(sh.mu);
    while (!sh.stopping) {
      if (sh.heap.empty()) {
        sh.cv.wait(lock);
        continue;
      }
      const auto now = Clock::now();
      if (const Clock::time_point next = sh.heap.top().at; next > now) {
        sh.cv.wait_until(lock, next);  // by value: the heap may grow while this waits
        continue;
      }
      batch.clear();
      while (!sh.heap.empty() && sh.heap.top().at <= now) {
        batch.push_back(sh.heap.top());
        sh.heap.pop();
      }
      lock.unlock();
      again.clear();
      double lag = sh.max_lag.load(std::memory_order_relaxed);
      for (Due& d : batch) {
        lag = std::max(lag, std::chrono::duration<double>(now - d.at).count());
        if (auto next = step(*d.stream, d.at)) again.push_back({*next, std::move(d.stream)});
      }
      sh.max_lag.store(lag, std::memory_order_relaxed);
      batch.clear();  // drop stream references outside the lock
      lock.lock();
      for (Due& d : again) sh.heap.push(std::move(d));
    }
  }
};

MockServer::MockServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MockServer::~MockServer() { stop(); }

Result<std::unique_ptr<MockServer>> MockServer::start(MockServerOptions options) {
  if (!(options.ttft >= 0) || !(options.itl >= 0)) return invalid_argument("mock ttft and itl must be >= 0");
  if (options.timer_threads < 1) return invalid_argument("mock timer_threads must be >= 1");
  auto impl = std::make_unique<Impl>(std::move(options));
  Impl* im = impl.get();
  im->text_json = Json(im->opt.token_text).dump();
  im->server.route("POST", "/v1/completions",
                   [im](HttpRequest req, HttpResponder r) { im->handle(std::move(req), std::move(r), false); });
  im->server.route("POST", "/v1/chat/completions",
                   [im](HttpRequest req, HttpResponder r) { im->handle(std::move(req), std::move(r), true); });
  im->server.route("GET", "/v1/models", [](HttpRequest, HttpResponder r) {
    r.send_json(200, R"({"object":"list","data":[{"id":"mock","object":"model","created":0,)"
                     R"("owned_by":"minke","max_model_len":4096}]})");
  });
  im->server.route("POST", "/tokenize", [](HttpRequest req, HttpResponder r) {
    Json body = Json::parse(req.body, nullptr, false);
    if (!body.is_object()) return void(r.send_error(400, "the body is not a JSON object", "invalid_request_error"));
    const int64_t n = prompt_words(body);
    Json tokens = Json::array();
    for (int64_t i = 0; i < n; ++i) tokens.push_back(i);
    r.send_json(200, Json{{"count", n}, {"max_model_len", 4096}, {"tokens", tokens}}.dump());
  });
  MINKE_TRY(im->server.start());
  for (int i = 0; i < im->opt.timer_threads; ++i) {
    im->shards.push_back(std::make_unique<Impl::Shard>());
    Impl::Shard* sh = im->shards.back().get();
    sh->thread = std::thread([im, sh] { im->run_timer(*sh); });
  }
  return std::unique_ptr<MockServer>(new MockServer(std::move(impl)));
}

uint16_t MockServer::port() const { return impl_->server.port(); }

std::string MockServer::base_url() const { return fmt::format("http://127.0.0.1:{}", port()); }

MockServerStats MockServer::stats() const {
  const Impl& im = *impl_;
  double lag = 0;
  for (const auto& sh : im.shards) lag = std::max(lag, sh->max_lag.load());
  return {im.requests.load(),    im.in_flight.load(),   im.peak_in_flight.load(), im.completed.load(),
          im.tokens_sent.load(), im.disconnects.load(), lag};
}

void MockServer::stop() {
  Impl& im = *impl_;
  // Connections first, so that open streams end abruptly rather than with a clean last chunk.
  im.server.stop(std::chrono::milliseconds(0));
  for (auto& sh : im.shards) {
    {
      std::lock_guard lock(sh->mu);
      sh->stopping = true;
    }
    sh->cv.notify_all();
    if (sh->thread.joinable()) sh->thread.join();
    std::lock_guard lock(sh->mu);
    while (!sh->heap.empty()) sh->heap.pop();
  }
}

}  // namespace minke::bench
