// Session: one connection's state machine on its strand (read a request under a deadline,
// dispatch it, write the response or stream, keep alive or close; a client that stops reading
// is closed by the write backlog cap or the write timeout). The only Beast parser TU.
#include "server/http_session.h"

#include <boost/beast/http.hpp>

#include <fmt/format.h>

namespace minke::http_detail {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

constexpr size_t kPeekChunk = 4096;
constexpr size_t kPeekCap = 64 * 1024;  // pipelined bytes buffered while a response runs
constexpr std::chrono::milliseconds kLinger{1000};
constexpr size_t kKeepWriteCapacity = 1u << 20;  // in_write_ memory kept between writes

bool header_safe(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

}  // namespace

struct Session::Parser {
  http::request_parser<http::string_body> p;
};

Session::Session(tcp::socket socket, ServerState& state)
    : state_(state),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()) {}

Session::~Session() {
  if (exchange_) exchange_->detach(/*aborted=*/true);
  if (registered_) {  // never closed (the io_context went away first)
    std::lock_guard lock(state_.mu);
    state_.sessions.erase(this);
    state_.connections_open--;
  }
}

void Session::post(std::function<void()> fn) { asio::post(socket_.get_executor(), std::move(fn)); }

void Session::start() {
  {
    std::lock_guard lock(state_.mu);
    if (state_.closing_all) {
      phase_ = Phase::kClosed;
      error_code ignored;
      socket_.close(ignored);
      return;
    }
    state_.sessions[this] = weak_from_this();
    registered_ = true;
    state_.connections_open++;
  }
  start_request_read();
}

void Session::start_request_read() {
  phase_ = Phase::kReading;
  arm_timer(state_.config.read_timeout);
  parser_ = std::make_unique<Parser>();
  parser_->p.header_limit(static_cast<uint32_t>(state_.config.max_header_bytes));
  parser_->p.body_limit(state_.config.max_body_bytes);
  http::async_read(socket_, buffer_, parser_->p,
                   [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
}

void Session::on_read(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  cancel_timer();
  if (!ec) return dispatch_request();
  if (ec == http::error::header_limit)
    return reject(431, "request headers too large", "invalid_request_error", true);
  if (ec == http::error::body_limit)
    return reject(413, fmt::format("request body larger than {} bytes", state_.config.max_body_bytes),
                  "invalid_request_error", true);
  bool http_error = &ec.category() == &http::make_error_code(http::error::bad_method).category();
  if (http_error && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return reject(400, "malformed HTTP request: " + ec.message(), "invalid_request_error", true);
  close_now();  // EOF, reset, timeout (the socket was closed), truncated message
}

void Session::dispatch_request() {
  auto& msg = parser_->p.get();
  state_.requests++;
  version_ = static_cast<int>(msg.version());
  keep_alive_ = msg.keep_alive();
  if (state_.draining) return reject(503, "server is shutting down", "server_error", true);

  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.version = version_;
  const auto path_it = state_.routes.find(std::string(req.path()));
  if (path_it == state_.routes.end())
    return reject(404, "no route for " + std::string(req.path()), "invalid_request_error",
                  !keep_alive_);
  const auto handler_it = path_it->second.find(req.method);
  if (handler_it == path_it->second.end()) {
    std::string allow;
    for (const auto& [m, h] : path_it->second) allow += (allow.empty() ? "" : ", ") + m;
    return reject(405, "method " + req.method + " not allowed on " + std::string(req.path()),
                  "invalid_request_error", !keep_alive_, {{"Allow", allow}});
  }
  for (const auto& field : msg)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  req.body = std::move(msg.body());
  parser_.reset();

  phase_ = Phase::kResponding;
  sse_ = false;
  exchange_ = std::make_shared<Exchange>();
  exchange_->session = shared_from_this();
  state_.responses_in_flight++;
  arm_peek();  // notices a client that goes away while the handler works
  HttpResponder responder(std::make_shared<ResponderRef>(exchange_));
  try {
    handler_it->second(std::move(req), responder);
  } catch (const std::exception& e) {
    responder.send_error(500, std::string("handler failed: ") + e.what(), "server_error");
  } catch (...) {
    responder.send_error(500, "handler failed", "server_error");
  }
}

void Session::reject(int status, std::string_view message, std::string_view type, bool close,
                     const HttpHeaders& extra) {
  state_.rejected++;
  parser_.reset();
  if (close) keep_alive_ = false;
  phase_ = Phase::kResponding;
  sse_ = false;
  HttpHeaders headers = extra;
  headers.emplace_back("Content-Type", "application/json");
  std::string body = http_error_json(message, type);
  queue(head(status, headers, body.size()) + body);
  response_done_ = true;
  flush();
}

std::string Session::head(int status, const HttpHeaders& headers,
                          std::optional<size_t> length) const {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status,
                                std::string_view(http::obsolete_reason(http::int_to_status(status))));
  for (const auto& [name, value] : headers) {
    if (!header_safe(name) || !header_safe(value) || name.empty()) continue;
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
        iequals(name, "connection"))
      continue;
    out += name + ": " + value + "\r\n";
  }
  if (length) out += fmt::format("Content-Length: {}\r\n", *length);
  else if (chunked_) out += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive_) out += "Connection: close\r\n";
  else if (version_ < 11) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  return out;
}

