// What the benchmark programs share: dying with a message, and a migrated
// store. Benchmarks are programs, not tests: any failure ends the run.
#pragma once

#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "storage/sqlite_store.h"

namespace plaint::bench {

[[noreturn]] inline void die(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", program_invocation_short_name, message);
  std::exit(1);
}

template <class T>
T must(engine::Result<T> r, const std::string& what) {
  if (!r) die(fmt::format("{}: {}", what, r.error().message));
  return std::move(*r);
}

inline void must(const engine::Status& s, const std::string& what) {
  if (!s) die(fmt::format("{}: {}", what, s.error().message));
}

// Opens (creating if needed) and migrates the database at `path`.
inline std::unique_ptr<storage::sqlite_store> open_store(const std::string& path) {
  auto store = must(storage::sqlite_store::open(path), "open " + path);
  must(store->migrate(), "migrate " + path);
  return store;
}

// POSTs of a delivery-sized JSON body to `url` from one kept-alive libcurl
// handle, `n` of them: the receiver's limit with no plaint in the way.
inline double raw_posts_per_second(const std::string& url, int n) {
  CURL* h = curl_easy_init();
  if (!h) die("curl");
  const std::string body(380, 'x');
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t m, void*) { return s * m; });
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    if (curl_easy_perform(h) != CURLE_OK) die("curl POST " + url);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return n / s;
}

// A webhook receiver on a loopback port that answers every request 200 at
// once (one connection at a time, as plaint's worker sends them), counting
// them: the far end of the delivery benchmarks.
class sink_receiver {
 public:
  sink_receiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 128) != 0) die("sink: bind");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~sink_receiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::int64_t received() const { return received_.load(); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      // Requests on this connection (kept alive) until the client closes it.
      std::string in;
      char buf[8192];
      while (!stop_) {
        const auto end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          std::size_t length = 0;
          for (const char* key : {"Content-Length: ", "content-length: "})
            if (auto at = in.find(key); at != std::string::npos && at < end) length = std::stoul(in.substr(at + 16));
          if (in.size() >= end + 4 + length) {
            static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            (void)!::write(c, ok, sizeof ok - 1);
            ++received_;
            in.erase(0, end + 4 + length);
            continue;
          }
        }
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 50) <= 0) continue;
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      ::close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> received_{0};
  std::thread thread_;
};

}  // namespace plaint::bench
