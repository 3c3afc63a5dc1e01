// The Beast transport of `plaint serve`. Beast and Asio stay in this file
// (and writer.cpp); the API sees plain request/response values.
#include "server/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <sys/resource.h>
#include <deque>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "server/api.h"
#include "server/api_util.h"
#include "server/cluster.h"
#include "server/hub.h"
#include "server/metrics.h"
#include "server/writer.h"

namespace plaint::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using steady = std::chrono::steady_clock;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

// Reads (GET handlers, stream replays, token re-checks) run here, off the
// I/O threads, so a long report or search holds up neither the writes nor
// /healthz. The queue of reads waiting for a thread is bounded: past it a
// read is refused at once (503) instead of waiting without end.
class read_pool {
 public:
  read_pool(int threads, std::size_t max_queued) : pool_(static_cast<std::size_t>(threads)), max_(max_queued) {}
  ~read_pool() { join(); }

  // False (nothing queued) when `max_queued` reads already wait.
  bool try_post(std::function<void()> fn) {
    if (queued_.fetch_add(1) >= max_) {
      queued_.fetch_sub(1);
      return false;
    }
    asio::post(pool_, [this, fn = std::move(fn)] {
      queued_.fetch_sub(1);
      fn();
    });
    return true;
  }
  void join() {
    pool_.stop();
    pool_.join();
  }

 private:
  asio::thread_pool pool_;
  std::size_t max_;
  std::atomic<std::size_t> queued_{0};
};

class session;

// The open HTTP connections (streams apart), never more than the cap: at
// the cap the accept loop has idle connections closed and accepts the next
// one only once one of them has left. Idle means waiting for (the rest of)
// a request; those that have not sent a byte since they were accepted go
// first, oldest first, then those waiting longest. So idle keep-alive
// connections — or a flood of sockets that never send a request — cannot
// lock out a client that wants an answer.
class connection_table {
 public:
  explicit connection_table(std::size_t max) : max_(max) {}
  // True when one more connection fits. When it does not, `on_room` is
  // called once, on whichever thread, when a connection leaves.
  bool has_room(std::function<void()> on_room);
  // Drops the call-back has_room left, if any (its owner is going away).
  void forget_room() {
    std::lock_guard<std::mutex> lock(mu_);
    on_room_ = nullptr;
  }
  void admit(const std::shared_ptr<session>& s);
  void leave(const session* s);
  // Closes up to `n` idle connections, in the order above; returns how many.
  std::size_t evict_idle(std::size_t n);
  std::size_t size();
  // Connections evicted that have not left yet: closing on their strands,
  // or answering a request that came in first.
  std::size_t leaving();

 private:
  std::mutex mu_;
  std::size_t max_;
  std::unordered_map<const session*, std::weak_ptr<session>> live_;
  std::function<void()> on_room_;
};

struct shared_state {
  shared_state(const options& o, api& e, hub& h, metrics& m, store_pool& r, read_pool& rp, connection_table& c,
               const logger& l)
      : opts(o), endpoints(e), events(h), stats(m), readers(r), reads(rp), conns(c), log(l) {}
  const options& opts;
  api& endpoints;
  hub& events;
  metrics& stats;
  store_pool& readers;
  read_pool& reads;
  connection_table& conns;
  const logger& log;
  std::atomic<int> in_flight{0};
  std::atomic<std::size_t> streams{0};
};

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

response busy_response(const char* what) {
  response r = api::error_response(
      {engine::errc::unavailable, fmt::format("the server has too many {} waiting; retry shortly", what)});
  return r;
}

// One live event stream (GET /api/v1/stream). It subscribes to the hub
// first, then replays the log after Last-Event-ID page by page on the read
// pool (a page is read only once the client has taken the one before), and
// goes live when the replay is done; live messages that arrive meanwhile
// wait, and those already replayed are skipped by seq. Everything queued
// for the client is bounded by `stream_backlog` bytes: a stream that falls
// that far behind is closed (the client reconnects with Last-Event-ID and
// loses nothing). Every `stream_auth_check` its token is checked again, so
// a revoked token's stream ends.
class stream_session : public std::enable_shared_from_this<stream_session> {
 public:
  // `credentials`: the opening request's Authorization and Cookie headers,
  // checked again every stream_auth_check.
  stream_session(beast::tcp_stream stream, shared_state& st, request credentials)
      : stream_(std::move(stream)),
        st_(st),
        credentials_(std::move(credentials)),
        ping_(stream_.get_executor()),
        auth_timer_(stream_.get_executor()) {}