void Session::deliver_response(Exchange* ex, int status, const HttpHeaders& headers,
                               std::string body) {
  if (ex != exchange_.get() || phase_ != Phase::kResponding || response_done_) return;
  if (state_.draining) keep_alive_ = false;
  queue(head(status, headers, body.size()) + body);
  response_done_ = true;
  flush();
}

void Session::deliver_sse_start(Exchange* ex, const HttpHeaders& headers) {
  if (ex != exchange_.get() || phase_ != Phase::kResponding || response_done_) return;
  sse_ = true;
  state_.active_streams++;
  chunked_ = version_ >= 11;
  if (!chunked_ || state_.draining) keep_alive_ = keep_alive_ && chunked_ && !state_.draining;
  HttpHeaders all = headers;
  bool has_type = false;
  for (const auto& h : headers) has_type = has_type || iequals(h.first, "content-type");
  if (!has_type) all.emplace_back("Content-Type", "text/event-stream");
  all.emplace_back("Cache-Control", "no-cache");
  queue(head(200, all, std::nullopt));
  flush();
}

void Session::deliver_sse_bytes(Exchange* ex, std::string_view payload) {
  if (ex != exchange_.get() || !sse_ || response_done_ || payload.empty()) return;
  if (chunked_) queue(fmt::format("{:x}\r\n{}\r\n", payload.size(), payload));
  else queue(std::string(payload));
  flush();
}

void Session::deliver_sse_end(Exchange* ex) {
  if (ex != exchange_.get() || !sse_ || response_done_) return;
  if (chunked_) queue("0\r\n\r\n");
  response_done_ = true;
  flush();
}

void Session::queue(std::string bytes) {
  const size_t before = pending_bytes();
  const size_t after = before + bytes.size();
  out_.push_back(std::move(bytes));
  pending_bytes_.store(after, std::memory_order_relaxed);
  // Only a backlog trips the cap: a message queued while nothing is pending (a whole plain
  // response, already in memory) is taken whatever its size.
  if (before > 0 && after > state_.config.max_pending_write_bytes) close_slow_client(false);
}

void Session::flush() {
  if (phase_ == Phase::kClosed || writing_) return;
  if (out_.empty()) {
    if (response_done_) finish_response();
    return;
  }
  in_write_.clear();
  in_write_done_ = 0;
  for (auto& s : out_) in_write_ += s;  // coalesce queued events into one write
  out_.clear();
  writing_ = true;
  last_progress_ = std::chrono::steady_clock::now();
  arm_write_timer();
  write_some();
}

// async_write_some rather than async_write: each partial write is progress for the timeout
// and leaves the backlog count.
void Session::write_some() {
  socket_.async_write_some(
      asio::buffer(in_write_.data() + in_write_done_, in_write_.size() - in_write_done_),
      [self = shared_from_this()](error_code ec, size_t n) { self->on_write(ec, n); });
}

void Session::on_write(error_code ec, size_t n) {
  if (phase_ == Phase::kClosed) {  // the buffer is ours again: free it now
    writing_ = false;
    std::string().swap(in_write_);
    return;
  }
  if (ec) {
    writing_ = false;
    return close_now();
  }
  in_write_done_ += n;
  pending_bytes_.store(pending_bytes() - n, std::memory_order_relaxed);
  if (n > 0) last_progress_ = std::chrono::steady_clock::now();
  if (in_write_done_ < in_write_.size()) return write_some();
  writing_ = false;
  if (in_write_.capacity() > kKeepWriteCapacity) std::string().swap(in_write_);
  flush();
}

