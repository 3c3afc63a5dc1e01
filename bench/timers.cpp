// The durable-timer benchmark (SPEC §4): a desk of N open complaints with 4N pending SLA timers, and what the
// live scheduler and `executor::fire_due` do against it — the scheduler's memory, the time from process start
// to the first overdue timer fired, timers fired per second when 100k fall due at once (beside raw SQLite
// doing the same writes), and the lateness of timers falling due one after another. Prints a table, then JSON.
//
// The data is part real, part synthetic: the first `seed_count` complaints are opened through the executor,
// the rest are copies of their ticket, timer and `open`-event rows (INSERT ... SELECT), one second apart.
// Copies keep their seeds' hashes, so the audit chain does not verify, and get no search rows: nothing
// measured reads either (appending an event reads only the last event's seq and hash).
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "bench/support.h"
#include "engine/scheduler.h"
#include "storage/sqlite_checkpointer.h"
#include "storage/sqlite_search.h"
#include "storage/sqlite_queries.h"
#include "storage/sqlite_store.h"
#include "workflows/registry.h"

namespace fs = std::filesystem;
using namespace plaint;
using engine::json;
using engine::timestamp;

namespace {

using bench::die;
using bench::open_store;

constexpr std::int64_t seed_count = 2000;  // complaints opened through the executor
constexpr int customer_count = 100;
constexpr std::int64_t day = 86400;
constexpr std::int64_t burst_max = 100000, batch1_max = 2000;
constexpr int late_count = 200, late_per_second = 5;  // due_at is whole seconds
constexpr int batches[] = {1, 64, 256, 1024};

struct options {
  std::int64_t tickets = 1'000'000;
  std::string dir = "/tmp/plaint-bench-timers";
  bool keep = false, reuse = false;
  std::string probe_db;  // internal: be the start-up probe on this file
};

double wall_now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
template <class Fn> double seconds_of(Fn&& fn) {
  const double t0 = wall_now();
  return fn(), wall_now() - t0;
}

// VmRSS or VmHWM from /proc/self/status.
double rss_mb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + field.size()) / 1024;
  return -1;
}
std::string loadavg() {  // over 1, 5 and 15 minutes
  std::ifstream in("/proc/loadavg");
  std::string m1, m5, m15;
  in >> m1 >> m5 >> m15;
  return m1 + " " + m5 + " " + m15;
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--keep") o.keep = true;
    else if (arg == "--reuse") o.reuse = o.keep = true;
    else if (arg == "--tickets" && value) o.tickets = std::atoll(value), ++i;
    else if (arg == "--dir" && value) o.dir = value, ++i;
    else if (arg == "--startup-probe" && value) o.probe_db = value, ++i;
    else die("usage: bench_timers [--tickets N] [--dir D] [--keep] [--reuse (implies --keep)]");
  }
  if (o.tickets < 5000) die("--tickets must be at least 5000");
  return o;
}

// Every target far out: no bulk timer falls due in a run (or for months of --reuse); measured sets are moved.
engine::sla_policy far_policy() {
  engine::sla_policy p = engine::sla_policy::defaults();
  for (auto& [key, t] : p.targets) t = engine::sla_targets{180 * day, 365 * day, 3 * day, 0.8};
  return p;
}
constexpr std::int64_t first_warn_after = 144 * day;  // 80 % of 180 days


// A plain sqlite3 connection; it finalizes the statements it prepared.
class raw_db {
 public:
  raw_db(const std::string& path, const std::string& pragmas) {
    check(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), path);
    exec(pragmas);
  }
  ~raw_db() {
    for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  void exec(const std::string& sql) { check(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), sql); }
  sqlite3_stmt* prepare(const std::string& sql) {
    check(sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmts_.emplace_back(), nullptr), sql);
    return stmts_.back();
  }
  // Binds `args` from ?1 (text without a copy) and takes the first step; true if it gave a row.
  template <class... Args>
  bool run(sqlite3_stmt* s, const Args&... args) {
    sqlite3_reset(s);
    [[maybe_unused]] int i = 0;
    (bind(s, ++i, args), ...);
    return next(s);
  }
  bool next(sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    return check(rc == SQLITE_DONE ? SQLITE_OK : rc, sqlite3_sql(s)), rc == SQLITE_ROW;
  }

 private:
  static void bind(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
  static void bind(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_STATIC);
  }
  void check(int rc, const std::string& what) {  // SQLITE_ROW passes too
    if (rc != SQLITE_OK && rc != SQLITE_ROW) die(fmt::format("SQLite: {}: {}", what, sqlite3_errmsg(db_)));
  }

  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> stmts_;
};