  ~stream_session() {
    if (sub_) st_.events.unsubscribe(sub_);
    st_.stats.sse_clients(-1);
    st_.streams.fetch_sub(1);
  }

  void start(std::optional<std::int64_t> last_id) {
    st_.stats.sse_clients(1);
    // The kernel's share of the backlog stays small too, so a client that
    // stops reading is noticed after about `stream_backlog` bytes.
    beast::error_code ignored;
    stream_.socket().set_option(asio::socket_base::send_buffer_size(64 * 1024), ignored);
    auto weak = weak_from_this();
    auto exec = stream_.get_executor();
    sub_ = st_.events.subscribe([weak, exec](const stream_batch& batch) {
      asio::post(exec, [weak, batch] {
        if (auto self = weak.lock()) self->deliver(batch);
      });
    });
    enqueue(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
        "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\n: connected\n\n");
    if (last_id) {
      replaying_ = true;
      high_water_ = *last_id;
      read_page();
    }
    write_next();
    arm_ping();
    arm_auth_check();
    watch_peer();
  }

 private:
  void deliver(const stream_batch& batch) {
    if (closed_) return;
    if (replaying_) {
      for (const auto& m : *batch) pending_bytes_ += m.text.size();
      pending_.push_back(batch);
      if (pending_bytes_ > st_.opts.stream_backlog) return fall_behind();
      return;
    }
    for (const auto& m : *batch)
      if (m.seq > high_water_) {
        high_water_ = m.seq;
        enqueue(m.text);
      }
    write_next();
  }

  // One page of the replay, read on the read pool; the answer comes back
  // on this stream's strand.
  void read_page() {
    page_wanted_ = false;
    const std::int64_t after = high_water_;
    auto self = shared_from_this();
    const bool queued = st_.reads.try_post([self, after] {
      // A page is at most `replay_page` events and half the backlog.
      std::vector<stream_message> page;
      const std::size_t size = self->st_.opts.replay_page, budget = self->st_.opts.stream_backlog / 2;
      std::size_t bytes = 0;
      bool more = false;
      engine::Status read = [&]() -> engine::Status {
        auto s = self->st_.readers.acquire();
        PLAINT_TRY(s);
        return (**s).scan_events(after, [&](const engine::event_record& e) {
          page.push_back(hub::format(e));
          bytes += page.back().text.size();
          more = page.size() >= size || bytes >= budget;
          return !more;
        });
      }();
      asio::post(self->stream_.get_executor(), [self, read, page = std::move(page), more]() mutable {
        self->on_page(read, std::move(page), more);
      });
    });
    if (!queued) {
      st_.stats.dropped("reads_full");
      close();
    }
  }

  void on_page(const engine::Status& read, std::vector<stream_message> page, bool more) {
    if (closed_) return;
    if (!read) {
      // A gap would be silent: end the stream, and the client's reconnect
      // asks again from the last event it got.
      std::cerr << "plaint serve: event stream replay: " << read.error().message << '\n';
      return close();
    }
    for (auto& m : page) {
      high_water_ = m.seq;
      enqueue(std::move(m.text));
    }
    if (more) {
      page_wanted_ = true;  // read_page() again once the client took most of it
    } else {
      replaying_ = false;
      auto pending = std::move(pending_);
      pending_.clear();
      pending_bytes_ = 0;
      for (const auto& batch : pending) deliver(batch);
    }
    write_next();
  }

  void enqueue(std::string text) {
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (queued_bytes_ > st_.opts.stream_backlog) fall_behind();
  }

  void fall_behind() {
    if (closed_) return;
    st_.stats.dropped("stream_behind");
    close();
  }

  void write_next() {
    if (closed_) return;
    if (queue_.empty() || writing_) {
      if (!writing_ && page_wanted_) read_page();
      return;
    }
    writing_ = true;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= current_.size();
    stream_.expires_after(st_.opts.write_timeout);  // a client that stops reading is dropped
    asio::async_write(stream_, asio::buffer(current_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->close();
      if (self->page_wanted_ && self->queued_bytes_ < self->st_.opts.stream_backlog / 4) self->read_page();
      self->write_next();
    });
  }

