// The HTTP load benchmark: durable transitions per second and latency
// (p50/p99) through `plaint serve` over loopback at 1, 16 and 64 concurrent
// keep-alive connections; beside it, in-process, the engine's batched path
// (executor::apply_batch, the group-commit core) and the raw SQLite batched
// limit (the same kind of rows, plain prepared statements, one transaction
// per batch) on the same machine.
//
//   bench_http_load [--seconds S] [--plaint PATH] [--conns 1,16,64] [--keep]
//
// Every request is a `comment` event (accepted in every open state, so a
// connection can fire them back to back on its own ticket). Not a test.
//
//   bench_http_load --pg postgresql://USER@HOST:PORT/postgres [--seconds S]
//
// runs 64 connections against one, two and three `plaint serve` nodes on
// one PostgreSQL database (a fresh database per run, created through that
// URL; audit verify afterwards), with one SQLite node beside them.
//
//   bench_http_load --outbox [--seconds S]
//
// measures 64 connections twice, on a desk without webhooks and on one
// whose webhook wants every event (an outbox row per transaction for all of
// its events, delivered one POST per event
// by the server's worker to a receiver in this process), and prints the
// ratio (the outbox may cost at most 10 %).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/support.h"
#include "engine/audit.h"
#include "engine/executor.h"
#include "engine/tokens.h"
#include "storage/open_store.h"
#include "storage/pg_connection.h"
#include "storage/sqlite_search.h"
#include "storage/sqlite_store.h"
#include "workflows/registry.h"

extern char** environ;
namespace fs = std::filesystem;
using namespace plaint;
using clock_type = std::chrono::steady_clock;

namespace {

using bench::die;
using bench::must;
using bench::open_store;

// Creates the desk: one customer, `tickets` open complaints, an agent token.
std::string seed_store(engine::store& s, int tickets) {
  engine::store* store = &s;
  engine::system_clock clock;
  engine::executor ex(*store, workflows::builtin_workflows(), clock);
  engine::customer c;
  c.id = "load";
  c.name = "Load Test Ltd";
  must(ex.put_customer(engine::customer_update::whole(c, "bench")), "customer");
  std::vector<engine::batch_request> batch;
  for (int i = 0; i < tickets; ++i) {
    engine::open_request o;
    o.customer = "load";
    o.subject = fmt::format("load ticket {}", i);
    o.actor = "bench";
    batch.push_back(o);
  }
  must(ex.apply_batch(batch), "open tickets");
  auto token = must(engine::issue_token("bench", "agent", clock.now()), "token");
  auto tx = must(store->begin(), "begin");
  must(tx->put_token(token.record), "put token");
  must(tx->commit(), "commit");
  return token.text;
}

std::string seed(const std::string& path, int tickets) {
  auto store = open_store(path);
  return seed_store(*store, tickets);
}

// A new database `name` on the PostgreSQL server of `admin_url`; its URL.
std::string fresh_pg_database(const std::string& admin_url, const std::string& name) {
  auto admin = must(storage::pg::connection::open(admin_url), "connect to " + admin_url);
  must(admin->exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "drop"), "drop " + name);
  must(admin->exec("CREATE DATABASE " + name + " ENCODING 'UTF8' TEMPLATE template0", "create"), "create " + name);
  const auto query = admin_url.find('?');
  const auto slash = admin_url.rfind('/', query == std::string::npos ? admin_url.size() : query);
  return admin_url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : admin_url.substr(query));
}

// A webhook that wants every event: an outbox row per transition.
void add_hook(const std::string& db, const std::string& url) {
  auto store = open_store(db);
  engine::webhook w;
  w.url = url;
  w.secret = "bench-secret-0123456789";
  w.created_by = "bench";
  auto tx = must(store->begin(), "begin");
  must(tx->put_webhook(w), "webhook");
  must(tx->commit(), "commit");
}

struct server_process {
  pid_t pid = -1;
  int port = 0;
  ~server_process() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int st = 0;
      waitpid(pid, &st, 0);
    }
  }
};

