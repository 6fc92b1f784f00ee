// A minimal blocking HTTP/1.1 client over POSIX sockets for server tests: raw requests,
// responses with Content-Length or chunked bodies, chunk-by-chunk SSE reads, polling helper.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

namespace minke::test_http {

using namespace std::chrono_literals;

// rcvbuf > 0 shrinks the receive buffer (before connect, so the window stays small): a client
// that does not read then stalls the server's writes after a few MB instead of tens.
inline int connect_to(uint16_t port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};  // a hung server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct Conn {
  int fd = -1;
  std::string buf;  // bytes received but not consumed
  explicit Conn(uint16_t port, int rcvbuf = 0) : fd(connect_to(port, rcvbuf)) {}
  ~Conn() {
    if (fd >= 0) ::close(fd);
  }
  bool fill() {  // false on EOF/error/timeout
    char tmp[16384];
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
  bool read_until(std::string_view delim, std::string& out) {
    size_t pos;
    while ((pos = buf.find(delim)) == std::string::npos)
      if (!fill()) return false;
    out = buf.substr(0, pos);
    buf.erase(0, pos + delim.size());
    return true;
  }
  bool read_n(size_t n, std::string& out) {
    while (buf.size() < n)
      if (!fill()) return false;
    out = buf.substr(0, n);
    buf.erase(0, n);
    return true;
  }
};

struct Response {
  int status = 0;  // 0: no response
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Reads a status line and headers; then the body unless `head_only`.
inline Response read_response(Conn& c, bool head_only = false) {
  Response r;
  std::string head;
  if (!c.read_until("\r\n\r\n", head)) return r;
  std::istringstream in(head);
  std::string line, version;
  std::getline(in, line);
  r.status = std::atoi(line.substr(9, 3).c_str());
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(ch));
    r.headers[name] = line.substr(colon + 2);
  }
  if (head_only) return r;
  if (r.headers.count("content-length")) {
    if (!c.read_n(std::stoul(r.headers["content-length"]), r.body)) r.status = 0;
  } else if (r.headers["transfer-encoding"] == "chunked") {
    for (;;) {
      std::string size_line, chunk, crlf;
      if (!c.read_until("\r\n", size_line)) return r.status = 0, r;
      size_t n = std::stoul(size_line, nullptr, 16);
      if (!c.read_n(n + 2, chunk)) return r.status = 0, r;
      if (n == 0) break;
      r.body += chunk.substr(0, n);
    }
  }
  return r;
}

// Reads one chunk of a chunked body; "" at the terminating chunk; nullopt on EOF.
inline std::optional<std::string> read_chunk(Conn& c) {
  std::string size_line, chunk;
  if (!c.read_until("\r\n", size_line)) return std::nullopt;
  size_t n = std::stoul(size_line, nullptr, 16);
  if (!c.read_n(n + 2, chunk)) return std::nullopt;
  return chunk.substr(0, n);
}

inline std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}
inline std::string post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: t\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// Polls `pred` until true or a generous deadline.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

}  // namespace minke::test_http