  // A client sends nothing on a stream after its request; a read that
  // completes means it hung up (or misbehaves): the slot is freed at once,
  // not at the next write.
  void watch_peer() {
    stream_.socket().async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->close();
      self->watch_peer();
    });
  }

  void arm_ping() {
    ping_.expires_after(st_.opts.stream_ping);
    // The ping chain holds the session alive while the client stays; a
    // failed write (client gone) closes it and ends the chain.
    ping_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (self->queue_.empty()) self->enqueue(": ping\n\n");
      self->write_next();
      self->arm_ping();
    });
  }

  void arm_auth_check() {
    auth_timer_.expires_after(st_.opts.stream_auth_check);
    auth_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      const bool queued = self->st_.reads.try_post([self] {
        auto who = self->st_.endpoints.authenticate(self->credentials_);
        // Only a definite no ends the stream; a busy database does not.
        const bool revoked = !who && who.error().code == engine::errc::not_found;
        asio::post(self->stream_.get_executor(), [self, revoked] {
          if (self->closed_) return;
          if (revoked) {
            self->st_.stats.dropped("stream_revoked");
            return self->close();
          }
          self->arm_auth_check();
        });
      });
      if (!queued) self->arm_auth_check();  // reads are busy: look again next round
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    ping_.cancel();
    auth_timer_.cancel();
    if (sub_) st_.events.unsubscribe(std::exchange(sub_, 0));
    queue_.clear();
    pending_.clear();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  shared_state& st_;
  request credentials_;
  std::array<char, 512> sink_{};
  asio::steady_timer ping_;
  asio::steady_timer auth_timer_;
  std::uint64_t sub_ = 0;
  std::deque<std::string> queue_;  // to write, in order
  std::size_t queued_bytes_ = 0;
  std::string current_;
  std::vector<stream_batch> pending_;  // live batches that arrived during the replay
  std::size_t pending_bytes_ = 0;
  std::int64_t high_water_ = -1;  // the newest seq queued; live messages at or below it are skipped
  bool replaying_ = false;
  bool page_wanted_ = false;
  bool writing_ = false;
  bool closed_ = false;
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, shared_state& st) : stream_(std::move(socket)), st_(st) { st_.stats.connections(1); }
  ~session() {
    st_.stats.connections(-1);
    st_.conns.leave(this);  // last: leaving may let the next connection in
  }

  void run() { asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); }); }

  // Since when this connection waits for (the rest of) a request; 0 while
  // a request is being answered. The connection table evicts by it.
  std::int64_t idle_since() const { return idle_since_.load(); }

  // Closes the connection if it is still idle by the time its strand runs.
  void evict() {
    evicted_ = true;
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_since_.load() == 0) return;  // a request came in meanwhile: it gets its answer
      self->st_.stats.dropped("idle_evicted");
      self->drop();
    });
  }
  bool evicted() const { return evicted_.load(); }
  // No byte received since it was accepted: the first to go when room is needed.
  bool silent() const { return !heard_.load(); }

  void refuse() {
    st_.stats.dropped("over_capacity");
    drop();
  }

 private:
  // Between requests a connection may stay `idle_timeout`; once the first
  // byte came, the whole request must arrive within `request_timeout`.
  void wait_for_request() {
    idle_since_ = steady_ns();
    if (buffer_.size() > 0) return read_request();  // pipelined: the next request is already here
    stream_.expires_after(st_.opts.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (n > 0) self->heard_ = true;
      if (ec) return self->close();
      self->read_request();
    });
  }

  void read_request() {
    parser_.emplace();
    parser_->body_limit(st_.opts.max_body);
    parser_->header_limit(static_cast<std::uint32_t>(st_.opts.max_header));
    stream_.expires_after(st_.opts.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    idle_since_ = 0;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit)
      return reply_error(413, "payload_too_large",
                         fmt::format("the request body is larger than the {} byte limit", st_.opts.max_body));
    if (ec == http::error::header_limit)
      return reply_error(431, "headers_too_large",
                         fmt::format("the request headers are larger than the {} byte limit", st_.opts.max_header));
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category())
      return reply_error(400, "invalid", "the request is not well-formed HTTP/1.1");
    if (ec) return close();

    auto& msg = parser_->get();
    auto req = std::make_shared<request>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req->headers[name] = std::string(field.value());
    }
    req->body = std::move(msg.body());
    req->id = request_id_ = request_id_for(req->header("x-request-id"));
    {
      beast::error_code ec_peer;
      const auto peer = stream_.socket().remote_endpoint(ec_peer);
      if (!ec_peer) req->peer = peer.address().to_string();
    }
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == http::verb::head;

    const std::string path = path_of(req->target);
    if (req->method == "GET" && path == "/api/v1/stream") return open_stream(*req);

    ++st_.in_flight;
    auto respond = [self = shared_from_this()](response r) {
      asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
    };
    // Reads go to the read pool; writes are parsed here and queued to the
    // writer; the probes answer at once, whatever else is going on.
    const bool read = ((req->method == "GET" || req->method == "HEAD") && path != "/healthz" && path != "/readyz") ||
                      api::blocking(*req);
    if (!read) return st_.endpoints.handle(*req, std::move(respond));
    auto& endpoints = st_.endpoints;
    if (!st_.reads.try_post([&endpoints, req, respond] { endpoints.handle(*req, respond); })) {
      st_.stats.dropped("reads_full");
      st_.stats.request_done("busy", 503);
      log_request(req->method, "busy", 503);
      write(busy_response("reads"));
    }
  }

  void open_stream(const request& req) {
    auto who = st_.endpoints.authenticate(req);
    auto refuse = [this](response r) {
      ++st_.in_flight;
      st_.stats.request_done("GET /api/v1/stream", r.status);
      log_request("GET", "GET /api/v1/stream", r.status);
      write(std::move(r));
    };
    if (!who) {
      response r = who.error().code == engine::errc::not_found
                       ? api::json_response(401, {{"error", {{"code", "unauthorized"}, {"message", who.error().message}}}})
                       : api::error_response(who.error());
      if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return refuse(std::move(r));
    }
    std::optional<std::int64_t> last;
    const auto& header = req.header("last-event-id");
    if (!header.empty()) {
      last = detail::to_int(header);
      if (!last || *last < 0)
        return refuse(api::error_response(
            {engine::errc::invalid, "Last-Event-ID must be the seq (a whole number) of the last event received"}));
    }
    if (st_.streams.fetch_add(1) >= st_.opts.max_streams) {
      st_.streams.fetch_sub(1);
      st_.stats.dropped("streams_full");
      return refuse(busy_response("event streams open"));
    }
    st_.stats.request_done("GET /api/v1/stream", 200);
    log_request("GET", "GET /api/v1/stream", 200, who->name);  // the stream opens: its one line
    request credentials;
    for (const char* name : {"authorization", "cookie"})
      if (!req.header(name).empty()) credentials.headers[name] = req.header(name);
    std::make_shared<stream_session>(std::move(stream_), st_, std::move(credentials))->start(last);
  }

  void reply_error(int status, const char* code, const std::string& message) {
    ++st_.in_flight;
    keep_alive_ = false;
    st_.stats.request_done("rejected", status);
    request_id_ = request_id_for("");
    log_request("", "rejected", status);
    write(api::json_response(status, {{"error", {{"code", code}, {"message", message}}}}));
  }

  // The line of a request answered here, not by the API: refused before
  // routing (no actor is known), or a stream opened (its token's name).
  void log_request(const std::string& method, const char* route, int status, const std::string& actor = "") {
    st_.log.write(log_level::info, "request",
                  {{"method", method.empty() ? engine::json(nullptr) : engine::json(method)},
                   {"route", route},
                   {"status", status},
                   {"actor", actor.empty() ? engine::json(nullptr) : engine::json(actor)},
                   {"ticket", nullptr},
                   {"request_id", request_id_}});
  }

  void write(response r) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "plaint");
    res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->set(name, value);
    if (!request_id_.empty()) res->set("X-Request-Id", request_id_);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !evicted_);
    res->prepare_payload();
    if (head_) res->body().clear();  // the headers (Content-Length too) of the GET, no body
    stream_.expires_after(st_.opts.write_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      --self->st_.in_flight;
      if (ec || res->need_eof()) return self->close();
      self->wait_for_request();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // Closes at once, cancelling whatever waits on the socket.
  void drop() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  shared_state& st_;
  beast::flat_buffer buffer_;
  std::string request_id_;  // of the request being answered
  std::optional<http::request_parser<http::string_body>> parser_;
  std::atomic<std::int64_t> idle_since_{0};
  std::atomic<bool> evicted_{false};
  std::atomic<bool> heard_{false};
  bool keep_alive_ = true;
  bool head_ = false;
};