std::string text_at(sqlite3_stmt* s, int col) { return reinterpret_cast<const char*>(sqlite3_column_text(s, col)); }

const std::string store_pragmas =  // the store's own (storage/sqlite_statement.cpp)
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;";

// Ticket t (from 1) is logged at base - n + t - 1: the desk's last n seconds.
void generate(const std::string& path, std::int64_t n, timestamp base) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  {
    auto store = open_store(path);
    engine::fixed_clock clock(base - n);
    engine::executor ex(*store, workflows::builtin_workflows(), clock, far_policy());
    for (int c = 0; c < customer_count; ++c)
      if (!ex.put_customer(engine::customer_update::whole({fmt::format("cust{:04}", c), "A customer",
                                                           std::string(engine::tiers[c % 3]), "", "", json::object(), 0, 0},
                                                          "bench"))
               .ok())
        die("cannot add the customers");
    for (std::int64_t i = 0; i < std::min(n, seed_count); ++i, clock.advance(1)) {
      auto r = ex.open({fmt::format("cust{:04}", i % customer_count), fmt::format("Parcel {} arrived damaged", i),
                        fmt::format("Order {} came on time but the box was crushed and the kettle is dented. "
                                    "客户要求更换。The customer asks for a replacement.", i),
                        std::string(engine::channels[i % 7]), std::string(engine::categories[i % 6]),
                        std::string(engine::priorities[i % 4]), "complaint", "", "desk"});
      if (!r.ok()) die(r.error().message);
      if (r->ticket_after.id != i + 1) die("the seed tickets must be numbered from 1 in a fresh file");
    }
  }
  // No journal, no fsync: a crash mid-way leaves a file without its sidecar, so it is generated again.
  raw_db db(path, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
  // ?1 shifts ids, seqs and times alike (ticket t is logged at second t); ?2: the last seed to copy.
  sqlite3_stmt* copy[] = {
      db.prepare("INSERT INTO tickets SELECT id + ?1, workflow, customer, tier, channel, category, priority, "
                 "subject, description, state, owner, level, version, created_at + ?1, updated_at + ?1, "
                 "resolution_started_at + ?1, first_response_at, first_response_warn_at + ?1, "
                 "first_response_due + ?1, resolution_warn_at + ?1, resolution_due + ?1, paused_at, paused_seconds, "
                 "resolved_at, follow_up_due, closed_at, fired, resolution_code, root_cause, csat, reopen_count, "
                 "handoff_count, tags, last_event + ?1 FROM tickets WHERE id <= ?2 ORDER BY id"),
      db.prepare("INSERT INTO timers (ticket, kind, due_at, status) SELECT ticket + ?1, kind, due_at + ?1, status "
                 "FROM timers WHERE ticket <= ?2 AND status = 'pending' ORDER BY ticket, id"),
      db.prepare("INSERT INTO events SELECT seq + ?1, ticket + ?1, at + ?1, actor, event, from_state, to_state, "
                 "version, payload, prev_hash, hash, CASE ticket_prev WHEN 0 THEN 0 ELSE ticket_prev + ?1 END "
                 "FROM events WHERE ticket <= ?2 ORDER BY seq")};
  for (std::int64_t off = seed_count; off < n; off += seed_count) {
    db.exec("BEGIN");
    for (sqlite3_stmt* s : copy) db.run(s, off, std::min(seed_count, n - off));
    db.exec("COMMIT");
  }
  db.exec("PRAGMA journal_mode=WAL");
}

