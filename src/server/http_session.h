// Internals of HttpServer shared by its translation units (not a public API): the server
// state, one Session per TCP connection (all of its work runs on its strand) and the Exchange
// that ties one in-flight request to the thread-safe HttpResponder handed to handlers.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/http_server.h"

namespace minke::http_detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Session;

// Shared by the acceptor and all sessions; outlives every session (declared before the
// io_context in HttpServer::Impl). Routes are immutable once the server has started.
struct ServerState {
  HttpServerConfig config;
  std::map<std::string, std::map<std::string, HttpHandler>> routes;  // path -> method -> handler
  std::atomic<bool> draining{false};
  bool closing_all = false;  // under mu: stop() is closing every session

  std::atomic<int64_t> connections_accepted{0}, connections_open{0}, requests{0},
      responses_in_flight{0}, active_streams{0}, client_disconnects{0}, rejected{0},
      slow_client_closes{0}, write_timeouts{0};

  std::mutex mu;  // guards sessions; with cv, wakes stop() when counts change
  std::condition_variable cv;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  void notify() {
    std::lock_guard lock(mu);
    cv.notify_all();
  }
};

// One request/response; shared by the Session (while current) and the user's responders.
// The mutex orders user calls from any thread against the session detaching on close.
struct Exchange : std::enable_shared_from_this<Exchange> {
  std::mutex mu;
  std::shared_ptr<Session> session;  // null once detached: later user calls are dropped
  bool started = false;              // send() or start_sse() accepted
  bool finished = false;             // send() or SseStream::close() accepted
  bool disconnected = false;
  std::function<void()> on_disconnect;
  std::atomic<size_t> posted_bytes{0};  // SSE bytes posted to the strand, not yet queued

  // Posts fn to the session's strand if still attached; returns false otherwise.
  bool post_locked(std::function<void(Session&)> fn);
  // Called by the session on its strand: completes (normally or by abort) this exchange.
  void detach(bool aborted);
  // All user references are gone: answer 500, or end an open stream.
  void abandon();
};

// Held by HttpResponder and SseStream copies; its destructor calls Exchange::abandon().
struct ResponderRef {
  explicit ResponderRef(std::shared_ptr<Exchange> ex) : exchange(std::move(ex)) {}
  ~ResponderRef() { exchange->abandon(); }
  std::shared_ptr<Exchange> exchange;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerState& state);
  ~Session();
  void start();                              // on the strand
  void post(std::function<void()> fn);       // onto the strand
  void on_drain();                           // on the strand: close if idle
  void close_now();                          // on the strand: abort everything
  // Bytes queued or in a write, not yet taken by the socket; readable from any thread.
  size_t pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }

  // Called on the strand on behalf of the current exchange; dropped if `ex` is not current.
  void deliver_response(Exchange* ex, int status, const HttpHeaders& headers, std::string body);
  void deliver_sse_start(Exchange* ex, const HttpHeaders& headers);
  void deliver_sse_bytes(Exchange* ex, std::string_view payload);
  void deliver_sse_end(Exchange* ex);

 private:
  enum class Phase { kReading, kResponding, kIdle, kClosing, kClosed };

  void start_request_read();
  void on_read(boost::system::error_code ec);
  void dispatch_request();
  void reject(int status, std::string_view message, std::string_view type, bool close,
              const HttpHeaders& extra = {});
  void arm_peek();
  void on_peek(boost::system::error_code ec, size_t n);
  void arm_timer(std::chrono::milliseconds d);
  void cancel_timer();
  void queue(std::string bytes);
  void flush();
  void write_some();
  void on_write(boost::system::error_code ec, size_t n);
  void arm_write_timer();
  void on_write_timer(boost::system::error_code ec);
  void close_slow_client(bool timed_out);
  void finish_response();
  void linger_close();
  std::string head(int status, const HttpHeaders& headers, std::optional<size_t> length) const;

  ServerState& state_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  boost::beast::flat_buffer buffer_;
  struct Parser;
  std::unique_ptr<Parser> parser_;

  Phase phase_ = Phase::kReading;
  bool peek_in_flight_ = false;
  bool restart_after_peek_ = false;  // a pipelined request waits in buffer_: cancel the peek
  bool writing_ = false;
  bool response_done_ = false;  // the last bytes of the response are queued
  bool keep_alive_ = true;
  bool sse_ = false;
  bool chunked_ = false;
  int version_ = 11;
  std::deque<std::string> out_;
  std::string in_write_;        // the write in flight: out_ coalesced
  size_t in_write_done_ = 0;    // bytes of in_write_ the socket has taken
  std::atomic<size_t> pending_bytes_{0};  // out_ + the rest of in_write_; written on the strand
  // Write timeout: one lazily re-armed deadline, last_progress_ + write_timeout, checked while
  // a write is in flight (a timer per write would cost a cancel per SSE event).
  asio::steady_timer write_timer_;
  bool write_timer_armed_ = false;
  std::chrono::steady_clock::time_point last_progress_;  // a write started or took bytes
  std::shared_ptr<Exchange> exchange_;
  bool registered_ = false;
};

}  // namespace minke::http_detail
