// The lifecycle benchmark: durable transitions per second through the engine
// and the SQLite store, beside the raw SQLite limit on the same machine (same
// schema, PRAGMAs and rows; plain prepared statements). Every complaint goes
// open → triage → start → resolve → follow_up_done, each step its own fsync'd
// transaction, in waves (`wave` complaints take a step, then the next), so the
// clock only moves forward and the B-trees see a desk's interleaving rather
// than one hot row. The three runs take turns, one wave's step at a time, so
// load from elsewhere on the machine falls on all alike and the engine is
// their only difference. Prints a table, then one line of JSON.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/support.h"
#include "engine/executor.h"
#include "storage/sqlite_store.h"
#include "workflows/registry.h"

namespace fs = std::filesystem;
using namespace plaint;

namespace {

using bench::die;
using bench::open_store;

constexpr std::int64_t wave = 1000;                      // complaints per step of the pipeline
constexpr std::int64_t transition_gap = 7;               // clock seconds between two transitions
constexpr engine::timestamp start_time = 1'795'420'800;  // 2026-11-23T08:00:00Z
constexpr std::int64_t follow_up_delay = 3 * 86400;      // the default policy's
constexpr int customer_count = 100;
constexpr double target_ratio = 1.5;

struct step_def { const char *event, *from, *to; };  // from: nullptr for open
constexpr step_def lifecycle[] = {{"open", nullptr, "intake"},           {"triage", "intake", "triage"},
                                  {"start", "triage", "remediation"},    {"resolve", "remediation", "follow_up"},
                                  {"follow_up_done", "follow_up", "closed"}};
constexpr int step_count = 5;
constexpr const char* resolve_note = "Sent a replacement kettle by courier; the customer confirmed it arrived intact.";

struct options {
  std::int64_t tickets = 100000;
  int batch = 1000;
  std::string dir;  // empty: a fresh directory under the temp dir
  bool keep = false;
};

// One run. CPU time far below wall time means the run waits on fsync.
struct figures {
  std::int64_t transitions = 0;
  double seconds = 0, cpu_seconds = 0;
  std::uintmax_t db_bytes = 0;
  double tps() const { return seconds > 0 ? transitions / seconds : 0; }
  double us_each() const { return transitions ? seconds * 1e6 / transitions : 0; }
};

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double cpu_now() { return double(std::clock()) / CLOCKS_PER_SEC; }

// Runs `fn`, adds its wall and CPU time to `f`, and returns the wall time.
template <class Fn> double timed(figures& f, Fn&& fn) {
  const double wall0 = wall_now(), cpu0 = cpu_now();
  fn();
  f.cpu_seconds += cpu_now() - cpu0;
  const double wall = wall_now() - wall0;
  f.seconds += wall;
  return wall;
}


options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--keep") o.keep = true;
    else if (arg == "--tickets" && value) o.tickets = std::atoll(value), ++i;
    else if (arg == "--batch" && value) o.batch = std::atoi(value), ++i;
    else if (arg == "--dir" && value) o.dir = value, ++i;
    else die("usage: bench_lifecycle [--tickets N] [--batch B] [--dir D] [--keep]");
  }
  if (o.tickets < 1 || o.batch < 1) die("--tickets and --batch must be positive");
  return o;
}

engine::customer customer_of(int c) {
  engine::customer cu;
  cu.id = fmt::format("cust{:04}", c);
  cu.name = fmt::format("Customer {}", c);
  cu.tier = std::string(engine::tiers[c % 3]);
  return cu;
}

// What complaint `i` says; both runs write exactly this text.
struct complaint_input {
  std::string customer, tier, channel, category, priority, subject, description, owner, csat;
};

complaint_input input_of(std::int64_t i) {
  const engine::customer cu = customer_of(int(i % customer_count));
  return {cu.id, cu.tier, std::string(engine::channels[i % 7]), std::string(engine::categories[i % 6]),
          std::string(engine::priorities[i % 4]), fmt::format("Parcel {} arrived damaged / 包裹损坏", i),
          fmt::format("Order {} was delivered on time but the box was crushed and the kettle inside is dented. "
                      "客户要求更换。Customer {} asks for a replacement or a refund.", i, cu.id),
          fmt::format("agent{:02}", i % 40), std::to_string(1 + i % 5)};
}

// Size of the file once its WAL is folded back in: what a closed complaint
// really costs on disk, not what the WAL happens to hold.
std::uintmax_t checkpointed_bytes(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) != SQLITE_OK)
    die(fmt::format("cannot checkpoint {}: {}", path, sqlite3_errmsg(db)));
  sqlite3_close(db);
  std::error_code ec;
  const auto wal = fs::file_size(path + "-wal", ec);
  return fs::file_size(path) + (ec ? 0 : wal);
}