// Moves tickets [first, first + count) in time so that the k-th one's first-response warning falls due at
// due0 + k / per_second. A ticket's clocks and pending timers move together: the executor finds them agreeing.
void make_due(raw_db& db, std::int64_t first, std::int64_t count, timestamp due0, std::int64_t per_second) {
  static const std::string delta = "(?3 + (id - ?1) / ?4 - first_response_warn_at)";
  std::string set;
  for (const char* col : {"created_at", "updated_at", "resolution_started_at", "first_response_warn_at",
                          "first_response_due", "resolution_warn_at", "resolution_due"})
    set += fmt::format("{}{} = {} + {}", set.empty() ? "" : ", ", col, col, delta);
  db.exec("BEGIN IMMEDIATE");
  db.run(db.prepare("UPDATE timers SET due_at = due_at + (SELECT " + delta + " FROM tickets WHERE id = ticket) "
                    "WHERE ticket >= ?1 AND ticket < ?2 AND status = 'pending'"),
         first, first + count, due0, per_second);
  db.run(db.prepare("UPDATE tickets SET " + set + " WHERE id >= ?1 AND id < ?2"), first, first + count, due0,
         per_second);
  db.exec("COMMIT");
}

// SQLite's plan for statements a firing runs, exactly as the store has them, and the index entries each
// writes per row (IdxInsert in the program: an UPDATE rewrites every index on a column it sets).
json statement_notes(raw_db& db) {
  namespace q = storage::q;
  const std::pair<const char*, q::id> queries[] = {{"timers_due", q::timers_due}, {"timer_next", q::timer_next},
      {"timer_claim", q::timer_claim}, {"ticket_update", q::ticket_update}, {"event_insert", q::event_insert},
      {"timers_pending_count", q::timers_pending_count}};
  json notes = json::object();
  for (const auto& [name, id] : queries) {
    std::string plan;
    sqlite3_stmt* s = db.prepare(std::string("EXPLAIN QUERY PLAN ") + storage::query_sql[id]);
    for (bool row = db.run(s); row; row = db.next(s)) plan += (plan.empty() ? "" : "; ") + text_at(s, 3);
    int index_writes = 0;
    std::set<int> on_file;  // cursors on the file's b-trees, not on ephemeral scratch tables
    s = db.prepare(std::string("EXPLAIN ") + storage::query_sql[id]);
    for (bool row = db.run(s); row; row = db.next(s)) {
      const std::string op = text_at(s, 1);
      if (op == "OpenWrite") on_file.insert(sqlite3_column_int(s, 2));
      index_writes += op == "IdxInsert" && on_file.count(sqlite3_column_int(s, 2));
    }
    notes[name] = {{"plan", plan}, {"index_entries_per_row", index_writes}};
  }
  return notes;
}

// Generates the desk unless --reuse finds it cached, its timers still far off; copies it to `work` to run on.
json setup(const options& o, const std::string& cache, const std::string& work) {
  const std::string sidecar = cache + ".json";
  const timestamp now = engine::system_clock().now();
  json gen = json::object();
  if (o.reuse && fs::exists(cache) && fs::exists(sidecar)) gen = json::parse(std::ifstream(sidecar));
  const bool reused = gen.value("tickets", std::int64_t{0}) == o.tickets &&
                      gen.value("base", timestamp{0}) - o.tickets + first_warn_after > now + day;
  if (!reused) {
    gen = {{"tickets", o.tickets}, {"base", now}, {"seconds", seconds_of([&] { generate(cache, o.tickets, now); })}};
    std::ofstream(sidecar) << gen.dump();
  }
  const double copy_s = seconds_of([&] { fs::copy_file(cache, work, fs::copy_options::overwrite_existing); });
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(work + suffix);
  raw_db db(work, store_pragmas);
  sqlite3_stmt* count = db.prepare(storage::query_sql[storage::q::timers_pending_count]);
  const double count_ms = 1e3 * seconds_of([&] { db.run(count); });
  const std::int64_t pending = sqlite3_column_int64(count, 0);
  const auto bytes = fs::file_size(cache);
  const std::int64_t real = std::min(o.tickets, seed_count);
  fmt::print("setup       {} in {:.1f} s: {} complaints opened by engine::executor, {} synthetic copies (bulk\n"
             "            INSERT ... SELECT: copies' audit hashes do not chain, no search rows); db {:.0f} MB ({:.0f} "
             "B/complaint);\n            copied in {:.1f} s; count_pending_timers() = {} in {:.0f} ms\n",
             reused ? "reused, generated" : "generated", gen["seconds"].get<double>(), real, o.tickets - real,
             bytes / 1e6, double(bytes) / o.tickets, copy_s, pending, count_ms);
  const json notes = statement_notes(db);
  for (const auto& [name, note] : notes.items())
    fmt::print("  sql       {:<21} {} [{} index entries/row]\n", name, note["plan"].get<std::string>(),
               note["index_entries_per_row"].get<int>());
  return {{"reused", reused}, {"generate_seconds", gen["seconds"]}, {"engine_opened", real},
          {"synthetic_copies", o.tickets - real}, {"db_bytes", bytes}, {"copy_seconds", copy_s},
          {"pending_timers", pending}, {"count_pending_ms", count_ms}, {"statements", notes}};
}

