// The lifecycle benchmark: how many durable transitions per second the
// engine commits through the SQLite store, beside the raw SQLite limit on the
// same machine — same schema, same PRAGMAs, same rows, plain prepared
// statements and no engine in between.
//
// Every complaint goes open → triage → start → resolve → follow_up_done:
// five transitions, each its own fsync'd transaction. Complaints move in
// waves (`wave` of them take one step, then the next step) so the clock only
// moves forward, timers get due times hours and days ahead, and the B-trees
// see a desk's interleaving rather than one hot row at a time. Both runs walk
// the same order, so their only difference is the engine.
//
// Prints a table, then one line of JSON with every figure.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "engine/executor.h"
#include "storage/sqlite_store.h"
#include "workflows/registry.h"

namespace fs = std::filesystem;
using namespace plaint;

namespace {

constexpr std::int64_t wave = 1000;          // complaints per step of the pipeline
constexpr std::int64_t transition_gap = 7;   // clock seconds between two transitions
constexpr engine::timestamp start_time = 1'795'420'800;  // 2026-11-23T08:00:00Z
constexpr int customer_count = 100;
constexpr std::int64_t follow_up_delay = 3 * 86400;  // the default policy's
constexpr double target_ratio = 1.5;

struct step_def {
  const char* event;
  const char* from;  // nullptr for open
  const char* to;
};
constexpr step_def lifecycle[] = {{"open", nullptr, "intake"},
                                  {"triage", "intake", "triage"},
                                  {"start", "triage", "remediation"},
                                  {"resolve", "remediation", "follow_up"},
                                  {"follow_up_done", "follow_up", "closed"}};
constexpr int step_count = 5;
constexpr const char* resolve_note = "Sent a replacement kettle by courier; the customer confirmed it arrived intact.";

struct options {
  std::int64_t tickets = 100000;
  int batch = 1000;
  std::string dir;  // empty: a fresh directory under the temp dir
  bool keep = false;
};

struct figures {
  std::int64_t transitions = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  std::uintmax_t db_bytes = 0;
  double tps() const { return seconds > 0 ? transitions / seconds : 0; }
  double us_each() const { return transitions ? seconds * 1e6 / transitions : 0; }
};

[[noreturn]] void die(const std::string& message) {
  fmt::print(stderr, "bench_lifecycle: {}\n", message);
  std::exit(1);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--tickets") o.tickets = std::atoll(value().c_str());
    else if (arg == "--batch") o.batch = std::atoi(value().c_str());
    else if (arg == "--dir") o.dir = value();
    else if (arg == "--keep") o.keep = true;
    else die("usage: bench_lifecycle [--tickets N] [--batch B] [--dir D] [--keep]");
  }
  if (o.tickets < 1 || o.batch < 1) die("--tickets and --batch must be positive");
  return o;
}

// Wall and process CPU time: CPU far below wall means the run waits on fsync.
class stopwatch {
 public:
  double wall() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count(); }
  double cpu() const { return double(std::clock() - cpu_) / CLOCKS_PER_SEC; }

 private:
  std::chrono::steady_clock::time_point wall_ = std::chrono::steady_clock::now();
  std::clock_t cpu_ = std::clock();
};

// The pipeline order both runs follow: each wave of complaints takes one
// step before the wave takes the next.
template <class Fn>
void for_each_transition(std::int64_t tickets, Fn&& fn) {
  for (std::int64_t first = 0; first < tickets; first += wave)
    for (int step = 0; step < step_count; ++step)
      for (std::int64_t i = first; i < std::min(tickets, first + wave); ++i) fn(step, i);
}

// What complaint `i` says; both runs write exactly this text.
struct complaint_input {
  std::string customer, tier, channel, category, priority, subject, description, owner, csat;
};

const char* tier_of(int customer) { return engine::tiers[customer % 3].data(); }