void start_server(server_process& sp, const std::string& plaint, const std::string& db) {
  int out[2];
  if (pipe(out) != 0) die("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::vector<std::string> args{plaint, "--db", db, "serve", "--listen", "127.0.0.1:0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawn(&sp.pid, plaint.c_str(), &fa, nullptr, argv.data(), environ) != 0) die("cannot start " + plaint);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  std::string line;
  char ch;
  while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  close(out[0]);
  const auto colon = line.rfind(':', line.find(" (database"));
  if (colon == std::string::npos) die("server did not say where it listens: " + line);
  sp.port = std::atoi(line.c_str() + colon + 1);
}

// The load client: every connection keeps one request in flight (a new one
// goes out as soon as the answer is read), all driven by one epoll thread,
// as wrk does: the client must not take the server's cores away from it
// with a thread per connection.
struct load_figures {
  int conns = 0;
  std::int64_t ok = 0, failed = 0;
  double seconds = 0, p50_ms = 0, p99_ms = 0;
  double tps() const { return ok / seconds; }
};

int connect_loopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) die("connect");
  return fd;
}

struct client_conn {
  int fd = -1;
  std::string request;  // the same request every time, to its own ticket
  std::string in;
  clock_type::time_point sent;
  std::vector<double> latency_ms;
  bool open = true;
};

// Sends the connection's request; false if the socket failed.
bool send_request(client_conn& c) {
  c.sent = clock_type::now();
  for (std::size_t done = 0; done < c.request.size();) {
    const ssize_t n = send(c.fd, c.request.data() + done, c.request.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{c.fd, POLLOUT, 0};
      poll(&p, 1, 1000);
      continue;
    }
    return false;
  }
  return true;
}

// The status of one complete answer taken off the front of `in`, 0 if the
// answer is not complete yet.
int take_answer(std::string& in) {
  const auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::size_t length = 0;
  const auto cl = in.find("Content-Length: ");
  if (cl != std::string::npos && cl < end) length = std::strtoul(in.c_str() + cl + 16, nullptr, 10);
  if (in.size() < end + 4 + length) return 0;
  const int status = std::atoi(in.c_str() + 9);
  in.erase(0, end + 4 + length);
  return status;
}

load_figures run_load(const std::vector<int>& ports, int conns, double seconds, const std::string& token);

load_figures run_load(int port, int conns, double seconds, const std::string& token) {
  return run_load(std::vector<int>{port}, conns, seconds, token);
}

// Connection i goes to ports[i % ports.size()]: load spread over nodes.
load_figures run_load(const std::vector<int>& ports, int conns, double seconds, const std::string& token) {
  const std::string body = R"({"event":"comment","note":"called the customer back"})";
  std::vector<client_conn> cs(static_cast<std::size_t>(conns));
  const int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < conns; ++i) {
    auto& c = cs[static_cast<std::size_t>(i)];
    c.fd = connect_loopback(ports[static_cast<std::size_t>(i) % ports.size()]);
    c.request = fmt::format(
        "POST /api/v1/tickets/{}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n"
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        i + 1, token, body.size(), body);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl");
  }
  // Connected before the clock starts.
  for (auto& c : cs) {
    pollfd p{c.fd, POLLOUT, 0};
    if (poll(&p, 1, 5000) != 1) die("connect timed out");
  }
  load_figures f;
  f.conns = conns;
  const auto t0 = clock_type::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  for (auto& c : cs)
    if (!send_request(c)) die("send");
  int in_flight = conns;
  std::vector<epoll_event> ready(static_cast<std::size_t>(conns));
  char buf[65536];
  while (in_flight > 0) {
    const int n = epoll_wait(ep, ready.data(), conns, 1000);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int k = 0; k < n; ++k) {
      auto& c = cs[ready[static_cast<std::size_t>(k)].data.u32];
      if (!c.open) continue;
      for (;;) {
        const ssize_t got = recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) {
          c.in.append(buf, static_cast<std::size_t>(got));
          continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        c.open = false;  // closed or failed mid-answer
        ++f.failed;
        --in_flight;
        break;
      }
      if (!c.open) continue;
      const int status = take_answer(c.in);
      if (status == 0) continue;
      const auto now = clock_type::now();
      c.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - c.sent).count());
      (status == 200 ? f.ok : f.failed)++;
      if (now >= deadline || !send_request(c)) {
        c.open = false;
        --in_flight;
      }
    }
  }
  f.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  close(ep);
  std::vector<double> all;
  for (auto& c : cs) {
    close(c.fd);
    all.insert(all.end(), c.latency_ms.begin(), c.latency_ms.end());
  }
  std::sort(all.begin(), all.end());
  if (!all.empty()) {
    f.p50_ms = all[all.size() / 2];
    f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return f;
}