bool connection_table::has_room(std::function<void()> on_room) {
  std::lock_guard<std::mutex> lock(mu_);
  if (live_.size() < max_) return true;
  on_room_ = std::move(on_room);
  return false;
}

void connection_table::admit(const std::shared_ptr<session>& s) {
  std::lock_guard<std::mutex> lock(mu_);
  live_.emplace(s.get(), s);
}

void connection_table::leave(const session* s) {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_.erase(s);
    if (live_.size() < max_) notify = std::exchange(on_room_, nullptr);
  }
  if (notify) notify();
}

std::size_t connection_table::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.size();
}

std::size_t connection_table::leaving() {
  std::size_t n = 0;
  std::vector<std::shared_ptr<session>> held;  // released after the lock (see evict_idle)
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, weak] : live_) {
    (void)key;
    auto s = weak.lock();
    if (s && s->evicted()) ++n;
    if (s) held.push_back(std::move(s));
  }
  return n;
}

std::size_t connection_table::evict_idle(std::size_t n) {
  struct candidate {
    bool heard;
    std::int64_t since;
    std::shared_ptr<session> s;
  };
  // Every session locked here is released after the lock: if it is the
  // last owner, the session's destructor leaves the table (and takes mu_).
  std::vector<candidate> idle;
  std::vector<std::shared_ptr<session>> others;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, weak] : live_) {
      (void)key;
      auto s = weak.lock();
      if (!s) continue;
      const auto since = s->idle_since();
      if (!s->evicted() && since != 0)
        idle.push_back({!s->silent(), since, std::move(s)});
      else
        others.push_back(std::move(s));
    }
  }
  n = std::min(n, idle.size());
  std::partial_sort(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(n), idle.end(),
                    [](const candidate& a, const candidate& b) {
                      return a.heard != b.heard ? !a.heard : a.since < b.since;
                    });
  for (std::size_t i = 0; i < n; ++i) idle[i].s->evict();
  return n;
}