complaint_input input_of(std::int64_t i) {
  complaint_input in;
  in.customer = fmt::format("cust{:04}", i % customer_count);
  in.tier = tier_of(int(i % customer_count));
  in.channel = std::string(engine::channels[i % 7]);
  in.category = std::string(engine::categories[i % 6]);
  in.priority = std::string(engine::priorities[i % 4]);
  in.subject = fmt::format("Parcel {} arrived damaged / 包裹损坏", i);
  in.description = fmt::format(
      "Order {} was delivered on time but the box was crushed and the kettle inside is dented. "
      "客户要求更换。Customer {} asks for a replacement or a refund.", i, in.customer);
  in.owner = fmt::format("agent{:02}", i % 40);
  in.csat = std::to_string(1 + i % 5);
  return in;
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

std::unique_ptr<storage::sqlite_store> open_store(const std::string& path) {
  auto s = storage::sqlite_store::open(path);
  if (!s.ok()) die(s.error().message);
  if (auto m = (*s)->migrate(); !m.ok()) die(m.error().message);
  return std::move(*s);
}

// ---- the engine: executor → workflow → sqlite_store, as `plaint` runs it --

void engine_step(engine::executor& ex, int step, std::int64_t i, engine::ticket_id& id) {
  const complaint_input in = input_of(i);
  engine::Result<engine::transition_result> r = engine::Error{};
  if (step == 0) {
    engine::open_request o{in.customer, in.subject, in.description, in.channel, in.category,
                           in.priority, "complaint", "", "desk"};
    r = ex.open(o);
  } else {
    engine::event_request e;
    e.ticket = id;
    e.event = lifecycle[step].event;
    e.actor = in.owner;
    if (step == 1) e.fields = {{"owner", in.owner}};
    if (step == 3) e.fields = {{"resolution_code", "replaced"}}, e.note = resolve_note;
    if (step == 4) e.fields = {{"csat", in.csat}};
    r = ex.apply(e);
  }
  if (!r.ok()) die(fmt::format("{} of complaint {}: {}", lifecycle[step].event, i, r.error().message));
  if (r->ticket_after.state != lifecycle[step].to)
    die(fmt::format("{} left complaint {} in {}", lifecycle[step].event, i, r->ticket_after.state));
  id = r->ticket_after.id;
}

figures run_engine(const options& o, const std::string& path, double (&step_seconds)[step_count]) {
  figures f;
  {
    auto store = open_store(path);
    engine::fixed_clock clock{start_time};
    engine::executor ex(*store, workflows::builtin_workflows(), clock);
    for (int c = 0; c < customer_count; ++c) {
      engine::customer cu;
      cu.id = fmt::format("cust{:04}", c);
      cu.name = fmt::format("Customer {}", c);
      cu.tier = tier_of(c);
      if (auto r = ex.put_customer(cu); !r.ok()) die(r.error().message);
    }

    std::vector<engine::ticket_id> ids(o.tickets);
    const stopwatch total;
    for_each_transition(o.tickets, [&](int step, std::int64_t i) {
      clock.advance(transition_gap);
      const auto t0 = std::chrono::steady_clock::now();
      engine_step(ex, step, i, ids[i]);
      step_seconds[step] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++f.transitions;
    });
    f.seconds = total.wall();
    f.cpu_seconds = total.cpu();
  }  // the store closes here, before the checkpoint
  f.db_bytes = checkpointed_bytes(path);
  return f;
}

// ---- the raw limit: the same rows through the sqlite3 C API --------------

// A 64-hex string standing in for a SHA-256: hashing is part of what the
// engine costs, not of what SQLite must store.
std::string fake_hash(std::uint64_t x) {
  std::string out;
  for (int k = 0; k < 4; ++k) {  // splitmix64
    std::uint64_t z = x += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    out += fmt::format("{:016x}", z ^ (z >> 31));
  }
  return out;
}

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
#define PLAINT_BENCH_UPDATE(state, set) \
  "UPDATE tickets SET state = '" state "', version = version + 1, updated_at = ?3, " set " WHERE id = ?1 AND version = ?2"

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
    "INSERT INTO search (ticket, body) VALUES (?1, ?2)",
};

// Text is bound without copying, as the store does: it outlives the step.
void bind(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
void bind(sqlite3_stmt* s, int i, std::string_view v) { sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_STATIC); }
void bind(sqlite3_stmt* s, int i, const char* v) { v ? bind(s, i, std::string_view(v)) : void(sqlite3_bind_null(s, i)); }