// The start-up probe: a fresh process, so that its memory is the scheduler's.
int startup_probe(const std::string& path, double main_start) {
  json r{{"rss_main_mb", rss_mb("VmRSS:")}};
  const double open_start = wall_now();
  auto store = open_store(path);
  r["rss_open_mb"] = rss_mb("VmRSS:");
  engine::system_clock clock;
  engine::executor ex(*store, workflows::builtin_workflows(), clock, far_policy());
  boost::asio::io_context io;
  double fired_at = 0;
  engine::scheduler sched(io, ex, *store, [&](const engine::fired_timer&) {
    if (fired_at == 0) fired_at = wall_now(), r["fired_epoch_ms"] = clock.now_ms();
  });
  r["rss_before_start_mb"] = rss_mb("VmRSS:");
  const double start_at = wall_now();
  sched.start();  // fires what is overdue, then arms for the earliest pending timer
  if (fired_at == 0) die("the start-up probe fired nothing");
  r.update({{"rss_after_start_mb", rss_mb("VmRSS:")}, {"rss_peak_mb", rss_mb("VmHWM:")}, {"fired", sched.fired()},
            {"armed_for", sched.armed_for() ? engine::format_iso(*sched.armed_for()) : "-"},
            {"main_to_fire_ms", (fired_at - main_start) * 1e3}, {"open_to_fire_ms", (fired_at - open_start) * 1e3},
            {"start_to_fire_ms", (fired_at - start_at) * 1e3}});
  fmt::print("{}\n", r.dump());
  return 0;
}

// Runs this binary as the probe, with one timer overdue by 5 s.
json startup(raw_db& mover, std::int64_t ticket, const std::string& work, std::int64_t pending) {
  const engine::system_clock clock;
  make_due(mover, ticket, 1, clock.now() - 5, 1);
  const std::int64_t spawn_ms = clock.now_ms();
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  FILE* child = popen(fmt::format("'{}' --startup-probe '{}'", self, work).c_str(), "r");
  char line[4096] = {};
  if (!child || !std::fgets(line, sizeof line, child) || pclose(child) != 0) die("the start-up probe failed");
  json p = json::parse(line);
  p["spawn_to_fire_ms"] = p["fired_epoch_ms"].get<std::int64_t>() - spawn_ms;
  const auto v = [&](const char* k) { return p[k].get<double>(); };
  fmt::print("\nmemory      VmRSS of a fresh scheduler process, MB: {:.1f} at main, {:.1f} store open, {:.1f} "
             "before start(),\n            {:.1f} after (peak {:.1f}); {} timers as engine::timer objects alone: "
             ">= {:.0f} MB\n"
             "startup     overdue timer fired {:.1f} ms after main ({:.1f} after store open, {:.1f} after start(),\n"
             "            {:.0f} after spawn with exec); then armed for {}\n",
             v("rss_main_mb"), v("rss_open_mb"), v("rss_before_start_mb"), v("rss_after_start_mb"), v("rss_peak_mb"),
             pending, pending * double(sizeof(engine::timer)) / 1e6, v("main_to_fire_ms"), v("open_to_fire_ms"),
             v("start_to_fire_ms"), v("spawn_to_fire_ms"), p["armed_for"].get<std::string>());
  return p;
}