// Accepts connections, one at a time, on its own strand.
//
// At --max-connections it evicts one idle connection (in the table's
// order) and accepts the next only when a connection has left (the table
// calls back), so the cap holds even while an evicted socket is still
// closing; with nobody idle the new connection is accepted and closed at
// once.
//
// When accept fails — out of file descriptors, say — the waiting
// connection stays in the listen queue, and a health check may wait behind
// a flood of sockets that will never send a byte. Each failure closes a
// quarter of the connections (at least 8), silent ones first, and tries
// again a millisecond later, so the queue drains in a few rounds however
// long it is; with nothing idle to close it waits, doubling the pause up to
// a second, instead of spinning on the error.
class acceptor_loop {
 public:
  acceptor_loop(tcp::acceptor& acceptor, asio::io_context& ioc, shared_state& st)
      : acceptor_(acceptor), ioc_(ioc), st_(st), strand_(asio::make_strand(ioc)), pause_(strand_) {}
  ~acceptor_loop() { st_.conns.forget_room(); }
  acceptor_loop(const acceptor_loop&) = delete;
  acceptor_loop& operator=(const acceptor_loop&) = delete;

  void accept() {
    if (!acceptor_.is_open()) return;
    bool refusing = false;
    if (!st_.conns.has_room([this] { asio::post(strand_, [this] { room_made(); }); })) {
      if (st_.conns.evict_idle(1) > 0) return wait_for_room();
      refusing = true;  // nobody idle: the next one is closed at once
    }
    acceptor_.async_accept(
        asio::make_strand(ioc_), asio::bind_executor(strand_, [this, refusing](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
          if (ec) return back_off(ec);
          backoff_ = std::chrono::milliseconds(0);
          auto s = std::make_shared<session>(std::move(socket), st_);
          // A connection may have left meanwhile; the table was full when we looked.
          if (refusing && !st_.conns.has_room(nullptr)) {
            s->refuse();
          } else {
            st_.conns.admit(s);
            s->run();
          }
          accept();
        }));
  }

