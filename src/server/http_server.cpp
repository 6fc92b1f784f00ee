// HttpServer: the acceptor, the I/O threads, drain/stop, and the thread-safe responder side
// (HttpResponder, SseStream) that posts onto a connection's strand. See http_server.h.
#include "server/http_server.h"

#include <nlohmann/json.hpp>

#include <thread>

#include "server/http_session.h"

namespace minke {

using http_detail::Exchange;
using http_detail::ServerState;
using http_detail::Session;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// ---- request, errors ------------------------------------------------------------------------

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  auto lower_eq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i])))
        return false;
    return true;
  };
  for (const auto& [n, v] : headers)
    if (lower_eq(n, name)) return std::string_view(v);
  return std::nullopt;
}

std::string http_error_json(std::string_view message, std::string_view type,
                            std::string_view code, std::string_view param) {
  auto or_null = [](std::string_view s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(s));
  };
  nlohmann::json j = {{"error",
                       {{"message", std::string(message)},
                        {"type", std::string(type)},
                        {"param", or_null(param)},
                        {"code", or_null(code)}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- exchange and responder -----------------------------------------------------------------

namespace http_detail {

bool Exchange::post_locked(std::function<void(Session&)> fn) {
  if (!session) return false;
  Session* s = session.get();
  s->post([keep = session, self = shared_from_this(), fn = std::move(fn)] { fn(*keep); });
  return true;
}

void Exchange::detach(bool aborted) {
  std::function<void()> callback;
  {
    std::lock_guard lock(mu);
    session.reset();
    if (aborted && !disconnected) {
      disconnected = true;
      callback = std::move(on_disconnect);
    } else if (!aborted) {
      finished = true;
    }
    on_disconnect = nullptr;
  }
  if (callback) callback();
}

void Exchange::abandon() {
  std::lock_guard lock(mu);
  if (!session || finished) return;
  const bool was_started = started;
  started = finished = true;
  Exchange* self = this;
  if (!was_started) {
    std::string body = http_error_json("handler dropped the request", "server_error");
    post_locked([self, body](Session& s) {
      s.deliver_response(self, 500, {{"Content-Type", "application/json"}}, body);
    });
  } else {
    post_locked([self](Session& s) { s.deliver_sse_end(self); });
  }
}

namespace {

class SseStreamImpl final : public SseStream {
 public:
  explicit SseStreamImpl(std::shared_ptr<ResponderRef> ref) : ref_(std::move(ref)) {}

  bool send_event(std::string_view data) override {
    std::string text;
    text.reserve(data.size() + 8);
    size_t pos = 0;
    while (true) {
      const size_t nl = data.find('\n', pos);
      text += "data: ";
      text += data.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
      text += '\n';
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    text += '\n';
    return send_raw(std::move(text));
  }

  bool send_raw(std::string text) override {
    Exchange& ex = *ref_->exchange;
    std::lock_guard lock(ex.mu);
    if (ex.finished || !ex.session) return false;
    ex.posted_bytes += text.size();
    return ex.post_locked([self = &ex, text = std::move(text)](Session& s) {
      self->posted_bytes -= text.size();
      s.deliver_sse_bytes(self, text);
    });
  }

  size_t buffered_bytes() const override {
    Exchange& ex = *ref_->exchange;
    std::lock_guard lock(ex.mu);
    if (ex.finished || !ex.session) return 0;
    return ex.posted_bytes.load() + ex.session->pending_bytes();
  }

  void close() override {
    Exchange& ex = *ref_->exchange;
    std::lock_guard lock(ex.mu);
    if (ex.finished) return;
    ex.finished = true;
    ex.post_locked([self = &ex](Session& s) { s.deliver_sse_end(self); });
  }

 private:
  std::shared_ptr<ResponderRef> ref_;
};

}  // namespace
}  // namespace http_detail

bool HttpResponder::send(int status, HttpHeaders headers, std::string body) {
  Exchange& ex = *ref_->exchange;
  std::lock_guard lock(ex.mu);
  if (ex.started || !ex.session) return false;
  ex.started = ex.finished = true;
  return ex.post_locked([self = &ex, status, headers = std::move(headers),
                         body = std::move(body)](Session& s) mutable {
    s.deliver_response(self, status, headers, std::move(body));
  });
}

bool HttpResponder::send_json(int status, std::string json_body) {
  return send(status, {{"Content-Type", "application/json"}}, std::move(json_body));
}

bool HttpResponder::send_error(int status, std::string_view message, std::string_view type,
                               std::string_view code, std::string_view param) {
  return send_json(status, http_error_json(message, type, code, param));
}

std::shared_ptr<SseStream> HttpResponder::start_sse(HttpHeaders headers) {
  Exchange& ex = *ref_->exchange;
  std::lock_guard lock(ex.mu);
  if (ex.started || !ex.session) return nullptr;
  ex.started = true;
  ex.post_locked([self = &ex, headers = std::move(headers)](Session& s) {
    s.deliver_sse_start(self, headers);
  });
  return std::make_shared<http_detail::SseStreamImpl>(ref_);
}

void HttpResponder::on_disconnect(std::function<void()> callback) {
  Exchange& ex = *ref_->exchange;
  {
    std::lock_guard lock(ex.mu);
    if (!ex.disconnected) {
      if (ex.session) ex.on_disconnect = std::move(callback);
      return;  // a completed exchange never disconnects
    }
  }
  if (callback) callback();
}

bool HttpResponder::disconnected() const {
  Exchange& ex = *ref_->exchange;
  std::lock_guard lock(ex.mu);
  return ex.disconnected;
}

// ---- server ---------------------------------------------------------------------------------

struct HttpServer::Impl {
  ServerState state;  // first: outlives the io_context and every session in it
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  asio::steady_timer retry_timer{acceptor.get_executor()};
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {  // e.g. out of file descriptors: back off instead of spinning
        retry_timer.expires_after(std::chrono::milliseconds(50));
        retry_timer.async_wait([this](error_code e) {
          if (!e && acceptor.is_open()) accept();
        });
        return;
      }
      if (state.draining) {
        error_code ignored;
        socket.close(ignored);
      } else {
        state.connections_accepted++;
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto session = std::make_shared<Session>(std::move(socket), state);
        session->post([session] { session->start(); });
      }
      accept();
    });
  }

  std::vector<std::shared_ptr<Session>> sessions() {
    std::vector<std::shared_ptr<Session>> out;
    std::lock_guard lock(state.mu);
    for (auto& [p, w] : state.sessions)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }
};

HttpServer::HttpServer(HttpServerConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->state.config = std::move(config);
}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

void HttpServer::route(std::string method, std::string path, HttpHandler handler) {
  MINKE_CHECK(!impl_->started, "HttpServer::route after start()");
  impl_->state.routes[std::move(path)][std::move(method)] = std::move(handler);
}

Status HttpServer::start() {
  Impl& im = *impl_;
  if (im.started) return invalid_argument("HttpServer already started");
  const auto& cfg = im.state.config;
  if (cfg.io_threads < 1) return invalid_argument("io_threads must be >= 1, got {}", cfg.io_threads);
  if (cfg.max_pending_write_bytes == 0) return invalid_argument("max_pending_write_bytes must be > 0");
  if (cfg.write_timeout.count() <= 0)
    return invalid_argument("write_timeout must be > 0 ms, got {}", cfg.write_timeout.count());
  error_code ec;
  tcp::resolver resolver(im.ioc);
  auto endpoints = resolver.resolve(cfg.host, std::to_string(cfg.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty())
    return invalid_argument("cannot resolve host '{}': {}", cfg.host, ec.message());
  const tcp::endpoint endpoint = *endpoints.begin();
  im.acceptor.open(endpoint.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(endpoint, ec);
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    im.acceptor.close(ignored);
    return io_error("cannot listen on {}:{}: {}", cfg.host, cfg.port, ec.message());
  }
  im.port = im.acceptor.local_endpoint().port();
  im.started = true;
  im.work.emplace(im.ioc.get_executor());
  asio::post(im.acceptor.get_executor(), [&im] { im.accept(); });
  for (int i = 0; i < cfg.io_threads; ++i) {
    im.threads.emplace_back([&im] {
      for (;;) {
        try {
          im.ioc.run();
          return;
        } catch (...) {  // a handler threw past the session's guard: keep serving
        }
      }
    });
  }
  return Status::ok();
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::begin_drain() {
  Impl& im = *impl_;
  if (!im.started || im.stopped) return;
  im.state.draining = true;
  asio::post(im.acceptor.get_executor(), [&im] {
    error_code ignored;
    im.acceptor.close(ignored);
    im.retry_timer.cancel();
  });
  for (auto& s : im.sessions()) s->post([s] { s->on_drain(); });
}

void HttpServer::stop(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  if (!im.started || im.stopped) return;
  begin_drain();
  auto wait_until = [&](auto deadline, auto done) {
    std::unique_lock lock(im.state.mu);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      im.state.cv.wait_for(lock, std::chrono::milliseconds(10));
  };
  wait_until(std::chrono::steady_clock::now() + timeout,
             [&] { return im.state.responses_in_flight.load() == 0; });
  {
    std::lock_guard lock(im.state.mu);
    im.state.closing_all = true;  // sessions accepted but not yet started close themselves
  }
  for (auto& s : im.sessions()) s->post([s] { s->close_now(); });
  wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(5),
             [&] { return im.state.sessions.empty(); });
  im.stopped = true;
  im.work.reset();
  im.ioc.stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
}

int64_t HttpServer::active_streams() const { return impl_->state.active_streams.load(); }

HttpServerStats HttpServer::stats() const {
  const ServerState& s = impl_->state;
  return {s.connections_accepted.load(), s.connections_open.load(), s.requests.load(),
          s.responses_in_flight.load(),  s.active_streams.load(),   s.client_disconnects.load(),
          s.rejected.load(),           s.slow_client_closes.load(), s.write_timeouts.load()};
}

}  // namespace minke