class raw_db {
 public:
  explicit raw_db(const std::string& path) {
    // The store's own open flags and PRAGMAs (storage/sqlite_statement.cpp).
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
        sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", nullptr,
                     nullptr, nullptr) != SQLITE_OK)
      fail(path.c_str());
    for (int q = 0; q < rq_count; ++q)
      if (sqlite3_prepare_v3(db_, raw_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &st_[q], nullptr) != SQLITE_OK)
        fail(raw_sql[q]);
    for (int c = 0; c < customer_count; ++c)
      run(rq_customer, fmt::format("cust{:04}", c), fmt::format("Customer {}", c), tier_of(c), start_time);
  }
  ~raw_db() {
    for (sqlite3_stmt* s : st_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  void begin() { run(rq_begin); }
  void commit() { run(rq_commit); }

  // Writes the rows engine::executor::persist writes for transition `step`
  // of complaint `i` at `now`.
  void transition(int step, std::int64_t i, engine::timestamp now) {
    const complaint_input in = input_of(i);
    if (step == 0) return open_ticket(in, now);
    const std::int64_t id = ids_[i];
    const int update = rq_ticket + step;
    if (step == 1) run(update, id, step, now, in.owner);
    if (step == 2) run(update, id, step, now);
    if (step == 3) run(update, id, step, now, "replaced", now + follow_up_delay);
    if (step == 4) run(update, id, step, now, std::int64_t{1 + i % 5});
    if (sqlite3_changes(db_) != 1) die(fmt::format("raw update of complaint {} matched no row", i));
    append_event(id, now, in.owner, step, payload_of(step, in));
    if (step == 2) run(rq_cancel, id, "first_response_warn"), run(rq_cancel, id, "first_response");
    if (step == 3) {
      run(rq_cancel, id, "resolution_warn"), run(rq_cancel, id, "resolution");
      run(rq_timer, id, "follow_up", now + follow_up_delay);
      run(rq_search, id, resolve_note);
    }
    if (step == 4) run(rq_cancel, id, "follow_up");
  }

 private:
  // Complaints open in index order, so ids_[i] is complaint i's ticket.
  void open_ticket(const complaint_input& in, engine::timestamp now) {
    // The default policy's P3/standard dues (8 h and 72 h, warnings at 80 %);
    // other priorities differ in value, not in size.
    const std::int64_t dues[] = {now + 23040, now + 28800, now + 207360, now + 259200};
    run(rq_ticket, in.customer, in.tier, in.channel, in.category, in.priority, in.subject, in.description, now,
        dues[0], dues[1], dues[2], dues[3]);
    const std::int64_t id = ids_.emplace_back(sqlite3_last_insert_rowid(db_));
    append_event(id, now, "desk", 0, payload_of(0, in));
    for (int k = 0; k < 4; ++k) run(rq_timer, id, engine::timer_kinds[k], dues[k]);
    run(rq_search, id, in.subject + "\n" + in.description);
  }

  void append_event(std::int64_t id, engine::timestamp now, std::string_view actor, int step,
                    const std::string& payload) {
    std::string hash = fake_hash(++seq_);
    const step_def& d = lifecycle[step];
    run(rq_event, seq_, id, now, actor, d.event, d.from, d.to, std::int64_t{step + 1}, payload, last_hash_, hash);
    last_hash_ = std::move(hash);
  }

  template <class... Args>
  void run(int q, const Args&... args) {
    sqlite3_stmt* s = st_[q];
    [[maybe_unused]] int i = 0;
    (bind(s, ++i, args), ...);
    if (sqlite3_step(s) != SQLITE_DONE) fail(raw_sql[q]);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  [[noreturn]] void fail(const char* what) { die(fmt::format("raw SQLite: {}: {}", what, sqlite3_errmsg(db_))); }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_[rq_count] = {};
  std::vector<std::int64_t> ids_;
  std::int64_t seq_ = 0;
  std::string last_hash_ = std::string(64, '0');
};

// `batch` transitions per transaction; 1 is what the engine does.
figures run_raw(const options& o, const std::string& path, int batch) {
  open_store(path).reset();  // the real schema, then the store steps aside
  figures f;
  {
    raw_db db(path);
    const stopwatch total;
    db.begin();
    for_each_transition(o.tickets, [&](int step, std::int64_t i) {
      db.transition(step, i, start_time + ++f.transitions * transition_gap);
      if (f.transitions % batch == 0) db.commit(), db.begin();
    });
    db.commit();
    f.seconds = total.wall();
    f.cpu_seconds = total.cpu();
  }
  f.db_bytes = checkpointed_bytes(path);
  return f;
}

// ---- report ---------------------------------------------------------------

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

engine::json to_json(const figures& f, std::int64_t tickets) {
  return {{"transitions", f.transitions}, {"seconds", f.seconds}, {"cpu_seconds", f.cpu_seconds},
          {"transitions_per_second", f.tps()}, {"us_per_transition", f.us_each()},
          {"db_bytes", f.db_bytes}, {"bytes_per_complaint", double(f.db_bytes) / tickets}};
}

void print_row(const char* name, const figures& f, std::int64_t tickets) {
  fmt::print("{:<30} {:>11} {:>9.2f} {:>8.2f} {:>10.0f} {:>9.1f} {:>12.0f}\n", name, f.transitions, f.seconds,
             f.cpu_seconds, f.tps(), f.us_each(), double(f.db_bytes) / tickets);
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
    for (const auto& f : files)
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(f + suffix);
  };
  remove_files();  // a stale file from an earlier --keep would skew every figure

  const unsigned nproc = std::thread::hardware_concurrency();
  fmt::print("plaint lifecycle benchmark: {} complaints x {} durable transitions, in {}\n", o.tickets, step_count,
             dir.string());
  fmt::print("machine: {} CPUs ({}), SQLite {}, WAL, synchronous=FULL\n\n", nproc, cpu_model(), sqlite3_libversion());

  double step_seconds[step_count] = {};
  const figures eng = run_engine(o, files[0], step_seconds);
  const figures single = run_raw(o, files[1], 1);
  const figures batched = run_raw(o, files[2], o.batch);

  fmt::print("{:<30} {:>11} {:>9} {:>8} {:>10} {:>9} {:>12}\n", "run", "transitions", "wall s", "cpu s",
             "trans/s", "us/trans", "bytes/compl");
  print_row("engine (executor, 1 tx each)", eng, o.tickets);
  print_row("raw SQLite, 1 tx each", single, o.tickets);
  print_row(fmt::format("raw SQLite, {} per tx", o.batch).c_str(), batched, o.tickets);

  fmt::print("\nengine wall time by step (us per transition):");
  for (int s = 0; s < step_count; ++s)
    fmt::print(" {} {:.1f}{}", lifecycle[s].event, step_seconds[s] * 1e6 / o.tickets, s + 1 < step_count ? "," : "\n");

  // Cost per transition is 1/tps, so engine cost / raw cost = raw tps / engine tps.
  const double ratio = eng.tps() > 0 ? single.tps() / eng.tps() : 0;
  const bool pass = eng.tps() > 0 && ratio <= target_ratio;
  fmt::print("engine cost / raw 1-tx cost = {:.2f} (target <= {:.1f}): {}\n\n", ratio, target_ratio,
             pass ? "PASS" : "FAIL");

  engine::json steps = engine::json::object();
  for (int s = 0; s < step_count; ++s) steps[lifecycle[s].event] = step_seconds[s] * 1e6 / o.tickets;
  const engine::json report{
      {"bench", "lifecycle"}, {"tickets", o.tickets}, {"transitions_per_complaint", step_count},
      {"machine", {{"nproc", nproc}, {"cpu", cpu_model()}, {"sqlite", sqlite3_libversion()}}},
      {"engine", to_json(eng, o.tickets)}, {"engine_us_per_step", steps},
      {"raw_single", to_json(single, o.tickets)},
      {"raw_batched", [&] { auto j = to_json(batched, o.tickets); j["batch"] = o.batch; return j; }()},
      {"ratio_raw_single_over_engine", ratio}, {"target", target_ratio}, {"pass", pass}};
  fmt::print("{}\n", report.dump());

  if (!o.keep) {
    remove_files();
    if (own_dir) fs::remove_all(dir);
  }
  return 0;
}