  void cancel() {
    asio::post(strand_, [this] {
      waiting_ = false;
      pause_.cancel();
    });
  }

 private:
  // Evicted connections close on their own strands; the table calls back
  // when one has left. A victim that received a request meanwhile is
  // answered first, so after `room_wait` another idle one is tried.
  void wait_for_room() {
    waiting_ = true;
    pause_.expires_after(room_wait);
    pause_.async_wait([this](beast::error_code ec) {
      if (!ec) room_made();
    });
  }

  void room_made() {
    if (!waiting_) return;  // the timer and the table's call-back race; the first one resumes
    waiting_ = false;
    pause_.cancel();
    accept();
  }

  void back_off(const beast::error_code& ec) {
    st_.stats.dropped("accept_failed");
    // A flood fails accept once per round, so say it at most every 10 s;
    // /metrics counts each (accept_failed).
    const auto now = steady::now();
    if (reported_ == steady::time_point{} || now - reported_ >= std::chrono::seconds(10)) {
      std::cerr << "plaint serve: cannot accept a connection: " << ec.message() << '\n';
      reported_ = now;
    }
    // Those evicted in earlier rounds count: if their strands have not run
    // yet (a slow or busy process), evicting more would reach the newest
    // connections — the one we are trying to let in among them.
    const std::size_t wanted = std::max<std::size_t>(8, st_.conns.size() / 4);
    const std::size_t leaving = st_.conns.leaving();
    const std::size_t closed = leaving + (leaving < wanted ? st_.conns.evict_idle(wanted - leaving) : 0);
    backoff_ = closed > 0 ? std::chrono::milliseconds(1)
                          : std::min<std::chrono::milliseconds>(
                                std::max<std::chrono::milliseconds>(backoff_ * 2, std::chrono::milliseconds(10)),
                                std::chrono::seconds(1));
    waiting_ = false;
    pause_.expires_after(backoff_);
    pause_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) accept();
    });
  }

  static constexpr std::chrono::milliseconds room_wait{20};

  tcp::acceptor& acceptor_;
  asio::io_context& ioc_;
  shared_state& st_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer pause_;
  std::chrono::milliseconds backoff_{0};
  bool waiting_ = false;  // for room at the connection cap
  steady::time_point reported_{};  // when an accept failure was last written to stderr
};

// Every connection and stream holds a file descriptor, and so do the
// database connections: take the hard limit, and say so when the limits
// configured could still run out of descriptors (accept then backs off and
// frees idle connections, but the limits are the documented bound).
void raise_fd_limit(const options& opts) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  const auto wanted = static_cast<rlim_t>(opts.max_connections + opts.max_streams) + 64;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted)
    std::cerr << fmt::format(
        "plaint serve: only {} file descriptors for --max-connections {} and --max-streams {}; "
        "idle connections are closed when they run out\n",
        rl.rlim_cur, opts.max_connections, opts.max_streams);
}

engine::Result<tcp::endpoint> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    return engine::make_error(engine::errc::invalid, fmt::format("--listen '{}' is not HOST:PORT", listen));
  beast::error_code ec;
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const auto address = asio::ip::make_address(host, ec);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (ec || port < 0 || port > 65535)
    return engine::make_error(engine::errc::invalid, fmt::format("--listen '{}' is not an IP address and port", listen));
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace

engine::Status run(const options& opts, store_factory open_store, const engine::workflow_registry& workflows,
                   engine::sla_policy policy, const std::function<void(const std::string&)>& on_listening,
                   policy_loader reload) {
  auto endpoint = parse_listen(opts.listen);
  PLAINT_TRY(endpoint);
  raise_fd_limit(opts);
  auto writer_store = open_store();
  PLAINT_TRY(writer_store);

  engine::system_clock clock;
  const logger log(opts.log);
  metrics stats;
  hub events;
  store_pool readers(open_store, opts.read_timeout);
  // Sessions refer to these until the io_context and the read pool drop
  // the last handlers that hold them, so they are declared first.
  connection_table conns(opts.max_connections);
  std::optional<shared_state> shared;
  read_pool reads(opts.read_threads, opts.max_queued_reads);
  // Declared before the writer: answers the writer gives at its end reach
  // sessions whose sockets belong to this io_context, which must outlive it.
  asio::io_context ioc(opts.threads);
  writer w(std::move(*writer_store), workflows, std::move(policy), clock, stats, events, opts.max_batch, &ioc,
           std::move(reload));
  w.set_max_queue(opts.max_queued_writes);
  w.set_idempotency_retention(opts.idempotency_retention);
  w.set_log(&log);
  api endpoints(w, readers, stats, clock, workflows, opts.web, opts.sla);
  endpoints.set_log(&log);
  shared_state& st = shared.emplace(opts, endpoints, events, stats, readers, reads, conns, log);

  tcp::acceptor acceptor(ioc);
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return engine::make_error(engine::errc::invalid, fmt::format("cannot listen on {}: {}", opts.listen, ec.message()));

  // The outbox is delivered on a thread of its own, reading on its own
  // connection and writing through the writer: a slow or dead receiver
  // never holds up a transition.
  auto outbox_reads = open_store();
  if (!outbox_reads) return outbox_reads.error();
  // Several nodes: every node's events reach this node's streams in seq
  // order, and its timers hear of tickets changed elsewhere.
  std::unique_ptr<node_feed> cluster;
  if (opts.open_feed) {
    auto feed = opts.open_feed();
    PLAINT_TRY(feed);
    auto feed_reads = open_store();
    PLAINT_TRY(feed_reads);
    cluster = std::make_unique<node_feed>(std::move(*feed_reads), std::move(*feed), events, [&w] { w.poke_timers(); });
    PLAINT_TRY(cluster->start());
    w.set_publisher([&c = *cluster](const std::vector<engine::event_record>& e) { c.committed(e); });
  }
  w.start();
  auto through_writer = [&w](const write_work& work) -> engine::Status {
    auto done = std::make_shared<std::promise<engine::Result<engine::json>>>();
    auto answer = done->get_future();
    w.submit_task([&work](engine::store_transaction& tx) -> engine::Result<engine::json> {
      PLAINT_TRY(work(tx));
      return engine::json();
    }, [done](engine::Result<engine::json> r) { done->set_value(std::move(r)); });
    auto r = answer.get();
    if (!r) return r.error();
    return {};
  };
  outbox_runner outbox(std::move(*outbox_reads), through_writer, clock, opts.delivery, std::chrono::milliseconds(250));
  const auto bound = acceptor.local_endpoint();
  on_listening(fmt::format("http://{}:{}", bound.address().to_string(), bound.port()));
  acceptor_loop accepting(acceptor, ioc, st);
  accepting.accept();

  // Graceful stop: no new connections; the writer commits and answers what
  // is queued; then in-flight responses drain (bounded) and the loop ends.
  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  asio::steady_timer drain(ioc);
  // Sessions waiting for the writer have no operation pending on the
  // io_context; without this guard it could run dry and drop their answers.
  auto keep_running = asio::make_work_guard(ioc);
  std::function<void(int)> wait_drained = [&](int tries) {
    if (st.in_flight.load() <= 0 || tries <= 0) {
      keep_running.reset();
      return ioc.stop();
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&, tries](beast::error_code) { wait_drained(tries - 1); });
  };
  std::thread stopper;
  signals.async_wait([&](beast::error_code, int) {
    beast::error_code ignored;
    acceptor.close(ignored);
    accepting.cancel();
    stopper = std::thread([&] {
      outbox.stop();  // it writes through the writer: stopped first
      w.stop();  // blocks until the queue is committed; answers go out on the I/O threads
      asio::post(ioc, [&] { wait_drained(500); });
    });
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < opts.threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  if (stopper.joinable()) stopper.join();
  reads.join();
  outbox.stop();
  w.stop();
  if (cluster) cluster->stop();
  return {};
}

}  // namespace plaint::server
