// A small blocking HTTP/1.1 client over a loopback socket, for tests that
// talk to a real `plaint serve`: keep-alive, Content-Length bodies, and the
// line-by-line reading an event stream (SSE) needs.
//
// Every wait is bounded (a few seconds), so a wedged server fails a test
// instead of hanging it; a transport failure is a response with status 0
// and the reason in `body`.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace plaint::testing {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  // The body as JSON; a discarded value when it is not JSON.
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

struct sse_message {
  std::string id;
  std::string event;
  std::string data;
};

class http_client {
 public:
  using clock = std::chrono::steady_clock;

  explicit http_client(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : port_(port), timeout_(timeout) {}
  ~http_client() { close(); }
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;
  http_client(http_client&& o) noexcept
      : port_(o.port_), timeout_(o.timeout_), fd_(std::exchange(o.fd_, -1)), buf_(std::move(o.buf_)) {}

  // One request and its response, on the kept-alive connection when there
  // is one. A connection the server closed while idle is reopened once.
  http_response request(const std::string& method, const std::string& target, const std::string& body = "",
                        const header_list& headers = {}) {
    const bool reused = fd_ >= 0;
    if (!send_request(method, target, body, headers)) return failure("cannot send the request");
    const bool head = method == "HEAD";
    auto r = read_response(head);
    if (r.status == 0 && reused && !got_any_) {
      close();
      if (!send_request(method, target, body, headers)) return failure("cannot send the request");
      r = read_response(head);
    }
    if (r.status != 0 && (r.header("connection") == "close")) close();
    return r;
  }

  // Writes a request, stopping early (without error) if the server answers
  // before it has read everything, as it does to a body over its limit.
  bool send_request(const std::string& method, const std::string& target, const std::string& body,
                    const header_list& headers) {
    if (fd_ >= 0 && peer_closed()) close();
    if (fd_ < 0 && !connect()) return false;
    std::string text = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) text += name + ": " + value + "\r\n";
    bool chunked = false;
    for (const auto& h : headers) chunked = chunked || h.first == "Transfer-Encoding";
    if (!chunked && (!body.empty() || method == "POST")) text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    text += "\r\n";
    text += body;
    std::size_t sent = 0;
    const auto deadline = clock::now() + timeout_;
    while (sent < text.size()) {
      pollfd p{fd_, POLLOUT | POLLIN, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) return true;  // answered early (or closed)
      const ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return true;  // let the read report what the server said, if anything
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Status line and headers, then a Content-Length body (or up to EOF);
  // the answer to HEAD has no body whatever its headers say.
  http_response read_response(bool head = false) {
    got_any_ = false;
    http_response r;
    if (!read_head(r)) return failure("no response: " + why_);
    if (head) return r;
    if (r.headers.count("content-length")) {
      const std::size_t n = std::stoul(r.header("content-length"));
      if (!fill_to(n)) return failure("the body was cut short: " + why_);
      r.body = buf_.substr(0, n);
      buf_.erase(0, n);
    } else if (r.status != 204 && r.status != 304) {
      while (fill_more()) {
      }
      r.body = std::move(buf_);
      buf_.clear();
      close();
    }
    return r;
  }

  // The status line and headers only; the connection then carries the body
  // (an event stream) for next_event.
  bool read_head(http_response& r) {
    const auto deadline = clock::now() + timeout_;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill_more(deadline)) return false;
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    std::size_t pos = head.find("\r\n");
    const std::string status_line = head.substr(0, pos);
    if (status_line.compare(0, 5, "HTTP/") != 0 || status_line.size() < 12) {
      why_ = "bad status line '" + status_line + "'";
      return false;
    }
    r.status = std::stoi(status_line.substr(9, 3));
    while (pos != std::string::npos && pos < head.size()) {
      const std::size_t next = head.find("\r\n", pos + 2);
      const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      pos = next;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    return true;
  }

  // The next event-stream message with data (comments such as ": ping" are
  // skipped); nullopt when none arrives in time or the stream ends.
  std::optional<sse_message> next_event(std::chrono::milliseconds within) {
    const auto deadline = clock::now() + within;
    sse_message m;
    bool has_data = false;
    for (;;) {
      std::size_t eol;
      while ((eol = buf_.find('\n')) == std::string::npos)
        if (!fill_more(deadline)) return std::nullopt;
      std::string line = buf_.substr(0, eol);
      buf_.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (has_data) return m;
        m = {};
        continue;
      }
      if (line.front() == ':') continue;
      const auto colon = line.find(':');
      const std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? std::string() : line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (field == "id") m.id = value;
      if (field == "event") m.event = value;
      if (field == "data") {
        m.data += (has_data ? "\n" : "") + value;
        has_data = true;
      }
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }
  bool is_open() const { return fd_ >= 0; }

 private:
  bool connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      why_ = std::strerror(errno);
      close();
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
  }

  // An idle kept-alive connection the server has since closed.
  bool peer_closed() {
    if (!buf_.empty()) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
  }

  int remaining_ms(clock::time_point deadline) const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
  }

  bool fill_more() { return fill_more(clock::now() + timeout_); }
  bool fill_more(clock::time_point deadline) {
    if (fd_ < 0) {
      why_ = "not connected";
      return false;
    }
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, remaining_ms(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) {
        why_ = "timed out";
        return false;
      }
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        why_ = n == 0 ? "connection closed" : std::strerror(errno);
        return false;
      }
      got_any_ = true;
      buf_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  bool fill_to(std::size_t n) {
    const auto deadline = clock::now() + timeout_;
    while (buf_.size() < n)
      if (!fill_more(deadline)) return false;
    return true;
  }

  http_response failure(std::string why) {
    close();
    http_response r;
    r.body = std::move(why);
    return r;
  }

  int port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buf_;
  std::string why_;
  bool got_any_ = false;
};

}  // namespace plaint::testing