// ---- the engine: executor → workflow → sqlite_store, as `plaint` runs it --

class engine_desk {
 public:
  explicit engine_desk(const std::string& path)
      : store_(open_store(path)), ex_(*store_, workflows::builtin_workflows(), clock_) {
    for (int c = 0; c < customer_count; ++c)
      if (auto r = ex_.put_customer(engine::customer_update::whole(customer_of(c), "bench")); !r.ok()) die(r.error().message);
  }

  void transition(int step, std::int64_t i) {
    clock_.advance(transition_gap);
    const complaint_input in = input_of(i);
    engine::Result<engine::transition_result> r = engine::Error{};
    if (step == 0) {
      r = ex_.open({in.customer, in.subject, in.description, in.channel, in.category, in.priority, "complaint", "",
                    "desk"});
    } else {
      engine::event_request e{ids_[i], lifecycle[step].event, "", {}, std::nullopt, in.owner, ""};
      if (step == 1) e.fields = {{"owner", in.owner}};
      if (step == 3) e.fields = {{"resolution_code", "replaced"}}, e.note = resolve_note;
      if (step == 4) e.fields = {{"csat", in.csat}};
      r = ex_.apply(e);
    }
    if (!r.ok()) die(fmt::format("{} of complaint {}: {}", lifecycle[step].event, i, r.error().message));
    if (r->ticket_after.state != lifecycle[step].to)
      die(fmt::format("{} left complaint {} in {}", lifecycle[step].event, i, r->ticket_after.state));
    if (step == 0) ids_.push_back(r->ticket_after.id);  // complaints open in index order
  }

 private:
  std::unique_ptr<storage::sqlite_store> store_;
  engine::fixed_clock clock_{start_time};
  engine::executor ex_;
  std::vector<engine::ticket_id> ids_;
};

// ---- the raw limit: the same rows through the sqlite3 C API --------------

// The audit payloads the complaint workflow writes, byte for byte.
std::string payload_of(int step, const complaint_input& in) {
  switch (step) {
    case 0:
      return fmt::format(R"({{"category":"{}","channel":"{}","customer":"{}","priority":"{}","subject":"{}"}})",
                         in.category, in.channel, in.customer, in.priority, in.subject);
    case 1: return fmt::format(R"({{"fields":{{"owner":"{}"}}}})", in.owner);
    case 2: return R"({"first_response":true})";
    case 3: return fmt::format(R"({{"fields":{{"resolution_code":"replaced"}},"note":"{}"}})", resolve_note);
    default: return fmt::format(R"({{"csat":{},"fields":{{"csat":"{}"}}}})", in.csat, in.csat);
  }
}

// Each step's UPDATE sets only what the step changes — the least SQLite
// must do. ?1 id, ?2 the expected version, ?3 now.
#define PLAINT_BENCH_UPDATE(state, set)                                                  \
  "UPDATE tickets SET state = '" state "', version = version + 1, updated_at = ?3, " set \
  " WHERE id = ?1 AND version = ?2"

enum raw_query { rq_begin, rq_commit, rq_customer, rq_ticket, /* rq_ticket + step: that step's UPDATE */
                 rq_event = rq_ticket + step_count, rq_timer, rq_cancel, rq_search, rq_count };
const char* const raw_sql[rq_count] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "INSERT INTO customers (id, name, tier, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    "INSERT INTO tickets (workflow, customer, tier, channel, category, priority, subject, description, state, "
    "version, created_at, updated_at, resolution_started_at, first_response_warn_at, first_response_due, "
    "resolution_warn_at, resolution_due) "
    "VALUES ('complaint', ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'intake', 1, ?8, ?8, ?8, ?9, ?10, ?11, ?12)",
    PLAINT_BENCH_UPDATE("triage", "owner = ?4"),
    PLAINT_BENCH_UPDATE("remediation", "first_response_at = ?3"),
    PLAINT_BENCH_UPDATE("follow_up", "resolved_at = ?3, resolution_code = ?4, follow_up_due = ?5"),
    PLAINT_BENCH_UPDATE("closed", "closed_at = ?3, csat = ?4"),
    "INSERT INTO events (seq, ticket, at, actor, event, from_state, to_state, version, payload, prev_hash, hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "INSERT INTO timers (ticket, kind, due_at) VALUES (?1, ?2, ?3)",
    "UPDATE timers SET status = 'cancelled' WHERE ticket = ?1 AND kind = ?2 AND status = 'pending'",
    // the text, as the store writes it (its search file takes it in later)
    "INSERT INTO search_text (key, body) VALUES (?1 * 4294967296, ?2)",
};