// The writes fire_due makes for a warning, with prepared statements: per transaction select the due timers,
// then claim each, bump its ticket, append the event, record the notification. Nothing else: SQLite's least.
std::int64_t raw_fire(raw_db& db, timestamp now, int batch) {
  namespace q = storage::q;
  sqlite3_stmt* last = db.prepare(storage::query_sql[q::event_last]);
  sqlite3_stmt* due = db.prepare(storage::query_sql[q::timers_due]);
  sqlite3_stmt* claim = db.prepare(storage::query_sql[q::timer_claim]);
  sqlite3_stmt* bump =
      db.prepare("UPDATE tickets SET fired = fired | 1, version = version + 1, updated_at = ?2, last_event = ?3 "
                 "WHERE id = ?1");
  sqlite3_stmt* event = db.prepare(storage::query_sql[q::event_insert]);
  sqlite3_stmt* note = db.prepare("INSERT INTO notifications (ticket, event_seq, at, recipient, kind, message) "
                                  "VALUES (?1, ?2, ?3, 'team_lead', 'sla_warning', ?4)");
  const std::string system = "system", warning = "sla_warning", state = "intake";  // bound without a copy
  std::mt19937_64 rng;
  for (std::int64_t fired = 0;;) {
    db.exec("BEGIN IMMEDIATE");
    if (!db.run(last)) die("the audit log is empty");
    std::int64_t seq = sqlite3_column_int64(last, 0);
    std::string prev = text_at(last, 1);
    sqlite3_reset(last);
    std::vector<std::array<std::int64_t, 3>> rows;  // id, ticket, due_at
    for (bool row = db.run(due, now, std::int64_t{batch}); row; row = db.next(due))
      rows.push_back({sqlite3_column_int64(due, 0), sqlite3_column_int64(due, 1), sqlite3_column_int64(due, 3)});
    for (const auto& [id, ticket, due_at] : rows) {
      db.run(claim, id, now);
      db.run(bump, ticket, now, ++seq);  // the ticket names its new event first (schema 4)
      const std::string iso = engine::format_iso(due_at);
      const std::string payload = R"({"clock":"first_response","due":")" + iso + R"(","timer":"first_response_warn"})";
      std::string hash = fmt::format("{:016x}{:016x}{:016x}{:016x}", rng(), rng(), rng(), rng());  // for SHA-256
      // ticket_prev 0: the seed ticket's open event is not looked up (the engine has it from the ticket read)
      db.run(event, seq, ticket, now, system, warning, state, state, std::int64_t{2}, payload, prev, hash,
             std::int64_t{0});
      db.run(note, ticket, seq, now,
             fmt::format("ticket {} (P3, cust0001): first-response target {} is at risk", ticket, iso));
      prev = std::move(hash);
    }
    db.exec("COMMIT");
    if (rows.empty()) return fired;
    fired += std::int64_t(rows.size());
  }
}

// Per batch size, fresh sets fall due for the engine, then raw SQLite: taking turns, both see the same load.
json throughput(raw_db& mover, std::int64_t& next_id, std::int64_t burst, std::int64_t b1, engine::executor& ex,
                raw_db& raw) {
  const engine::system_clock clock;
  json out = json::array();
  fmt::print("\nthroughput  {:>6} {:>8} {:>11} {:>11} {:>10}   (first-response warnings due at once)\n", "batch",
             "timers", "engine/s", "raw/s", "raw/engine");
  for (int batch : batches) {
    const std::int64_t count = batch == 1 ? b1 : burst;
    auto timed = [&](auto&& fire) {  // seconds to fire a fresh set of `count`
      make_due(mover, next_id, count, clock.now() - 1, count), next_id += count;
      std::int64_t fired = 0;
      const double s = seconds_of([&] { fired = fire(); });
      if (fired != count) die(fmt::format("fired {} of {} timers", fired, count));
      return s;
    };
    const double engine_s = timed([&] {
      // fire_due works in bounded rounds, as the scheduler calls it: again while a round is full.
      constexpr std::size_t round = 1024;
      std::int64_t total = 0;
      for (;;) {
        auto fired = ex.fire_due(clock.now(), batch, round);
        if (!fired.ok()) die(fired.error().message);
        total += std::int64_t(fired->size());
        if (fired->size() < round) return total;
      }
    });
    const double raw_s = timed([&] { return raw_fire(raw, clock.now(), batch); });
    const double eps = count / engine_s, rps = count / raw_s;
    fmt::print("            {:>6} {:>8} {:>11.0f} {:>11.0f} {:>10.2f}\n", batch, count, eps, rps, rps / eps);
    out.push_back({{"batch", batch}, {"timers", count}, {"engine_seconds", engine_s}, {"engine_per_second", eps},
                   {"raw_seconds", raw_s}, {"raw_per_second", rps}, {"raw_over_engine", rps / eps}});
  }
  return out;
}

