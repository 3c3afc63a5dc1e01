// The Beast transport of `plaint serve`. Beast and Asio stay in this file
// (and writer.cpp); the API sees plain request/response values.
#include "server/server.h"

#include <atomic>
#include <csignal>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "server/api.h"
#include "server/hub.h"
#include "server/metrics.h"
#include "server/writer.h"

namespace plaint::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct shared_state {
  const options& opts;
  api& endpoints;
  hub& events;
  metrics& stats;
  store_pool& readers;
  std::atomic<int> in_flight{0};
};

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// One live event stream (GET /api/v1/stream): replays after Last-Event-ID,
// then forwards what the hub publishes, with ": ping" comments when idle.
class stream_session : public std::enable_shared_from_this<stream_session> {
 public:
  stream_session(beast::tcp_stream stream, shared_state& st)
      : stream_(std::move(stream)), st_(st), ping_(stream_.get_executor()) {}

  ~stream_session() {
    if (sub_) st_.events.unsubscribe(sub_);
    st_.stats.sse_clients(-1);
  }

  void start(std::optional<std::int64_t> last_id) {
    st_.stats.sse_clients(1);
    stream_.expires_never();
    auto weak = weak_from_this();
    auto exec = stream_.get_executor();
    // Subscribe before replaying, so nothing committed in between is lost;
    // live messages already replayed are skipped by seq.
    sub_ = st_.events.subscribe([weak, exec](const stream_batch& batch) {
      asio::post(exec, [weak, batch] {
        if (auto self = weak.lock()) self->deliver(*batch);
      });
    });
    queue_.push_back(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
        "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\n: connected\n\n");
    if (last_id) {
      if (auto s = st_.readers.acquire()) {
        (void)(**s).scan_events(*last_id, [this](const engine::event_record& e) {
          auto m = hub::format(e);
          high_water_ = m.seq;
          queue_.push_back(std::move(m.text));
          return true;
        });
      }
    } else {
      high_water_ = -1;  // live only: take whatever arrives from now on
    }
    write_next();
    arm_ping();
  }

 private:
  void deliver(const std::vector<stream_message>& batch) {
    for (const auto& m : batch) {
      if (high_water_ >= 0 && m.seq <= high_water_) continue;
      queue_.push_back(m.text);
    }
    write_next();
  }

  void write_next() {
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    asio::async_write(stream_, asio::buffer(current_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (ec) return self->close();
                        self->write_next();
                      });
  }

  void arm_ping() {
    ping_.expires_after(st_.opts.stream_ping);
    // The ping chain holds the session alive while the client stays; a
    // failed write (client gone) closes it and ends the chain.
    ping_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (self->queue_.empty()) self->queue_.push_back(": ping\n\n");
      self->write_next();
      self->arm_ping();
    });
  }

  void close() {
    closed_ = true;
    ping_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  beast::tcp_stream stream_;
  shared_state& st_;
  asio::steady_timer ping_;
  std::uint64_t sub_ = 0;
  std::deque<std::string> queue_;
  std::string current_;
  std::int64_t high_water_ = -1;
  bool writing_ = false;
  bool closed_ = false;
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, shared_state& st) : stream_(std::move(socket)), st_(st) {}

  void run() { asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); }); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(st_.opts.max_body);
    parser_->header_limit(static_cast<std::uint32_t>(st_.opts.max_header));
    stream_.expires_after(st_.opts.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit)
      return reply_error(413, "payload_too_large", "the request body is larger than the 1 MiB limit");
    if (ec == http::error::header_limit)
      return reply_error(431, "headers_too_large", "the request headers are larger than the 16 KiB limit");
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category())
      return reply_error(400, "invalid", "the request is not well-formed HTTP/1.1");
    if (ec) return close();

    auto& msg = parser_->get();
    request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(field.value());
    }
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == http::verb::head;

    if (req.method == "GET" && path_of(req.target) == "/api/v1/stream") return open_stream(req);

    ++st_.in_flight;
    st_.endpoints.handle(req, [self = shared_from_this()](response r) {
      asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
    });
  }

  void open_stream(const request& req) {
    auto who = st_.endpoints.authenticate(req);
    if (!who) {
      ++st_.in_flight;
      response r = who.error().code == engine::errc::not_found
                       ? api::json_response(401, {{"error", {{"code", "unauthorized"}, {"message", who.error().message}}}})
                       : api::error_response(who.error());
      if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
      st_.stats.request_done("GET /api/v1/stream", r.status);
      return write(std::move(r));
    }
    st_.stats.request_done("GET /api/v1/stream", 200);
    std::optional<std::int64_t> last;
    const auto& header = req.header("last-event-id");
    if (!header.empty()) {
      try {
        last = std::stoll(header);
      } catch (const std::exception&) {
        last = 0;  // an unreadable id replays everything
      }
    }
    std::make_shared<stream_session>(std::move(stream_), st_)->start(last);
  }

  void reply_error(int status, const char* code, const char* message) {
    ++st_.in_flight;
    keep_alive_ = false;
    st_.stats.request_done("rejected", status);
    write(api::json_response(status, {{"error", {{"code", code}, {"message", message}}}}));
  }

  void write(response r) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "plaint");
    res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    if (head_) res->body().clear();  // the headers (Content-Length too) of the GET, no body
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      --self->st_.in_flight;
      if (ec || res->need_eof()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  shared_state& st_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  bool head_ = false;
};

void accept_loop(tcp::acceptor& acceptor, asio::io_context& ioc, shared_state& st) {
  acceptor.async_accept(asio::make_strand(ioc), [&acceptor, &ioc, &st](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) std::make_shared<session>(std::move(socket), st)->run();
    accept_loop(acceptor, ioc, st);
  });
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
  auto writer_store = open_store();
  PLAINT_TRY(writer_store);

  engine::system_clock clock;
  metrics stats;
  hub events;
  store_pool readers(open_store);
  // Declared before the writer: answers the writer gives at its end reach
  // sessions whose sockets belong to this io_context, which must outlive it.
  asio::io_context ioc(opts.threads);
  writer w(std::move(*writer_store), workflows, std::move(policy), clock, stats, events, opts.max_batch, &ioc,
           std::move(reload));
  api endpoints(w, readers, stats, clock);
  shared_state st{opts, endpoints, events, stats, readers};

  tcp::acceptor acceptor(ioc);
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return engine::make_error(engine::errc::invalid, fmt::format("cannot listen on {}: {}", opts.listen, ec.message()));

  w.start();
  const auto bound = acceptor.local_endpoint();
  on_listening(fmt::format("http://{}:{}", bound.address().to_string(), bound.port()));
  accept_loop(acceptor, ioc, st);

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
    stopper = std::thread([&] {
      w.stop();  // blocks until the queue is committed; answers go out on the I/O threads
      asio::post(ioc, [&] { wait_drained(500); });
    });
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < opts.threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  if (stopper.joinable()) stopper.join();
  w.stop();
  return {};
}

}  // namespace plaint::server