void Session::arm_write_timer() {
  if (write_timer_armed_) return;  // the pending wait re-arms itself from last_progress_
  write_timer_armed_ = true;
  write_timer_.expires_at(last_progress_ + state_.config.write_timeout);
  write_timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_write_timer(ec); });
}

void Session::on_write_timer(error_code ec) {
  write_timer_armed_ = false;
  if (ec || phase_ == Phase::kClosed || !writing_) return;  // idle: the next flush() re-arms
  if (std::chrono::steady_clock::now() < last_progress_ + state_.config.write_timeout)
    return arm_write_timer();
  close_slow_client(true);
}

void Session::close_slow_client(bool timed_out) {
  state_.slow_client_closes++;
  if (timed_out) state_.write_timeouts++;
  close_now();
}

void Session::finish_response() {
  response_done_ = false;
  if (exchange_) {
    state_.responses_in_flight--;
    if (sse_) state_.active_streams--;
    exchange_->detach(/*aborted=*/false);
    exchange_.reset();
    state_.notify();
  }
  sse_ = false;
  chunked_ = false;
  if (!keep_alive_ || state_.draining) return linger_close();
  if (buffer_.size() > 0) {
    if (!peek_in_flight_) return start_request_read();
    phase_ = Phase::kIdle;
    restart_after_peek_ = true;
    socket_.cancel();
    return;
  }
  phase_ = Phase::kIdle;
  arm_timer(state_.config.idle_timeout);
  arm_peek();
}

void Session::arm_peek() {
  if (peek_in_flight_ || phase_ == Phase::kClosed || buffer_.size() >= kPeekCap) return;
  peek_in_flight_ = true;
  socket_.async_read_some(buffer_.prepare(kPeekChunk),
                          [self = shared_from_this()](error_code ec, size_t n) {
                            self->on_peek(ec, n);
                          });
}

void Session::on_peek(error_code ec, size_t n) {
  peek_in_flight_ = false;
  if (phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kClosing) {  // lingering: discard until EOF or the deadline
    buffer_.clear();
    if (ec) return close_now();
    return arm_peek();
  }
  if (restart_after_peek_ && ec == asio::error::operation_aborted) {
    restart_after_peek_ = false;
    return start_request_read();
  }
  if (ec) return close_now();  // the client went away (or the idle timer closed the socket)
  buffer_.commit(n);
  if (phase_ == Phase::kIdle) {
    restart_after_peek_ = false;
    cancel_timer();
    return start_request_read();
  }
  arm_peek();
}

void Session::linger_close() {
  // Half-close and drain what the client still sends, so that it reads our answer instead of
  // a reset (413/431 leave unread bytes behind).
  phase_ = Phase::kClosing;
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  buffer_.clear();
  arm_timer(kLinger);
  arm_peek();
}

void Session::on_drain() {
  if (phase_ == Phase::kIdle) close_now();
}

void Session::arm_timer(std::chrono::milliseconds d) {
  const uint64_t gen = ++timer_gen_;
  timer_.expires_after(d);
  timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
    if (ec || gen != self->timer_gen_) return;
    if (self->phase_ != Phase::kResponding) self->close_now();
  });
}

void Session::cancel_timer() {
  ++timer_gen_;
  timer_.cancel();
}

void Session::close_now() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  cancel_timer();
  write_timer_.cancel();
  out_.clear();  // in_write_ may still be referenced by the aborted write: on_write frees it
  pending_bytes_.store(0, std::memory_order_relaxed);
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (exchange_) {
    state_.responses_in_flight--;
    if (sse_) state_.active_streams--;
    state_.client_disconnects++;
    auto ex = std::move(exchange_);
    ex->detach(/*aborted=*/true);
  }
  if (registered_) {
    registered_ = false;
    std::lock_guard lock(state_.mu);
    state_.sessions.erase(this);
    state_.connections_open--;
    state_.cv.notify_all();
  }
}

}  // namespace minke::http_detail