// In-process: the engine's batched path, `batch` comments per transaction.
// As plaint serve's writer: the store leaves the texts to an indexer thread.
double engine_batched(const std::string& path, int batch, int batches) {
  auto store = must(storage::sqlite_store::open(path), "open");
  store->set_search_batch(0);
  storage::background_indexer indexer(must(storage::search_file::open(path, 5000), "open the search file"));
  engine::system_clock clock;
  engine::executor ex(*store, workflows::builtin_workflows(), clock);
  const auto t0 = clock_type::now();
  for (int b = 0; b < batches; ++b) {
    std::vector<engine::batch_request> items;
    for (int i = 0; i < batch; ++i)
      items.push_back(engine::event_request{1 + i % 64, "comment", "called the customer back", {}, std::nullopt, "bench", ""});
    auto r = must(ex.apply_batch(items), "batch");
    for (auto& one : r)
      if (!one) die("engine batch: " + one.error().message);
  }
  return batch * batches / std::chrono::duration<double>(clock_type::now() - t0).count();
}

// The texts committed to the desk at `db` that its search file has not
// taken in yet (storage/sqlite_search.h: plaint serve's indexer thread).
std::int64_t search_lag(const std::string& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) die("open " + db);
  sqlite3_stmt* st = nullptr;
  const std::string attach = "ATTACH '" + db + "-search' AS s";
  if (sqlite3_exec(h, attach.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(h, "SELECT (SELECT coalesce(max(rowid), 0) FROM search_text) - (SELECT indexed_to FROM s.search_mark)",
                         -1, &st, nullptr) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW)
    die(std::string("cannot read the search index's lag: ") + sqlite3_errmsg(h));
  const std::int64_t lag = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return lag;
}

