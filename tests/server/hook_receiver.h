// A webhook receiver for tests: plain HTTP/1.1 on a loopback port, one
// request per connection, answering by a script.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace plaint::testing {

// An HTTP receiver on a loopback port: answers each POST with the next
// status of `script` (then 200), one request per connection, and keeps
// what it was sent. stop() closes the port (connections are refused) and
// listen() opens it again. A body containing the text given to
// refuse_containing() is answered 500, every time.
class hook_receiver {
 public:
  struct hit {
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    int answered = 0;
  };

  explicit hook_receiver(std::vector<int> script = {}) : script_(std::move(script)) { listen(); }
  ~hook_receiver() { stop(); }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  void listen() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    running_ = true;
    thread_ = std::thread([this] { serve(); });
  }

  void stop() {
    if (!running_) return;
    running_ = false;
    thread_.join();
    ::close(fd_);
  }

  void refuse_containing(std::string text) {
    std::lock_guard lock(mu_);
    refuse_ = std::move(text);
  }

  std::vector<hit> hits() const {
    std::lock_guard lock(mu_);
    return hits_;
  }

  // Waits until `n` requests came in; false after `within`.
  bool wait_for(std::size_t n, std::chrono::milliseconds within) const {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hits().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return hits().size() >= n;
  }

 private:
  void serve() {
    while (running_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      answer(c);
      ::close(c);
    }
  }

  void answer(int c) {
    std::string in;
    char buf[4096];
    std::size_t head_end = std::string::npos;
    std::size_t length = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
        std::string lower = in.substr(0, head_end);
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const auto at = lower.find("content-length:");
        if (at != std::string::npos) length = std::stoul(lower.substr(at + 15));
      }
      if (head_end != std::string::npos && in.size() >= head_end + 4 + length) break;
    }
    if (head_end == std::string::npos) return;
    hit h;
    std::istringstream lines(in.substr(0, head_end));
    std::string line;
    std::getline(lines, line);  // the request line
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      h.headers[name] = value;
    }
    h.body = in.substr(head_end + 4, length);
    {
      std::lock_guard lock(mu_);
      h.answered = hits_.size() < script_.size() ? script_[hits_.size()] : 200;
      if (!refuse_.empty() && h.body.find(refuse_) != std::string::npos) h.answered = 500;
      hits_.push_back(h);
    }
    const std::string reply = "HTTP/1.1 " + std::to_string(h.answered) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)::write(c, reply.data(), reply.size());
  }

  std::vector<int> script_;
  std::string refuse_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> running_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<hit> hits_;
};

}  // namespace plaint::testing