// Timers falling due second after second, fired by the live scheduler.
json lateness(raw_db& mover, std::int64_t first, engine::executor& ex, engine::store& store) {
  const engine::system_clock clock;
  make_due(mover, first, late_count, clock.now() + 2, late_per_second);
  std::vector<double> late;
  boost::asio::io_context io;
  engine::scheduler sched(io, ex, store, [&](const engine::fired_timer& f) {
    late.push_back(double(clock.now_ms() - f.fired.due_at * 1000));
    if (late.size() == std::size_t(late_count)) io.stop();
  }, [&](const engine::Error& e) { die(e.message); });
  sched.start();
  io.run_for(std::chrono::seconds(late_count / late_per_second + 30));
  sched.stop();
  if (late.size() != std::size_t(late_count)) die(fmt::format("the scheduler fired {} of {}", late.size(), late_count));
  std::sort(late.begin(), late.end());
  const double p50 = late[late.size() / 2 - 1], p99 = late[late.size() * 99 / 100 - 1];  // nearest rank
  fmt::print("\nlateness    {} timers, {} due per second (live scheduler, system clock), fire - due: min {:.0f} ms,\n"
             "            p50 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms\n\n",
             late_count, late_per_second, late.front(), p50, p99, late.back());
  return {{"timers", late_count}, {"per_second", late_per_second}, {"min", late.front()}, {"p50", p50},
          {"p99", p99}, {"max", late.back()}};
}