// How long the search file takes to catch up after a load, in ms (the
// server still running).
double search_catch_up_ms(const std::string& db) {
  const auto started = std::chrono::steady_clock::now();
  while (search_lag(db) > 0) {
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(60)) die("the search index did not catch up");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

// The raw limit: per transition an UPDATE of the ticket (naming its new
// event), an INSERT of the event (with two 64-hex hashes and the link to the
// ticket's previous event) and of the note's search text. Since schema 15
// the full-text rows are the search file's, written outside the desk's
// transaction (storage/sqlite_search.h), so the desk's transaction holds
// no more than this.
double raw_batched(const std::string& path, int batch, int batches) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) die("raw open");
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", nullptr, nullptr, nullptr);
  sqlite3_stmt *upd, *ins, *text, *last;
  sqlite3_prepare_v2(db, "UPDATE tickets SET version = version + 1, updated_at = ?2, last_event = ?3 WHERE id = ?1",
                     -1, &upd, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO events (seq, ticket, at, actor, event, from_state, to_state, version, payload, "
                     "prev_hash, hash, ticket_prev) "
                     "VALUES (?1, ?2, ?3, 'bench', 'comment', 'intake', 'intake', ?4, ?5, ?6, ?6, ?7)",
                     -1, &ins, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO search_text (key, body) VALUES (?1, 'called the customer back')", -1, &text,
                     nullptr);
  if (!upd || !ins || !text) die(std::string("raw statements: ") + sqlite3_errmsg(db));
  sqlite3_prepare_v2(db, "SELECT max(seq) FROM events", -1, &last, nullptr);
  sqlite3_step(last);
  std::int64_t seq = sqlite3_column_int64(last, 0);
  sqlite3_finalize(last);
  std::vector<std::int64_t> newest(65, 0);  // each ticket's newest event, kept here rather than read
  sqlite3_prepare_v2(db, "SELECT id, last_event FROM tickets WHERE id <= 64", -1, &last, nullptr);
  while (sqlite3_step(last) == SQLITE_ROW)
    newest[static_cast<std::size_t>(sqlite3_column_int64(last, 0))] = sqlite3_column_int64(last, 1);
  sqlite3_finalize(last);
  const std::string hash(64, 'a');
  const std::string payload = R"({"note":"called the customer back"})";
  const auto t0 = clock_type::now();
  for (int b = 0; b < batches; ++b) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int i = 0; i < batch; ++i) {
      const std::int64_t ticket = 1 + i % 64;
      auto& prev = newest[static_cast<std::size_t>(ticket)];
      sqlite3_bind_int64(upd, 1, ticket);
      sqlite3_bind_int64(upd, 2, 1'800'000'000);
      sqlite3_bind_int64(upd, 3, ++seq);
      if (sqlite3_step(upd) != SQLITE_DONE) die(sqlite3_errmsg(db));
      sqlite3_reset(upd);
      sqlite3_bind_int64(ins, 7, prev);
      prev = seq;
      sqlite3_bind_int64(ins, 1, seq);
      sqlite3_bind_int64(ins, 2, ticket);
      sqlite3_bind_int64(ins, 3, 1'800'000'000);
      sqlite3_bind_int64(ins, 4, seq);
      sqlite3_bind_text(ins, 5, payload.data(), int(payload.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 6, hash.data(), int(hash.size()), SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) die(sqlite3_errmsg(db));
      sqlite3_reset(ins);
      const std::int64_t key = ticket << 32 | (seq & 0xFFFFFFFF);
      sqlite3_bind_int64(text, 1, key);
      if (sqlite3_step(text) != SQLITE_DONE) die(sqlite3_errmsg(db));
      sqlite3_reset(text);
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db));
  }
  const double tps = batch * batches / std::chrono::duration<double>(clock_type::now() - t0).count();
  sqlite3_finalize(upd);
  sqlite3_finalize(text);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return tps;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::string plaint = (fs::path(argv[0]).parent_path() / "../cli/plaint").string();
  std::vector<int> conn_counts{1, 16, 64};
  bool keep = false;
  bool outbox = false;
  std::string pg_url;  // --pg: one, two and three nodes on this server
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--outbox") outbox = true;
    else if (a == "--pg" && i + 1 < argc) pg_url = argv[++i];
    else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (a == "--plaint" && i + 1 < argc) plaint = argv[++i];
    else if (a == "--keep") keep = true;
    else if (a == "--conns" && i + 1 < argc) {
      conn_counts.clear();
      for (std::string s = argv[++i]; !s.empty();) {
        conn_counts.push_back(std::atoi(s.c_str()));
        const auto comma = s.find(',');
        s = comma == std::string::npos ? "" : s.substr(comma + 1);
      }
    } else die("usage: bench_http_load [--seconds S] [--plaint PATH] [--conns 1,16,64] [--keep] [--outbox] [--pg URL]");
  }
  const fs::path dir = fs::temp_directory_path() / fmt::format("plaint-http-bench-{}", getpid());
  fs::create_directories(dir);
  if (!pg_url.empty()) {
    // One, two and three nodes on one PostgreSQL database, 64 connections
    // spread over them; the same load on one SQLite node beside it.
    std::vector<std::pair<int, load_figures>> runs;
    for (int nodes = 1; nodes <= 3; ++nodes) {
      const std::string url = fresh_pg_database(pg_url, fmt::format("plaint_bench_{}", nodes));
      auto store = must(storage::open_store(url, std::chrono::seconds(5)), "open " + url);
      must(store->migrate(), "migrate");
      const std::string token = seed_store(*store, 64);
      store.reset();
      std::vector<server_process> servers(static_cast<std::size_t>(nodes));
      std::vector<int> ports;
      for (auto& sp : servers) {
        start_server(sp, plaint, url);
        ports.push_back(sp.port);
      }
      runs.emplace_back(nodes, run_load(ports, 64, seconds, token));
      auto check = must(storage::open_store(url, std::chrono::seconds(5)), "open " + url);
      auto audit = must(engine::verify_audit(*check), "audit verify");
      if (!audit.ok) die("audit verify failed after the run: " + audit.message);
    }
    load_figures sqlite_one;
    {
      const std::string db = (dir / "http.db").string();
      const std::string token = seed(db, 64);
      server_process sp;
      start_server(sp, plaint, db);
      sqlite_one = run_load(sp.port, 64, seconds, token);
    }
    fmt::print("plaint HTTP load on PostgreSQL, 64 connections spread over the nodes, {} s each ({} cores)\n", seconds,
               std::thread::hardware_concurrency());
    fmt::print("{:>14} {:>14} {:>10} {:>10} {:>8}\n", "nodes", "transitions/s", "p50 ms", "p99 ms", "errors");
    std::string json = "{\"postgresql\":[";
    for (const auto& [nodes, f] : runs) {
      fmt::print("{:>14} {:>14.0f} {:>10.2f} {:>10.2f} {:>8}\n", fmt::format("{} (pg)", nodes), f.tps(), f.p50_ms,
                 f.p99_ms, f.failed);
      json += fmt::format("{}{{\"nodes\":{},\"tps\":{:.0f},\"p50_ms\":{:.2f},\"p99_ms\":{:.2f},\"errors\":{}}}",
                          nodes == 1 ? "" : ",", nodes, f.tps(), f.p50_ms, f.p99_ms, f.failed);
    }
    fmt::print("{:>14} {:>14.0f} {:>10.2f} {:>10.2f} {:>8}\n", "1 (sqlite)", sqlite_one.tps(), sqlite_one.p50_ms,
               sqlite_one.p99_ms, sqlite_one.failed);
    fmt::print("audit verify passed on every PostgreSQL database afterwards\n");
    json += fmt::format("],\"sqlite\":{{\"tps\":{:.0f},\"p99_ms\":{:.2f}}}}}", sqlite_one.tps(), sqlite_one.p99_ms);
    fmt::print("{}\n", json);
    if (!keep) fs::remove_all(dir);
    return 0;
  }
  if (outbox) {
    bench::sink_receiver receiver;
    load_figures off, on;
    {
      const std::string db = (dir / "off.db").string();
      const std::string token = seed(db, 64);
      server_process sp;
      start_server(sp, plaint, db);
      off = run_load(sp.port, 64, seconds, token);
    }
    std::int64_t queued = 0, delivered_in_run = 0;
    {
      const std::string db = (dir / "on.db").string();
      const std::string token = seed(db, 64);
      add_hook(db, receiver.url());
      server_process sp;
      start_server(sp, plaint, db);
      const std::int64_t before = receiver.received();
      on = run_load(sp.port, 64, seconds, token);
      delivered_in_run = receiver.received() - before;
      auto store = open_store(db);
      auto counts = must(store->count_outbox(), "outbox");
      for (const auto& c : counts) queued += c.count;
    }
    // The backlog left, drained with no load by `plaint notify run --once`
    // (one process, one connection kept alive to the receiver).
    const std::int64_t before_drain = receiver.received();
    const auto d0 = clock_type::now();
    {
      const std::string db = (dir / "on.db").string();
      std::vector<std::string> args{plaint, "--db", db, "notify", "run", "--once"};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      pid_t pid = -1;
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
      if (posix_spawn(&pid, plaint.c_str(), &fa, nullptr, argv.data(), environ) != 0) die("cannot run notify");
      posix_spawn_file_actions_destroy(&fa);
      int st = 0;
      waitpid(pid, &st, 0);
    }
    const double drain_s = std::chrono::duration<double>(clock_type::now() - d0).count();
    const std::int64_t drained = receiver.received() - before_drain;
    // The same receiver's limit: bare HTTP POSTs of a delivery-sized body
    // from one kept-alive libcurl handle, no plaint.
    const double raw_posts = bench::raw_posts_per_second(receiver.url(), 5000);
    // The write side alone, in process: the engine's batched path with and
    // without an outbox row per transition (nothing delivered).
    const std::string plain_db = (dir / "engine-off.db").string(), hook_db = (dir / "engine-on.db").string();
    seed(plain_db, 64);
    seed(hook_db, 64);
    add_hook(hook_db, receiver.url());
    const double engine_off = engine_batched(plain_db, 256, 200);
    const double engine_on = engine_batched(hook_db, 256, 200);
    fmt::print("plaint HTTP load, 64 connections, {} s each ({} cores, SQLite {}, synchronous=FULL)\n",
               seconds, std::thread::hardware_concurrency(), sqlite3_libversion());
    fmt::print("  outbox off (no webhook):           {:>8.0f} transitions/s  p50 {:.2f} ms  p99 {:.2f} ms\n", off.tps(),
               off.p50_ms, off.p99_ms);
    fmt::print("  outbox on (a webhook, every event): {:>8.0f} transitions/s  p50 {:.2f} ms  p99 {:.2f} ms\n", on.tps(),
               on.p50_ms, on.p99_ms);
    fmt::print("  deliveries queued {}, delivered during the run {} ({:.0f}/s); on/off {:.3f} (target >= 0.90)\n",
               queued, delivered_in_run, delivered_in_run / seconds, on.tps() / off.tps());
    fmt::print("  in-process, 256 per transaction: without a webhook {:.0f}/s, with one wanting every event {:.0f}/s, "
               "ratio {:.3f}\n",
               engine_off, engine_on, engine_on / engine_off);
    fmt::print("  webhook deliveries, no load (notify run --once on the backlog): {} in {:.1f} s = {:.0f}/s; "
               "bare libcurl POSTs to the same receiver {:.0f}/s, ratio {:.2f}\n",
               drained, drain_s, drained / drain_s, raw_posts, drained / drain_s / raw_posts);
    fmt::print("{{\"outbox_off_tps\":{:.0f},\"outbox_on_tps\":{:.0f},\"ratio\":{:.3f},\"queued\":{},\"delivered\":{}}}\n",
               off.tps(), on.tps(), on.tps() / off.tps(), queued, delivered_in_run);
    if (!keep) fs::remove_all(dir);
    return 0;
  }
  const std::string db = (dir / "http.db").string();
  const std::string token = seed(db, 64);

  std::vector<load_figures> loads;
  std::vector<std::pair<std::int64_t, double>> lags;  // texts waiting at the end of each run, ms to take them in
  {
    server_process sp;
    start_server(sp, plaint, db);
    for (int c : conn_counts) {
      loads.push_back(run_load(sp.port, c, seconds, token));
      const std::int64_t waiting = search_lag(db);
      lags.emplace_back(waiting, search_catch_up_ms(db));
    }
  }
  const std::string engine_db = (dir / "engine.db").string(), raw_db = (dir / "raw.db").string();
  seed(engine_db, 64);
  seed(raw_db, 64);
  const double engine_tps = engine_batched(engine_db, 256, 200);
  const double raw_tps = raw_batched(raw_db, 256, 200);

  fmt::print("plaint HTTP load over loopback ({} cores, SQLite {}, synchronous=FULL, {} s per run)\n",
             std::thread::hardware_concurrency(), sqlite3_libversion(), seconds);
  fmt::print("{:>6} {:>14} {:>10} {:>10} {:>8} {:>22}\n", "conns", "transitions/s", "p50 ms", "p99 ms", "errors",
             "search lag at end");
  for (std::size_t i = 0; i < loads.size(); ++i) {
    const auto& f = loads[i];
    fmt::print("{:>6} {:>14.0f} {:>10.2f} {:>10.2f} {:>8} {:>8} texts, {:>5.0f} ms\n", f.conns, f.tps(), f.p50_ms,
               f.p99_ms, f.failed, lags[i].first, lags[i].second);
  }
  fmt::print("in-process, 256 per transaction: engine batched {:.0f}/s, raw SQLite batched {:.0f}/s, ratio {:.2f} "
             "(target >= 0.5)\n",
             engine_tps, raw_tps, engine_tps / raw_tps);
  std::string json = "{\"http\":[";
  for (std::size_t i = 0; i < loads.size(); ++i)
    json += fmt::format("{}{{\"conns\":{},\"tps\":{:.0f},\"p50_ms\":{:.2f},\"p99_ms\":{:.2f},\"errors\":{}}}",
                        i ? "," : "", loads[i].conns, loads[i].tps(), loads[i].p50_ms, loads[i].p99_ms, loads[i].failed);
  json += fmt::format("],\"engine_batched_tps\":{:.0f},\"raw_batched_tps\":{:.0f}}}", engine_tps, raw_tps);
  fmt::print("{}\n", json);
  if (!keep) fs::remove_all(dir);
  return 0;
}