// Text is bound without copying, as the store does: it outlives the step.
void bind_value(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
void bind_value(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_STATIC);
}
void bind_value(sqlite3_stmt* s, int i, const char* v) {  // nullptr binds NULL
  v ? bind_value(s, i, std::string_view(v)) : void(sqlite3_bind_null(s, i));
}

class raw_db {
 public:
  // `batch` transitions per transaction; 1 is what the engine does.
  raw_db(const std::string& path, int batch) : batch_(batch) {
    open_store(path).reset();  // the real schema, then the store steps aside
    // The store's own open flags and PRAGMAs (storage/sqlite_statement.cpp).
    const char* pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
        sqlite3_exec(db_, pragmas, nullptr, nullptr, nullptr) != SQLITE_OK)
      fail(path.c_str());
    for (int q = 0; q < rq_count; ++q)
      if (sqlite3_prepare_v3(db_, raw_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &st_[q], nullptr) != SQLITE_OK)
        fail(raw_sql[q]);
    for (int c = 0; c < customer_count; ++c) {
      const engine::customer cu = customer_of(c);
      run(rq_customer, cu.id, cu.name, cu.tier, start_time);
    }
  }
  // close_v2 waits for the statements' finalize, so the order is harmless.
  ~raw_db() { sqlite3_close_v2(db_); for (sqlite3_stmt* s : st_) sqlite3_finalize(s); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  // Commits the last, partial batch.
  void commit() { if (pending_ > 0) run(rq_commit), pending_ = 0; }

  // The rows engine::executor::persist writes for step `step` of complaint `i`.
  void transition(int step, std::int64_t i) {
    const engine::timestamp now = start_time + (seq_ + 1) * transition_gap;  // one event per transition
    const complaint_input in = input_of(i);
    if (pending_ == 0) run(rq_begin);
    // The default policy's P3/standard dues (8 h and 72 h, warnings at 80 %);
    // other priorities differ in value, not in size.
    const std::int64_t dues[] = {now + 23040, now + 28800, now + 207360, now + 259200};
    if (step == 0) {
      run(rq_ticket, in.customer, in.tier, in.channel, in.category, in.priority, in.subject, in.description, now,
          dues[0], dues[1], dues[2], dues[3]);
      ids_.push_back(sqlite3_last_insert_rowid(db_));  // complaints open in index order
    }
    const std::int64_t id = ids_[i];
    const int update = rq_ticket + step;
    if (step == 1) run(update, id, step, now, in.owner);
    if (step == 2) run(update, id, step, now);
    if (step == 3) run(update, id, step, now, "replaced", now + follow_up_delay);
    if (step == 4) run(update, id, step, now, std::int64_t{1 + i % 5});
    if (step > 0 && sqlite3_changes(db_) != 1) die(fmt::format("raw update of complaint {} matched no row", i));
    // Random hex stands in for SHA-256: hashing is part of what the engine
    // costs, not of what SQLite must store.
    std::string hash = fmt::format("{:016x}{:016x}{:016x}{:016x}", rng_(), rng_(), rng_(), rng_());
    const step_def& d = lifecycle[step];
    const std::string actor = step == 0 ? "desk" : in.owner, payload = payload_of(step, in);
    run(rq_event, ++seq_, id, now, actor, d.event, d.from, d.to, std::int64_t{step + 1}, payload, last_hash_, hash);
    last_hash_ = std::move(hash);
    if (step == 0) {
      for (int k = 0; k < 4; ++k) run(rq_timer, id, engine::timer_kinds[k], dues[k]);
      run(rq_search, id, in.subject + "\n" + in.description);
    }
    if (step == 2) run(rq_cancel, id, "first_response_warn"), run(rq_cancel, id, "first_response");
    if (step == 3) {
      run(rq_cancel, id, "resolution_warn"), run(rq_cancel, id, "resolution");
      run(rq_timer, id, "follow_up", now + follow_up_delay);
      run(rq_search, id, resolve_note);
    }
    if (step == 4) run(rq_cancel, id, "follow_up");
    if (++pending_ == batch_) commit();
  }

 private:
  template <class... Args>
  void run(int q, const Args&... args) {
    [[maybe_unused]] int i = 0;
    (bind_value(st_[q], ++i, args), ...);
    if (sqlite3_step(st_[q]) != SQLITE_DONE) fail(raw_sql[q]);
    sqlite3_reset(st_[q]);
    sqlite3_clear_bindings(st_[q]);
  }
  [[noreturn]] void fail(const char* what) { die(fmt::format("raw SQLite: {}: {}", what, sqlite3_errmsg(db_))); }

  const int batch_;
  int pending_ = 0;  // transitions in the open transaction
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_[rq_count] = {};
  std::vector<std::int64_t> ids_;
  std::int64_t seq_ = 0;
  std::mt19937_64 rng_;
  std::string last_hash_ = std::string(64, '0');
};