// SPEC's steady-state case: timers falling due at `per_second` while the same writer (the io_context the
// server's scheduler shares with its write batches) commits comment transitions at `load_per_second`, in
// batches every `tick`. The load's tickets are their own set; its achieved rate is printed beside its target.
json lateness_under_load(raw_db& mover, std::int64_t first, std::int64_t count, std::int64_t load_first,
                         engine::executor& ex, engine::store& store) {
  constexpr int per_second = 1000, load_per_second = 10000, load_tickets = 100;
  constexpr auto tick = std::chrono::milliseconds(5);
  constexpr std::size_t per_tick = load_per_second / 200;
  const engine::system_clock clock;
  make_due(mover, first, count, clock.now() + 2, per_second);
  std::vector<double> late;
  late.reserve(static_cast<std::size_t>(count));
  boost::asio::io_context io;
  engine::scheduler sched(io, ex, store, [&](const engine::fired_timer& f) {
    late.push_back(double(clock.now_ms() - f.fired.due_at * 1000));
    if (late.size() == std::size_t(count)) io.stop();
  }, [&](const engine::Error& e) { die(e.message); });
  std::int64_t committed = 0, n = 0;
  boost::asio::steady_timer load(io);
  auto next = std::chrono::steady_clock::now();
  std::function<void()> run_load = [&] {
    std::vector<engine::batch_request> batch;
    for (std::size_t i = 0; i < per_tick; ++i, ++n) {
      engine::event_request e;
      e.ticket = load_first + n % load_tickets;
      e.event = "comment";
      e.note = fmt::format("load {}", n);
      e.actor = "bench";
      batch.emplace_back(std::move(e));
    }
    auto results = ex.apply_batch(batch);
    if (!results) die(results.error().message);
    for (const auto& r : *results)
      if (r) ++committed;
    next += tick;  // a steady rate: a late tick is made up at once
    load.expires_at(next);
    load.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) run_load();
    });
  };
  sched.start();
  const double t0 = wall_now();
  run_load();
  io.run_for(std::chrono::seconds(count / per_second + 60));
  const double took = wall_now() - t0;
  sched.stop();
  if (late.size() != std::size_t(count)) die(fmt::format("the scheduler fired {} of {}", late.size(), count));
  std::sort(late.begin(), late.end());
  const double p50 = late[late.size() / 2 - 1], p99 = late[late.size() * 99 / 100 - 1];
  const double rate = double(committed) / took;
  fmt::print("under load  {} timers, {} due per second, while comments are committed at {:.0f}/s (target {}/s)\n"
             "            by the same writer: fire - due: min {:.0f} ms, p50 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms\n\n",
             count, per_second, rate, load_per_second, late.front(), p50, p99, late.back());
  return {{"timers", count}, {"per_second", per_second}, {"load_per_second", rate},
          {"load_target", load_per_second}, {"min", late.front()}, {"p50", p50}, {"p99", p99}, {"max", late.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  const double main_start = wall_now();  // first thing: the start-up probe measures from here
  const options o = parse_options(argc, argv);
  if (!o.probe_db.empty()) return startup_probe(o.probe_db, main_start);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows line by line, in a log file too

  const std::int64_t n = o.tickets, b1 = std::min(batch1_max, n / 20);
  const std::int64_t under_load = std::min<std::int64_t>(10000 + 100, n / 10);  // its set and its load's tickets
  const std::int64_t burst = std::min(burst_max, (n - 1 - late_count - 2 * b1 - under_load) / 6);  // no overlaps
  fs::create_directories(o.dir);
  const std::string cache = fmt::format("{}/timers-{}.db", o.dir, n), work = cache + "-work.db";
  const unsigned nproc = std::thread::hardware_concurrency();
  fmt::print("plaint durable-timer benchmark: {} open complaints, {} pending SLA timers, in {}\n"
             "machine: {} CPUs, load average {}, SQLite {}, WAL, synchronous=FULL\n\n",
             n, 4 * n, o.dir, nproc, loadavg(), sqlite3_libversion());
  json report{{"bench", "timers"}, {"tickets", n},
              {"machine", {{"nproc", nproc}, {"sqlite", sqlite3_libversion()}, {"loadavg", loadavg()}}}};
  report["setup"] = setup(o, cache, work);
  {
    raw_db mover(work, store_pragmas);  // moves each ticket set in time just before its measurement
    std::int64_t next_id = 1;
    report["startup"] = startup(mover, next_id++, work, report["setup"]["pending_timers"].get<std::int64_t>());
    engine::system_clock clock;
    auto store = open_store(work);
    engine::executor ex(*store, workflows::builtin_workflows(), clock, far_policy());
    raw_db raw(work, store_pragmas);
    report["throughput"] = throughput(mover, next_id, burst, b1, ex, raw);
    // As in `plaint serve`: the WAL is copied back by a connection of its
    // own, so no firing's commit pays for a checkpoint.
    (void)store->checkpoint();
    (void)store->manual_checkpoints();
    storage::background_checkpointer checkpoints(open_store(work));
    // And the notes are taken into the search file by a thread of its own.
    store->set_search_batch(0);
    storage::background_indexer indexer(bench::must(storage::search_file::open(work, 5000), "open the search file"));
    report["lateness_ms"] = lateness(mover, next_id, ex, *store);
    next_id += late_count;
    const std::int64_t left = n - next_id - 100;  // the load's 100 tickets are the last ones
    if (left >= 1000) {
      report["lateness_under_load_ms"] = lateness_under_load(mover, next_id, std::min<std::int64_t>(left, 10000),
                                                             n - 99, ex, *store);
    } else {
      fmt::print("under load  skipped: {} tickets are too few for a set of its own\n", n);
    }
  }
  report["machine"]["loadavg_after"] = loadavg();
  fmt::print("{}\n", report.dump());

  for (const char* suffix : {"", "-wal", "-shm", "-search", "-search-wal", "-search-shm"}) fs::remove(work + suffix);
  if (!o.keep) fs::remove(cache), fs::remove(cache + ".json");
  return 0;
}