// Prints one row of the table and returns the same figures as JSON.
engine::json report_row(const std::string& name, const figures& f, std::int64_t tickets) {
  const double per_complaint = double(f.db_bytes) / tickets;
  fmt::print("{:<30} {:>11} {:>9.2f} {:>8.2f} {:>10.0f} {:>9.1f} {:>12.0f}\n", name, f.transitions, f.seconds,
             f.cpu_seconds, f.tps(), f.us_each(), per_complaint);
  return {{"transitions", f.transitions}, {"seconds", f.seconds}, {"cpu_seconds", f.cpu_seconds},
          {"transitions_per_second", f.tps()}, {"us_per_transition", f.us_each()},
          {"db_bytes", f.db_bytes}, {"bytes_per_complaint", per_complaint}};
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_options(argc, argv);
  const bool own_dir = o.dir.empty();
  const fs::path dir = own_dir ? fs::temp_directory_path() / fmt::format("plaint-bench-{}", std::random_device{}())
                               : fs::path(o.dir);
  fs::create_directories(dir);
  const std::string files[] = {(dir / "engine.db").string(), (dir / "raw_single.db").string(),
                               (dir / "raw_batched.db").string()};
  auto remove_files = [&] {
    for (const auto& f : files) for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(f + suffix);
  };
  remove_files();  // a stale file from an earlier --keep would skew every figure

  const unsigned nproc = std::thread::hardware_concurrency();
  fmt::print("plaint lifecycle benchmark: {} complaints x {} durable transitions, in {}\n", o.tickets, step_count,
             dir.string());
  fmt::print("machine: {} CPUs, SQLite {}, WAL, synchronous=FULL\n\n", nproc, sqlite3_libversion());
  std::fflush(stdout);  // progress shows before the minutes of work

  figures eng, single, batched;
  double step_seconds[step_count] = {};
  {
    engine_desk desk(files[0]);
    raw_db raw_single(files[1], 1), raw_batched(files[2], o.batch);
    for (std::int64_t first = 0; first < o.tickets; first += wave)
      for (int step = 0; step < step_count; ++step) {
        auto turn = [&](figures& f, auto& run) {
          return timed(f, [&] {
            for (std::int64_t i = first; i < std::min(o.tickets, first + wave); ++i) run.transition(step, i);
          });
        };
        step_seconds[step] += turn(eng, desk);
        turn(single, raw_single);
        turn(batched, raw_batched);
      }
    timed(batched, [&] { raw_batched.commit(); });
  }  // every file closes here, before the checkpoints
  figures* runs[] = {&eng, &single, &batched};
  for (int k = 0; k < 3; ++k)
    runs[k]->transitions = step_count * o.tickets, runs[k]->db_bytes = checkpointed_bytes(files[k]);

  engine::json report{{"bench", "lifecycle"}, {"tickets", o.tickets}, {"transitions_per_complaint", step_count},
                      {"machine", {{"nproc", nproc}, {"sqlite", sqlite3_libversion()}}}};
  fmt::print("{:<30} {:>11} {:>9} {:>8} {:>10} {:>9} {:>12}\n", "run", "transitions", "wall s", "cpu s",
             "trans/s", "us/trans", "bytes/compl");
  report["engine"] = report_row("engine (executor, 1 tx each)", eng, o.tickets);
  report["raw_single"] = report_row("raw SQLite, 1 tx each", single, o.tickets);
  report["raw_batched"] = report_row(fmt::format("raw SQLite, {} per tx", o.batch), batched, o.tickets);
  report["raw_batched"]["batch"] = o.batch;

  fmt::print("\nengine wall time by step (us per transition):");
  for (int s = 0; s < step_count; ++s) {
    const double us = step_seconds[s] * 1e6 / o.tickets;
    report["engine_us_per_step"][lifecycle[s].event] = us;
    fmt::print(" {} {:.1f}{}", lifecycle[s].event, us, s + 1 < step_count ? "," : "\n");
  }

  // Cost per transition is 1/tps, so engine cost / raw cost = raw tps / engine tps.
  const double ratio = eng.tps() > 0 ? single.tps() / eng.tps() : 0;
  const bool pass = eng.tps() > 0 && ratio <= target_ratio;
  fmt::print("engine cost / raw 1-tx cost = {:.2f} (target <= {:.1f}): {}\n\n", ratio, target_ratio,
             pass ? "PASS" : "FAIL");
  report.update({{"ratio_raw_single_over_engine", ratio}, {"target", target_ratio}, {"pass", pass}});
  fmt::print("{}\n", report.dump());

  if (!o.keep) {
    remove_files();
    if (own_dir) fs::remove_all(dir);
  }
  return 0;
}
