// The SLA replay's figures (SPEC §12): `policy whatif` over a period of a
// large desk, and `sla explain` of a ticket with a long history, each beside
// what reading the same rows straight from SQLite costs on this machine.
//
//   bench_sla_replay --db DESK [--from T] [--to T] [--policy FILE] [--events N]
//
// DESK is a desk such as bench_desk builds (1,000,000 tickets over
// three years: about 30,000 active in a month); the period defaults to the
// 30 days before its newest event, the proposed policy to the one in force
// (a what-if of a policy against itself must change nothing). The explain
// ticket is built in a scratch database: N events (default 1000) of
// comments, pauses, priority changes and hand-offs on a business-
// hours calendar, so every part of the explanation has work to do.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/support.h"
#include "engine/executor.h"
#include "engine/explain.h"
#include "engine/whatif.h"
#include "workflows/policy.h"
#include "workflows/policy_history.h"
#include "workflows/registry.h"

using namespace plaint;
using bench::die;
using bench::must;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
double best_of(int runs, F&& f) {
  double best = 1e18;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, since(t0));
  }
  return best;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One ticket's events by its chain of primary keys, newest first, every
// column stepped over and nothing decoded; `event` is SELECT * … WHERE seq = ?1.
std::int64_t raw_walk(sqlite3_stmt* event, std::int64_t seq) {
  int prev_col = -1;
  for (int i = 0; i < sqlite3_column_count(event); ++i)
    if (std::string(sqlite3_column_name(event, i)) == "ticket_prev") prev_col = i;
  if (prev_col < 0) die("events has no ticket_prev");
  std::int64_t rows = 0;
  while (seq > 0) {
    sqlite3_bind_int64(event, 1, seq);
    if (sqlite3_step(event) != SQLITE_ROW) break;
    for (int i = 0; i < sqlite3_column_count(event); ++i) (void)sqlite3_column_bytes(event, i);
    ++rows;
    seq = sqlite3_column_int64(event, prev_col);
    sqlite3_reset(event);
  }
  return rows;
}

// The raw limit: the period's ticket rows and, for each, its events by the
// ticket's chain of primary keys, every column stepped over and nothing
// decoded — what any reader of these rows pays before doing anything.
double raw_read_seconds(const std::string& path, engine::timestamp from, engine::timestamp to, std::int64_t& rows) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) die("raw open");
  sqlite3_stmt* tickets = nullptr;
  sqlite3_stmt* event = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT * FROM tickets WHERE state <> 'closed' AND closed_at IS NULL AND created_at < ?2"
                     " UNION ALL SELECT * FROM tickets WHERE closed_at >= ?1 AND created_at < ?2",
                     -1, &tickets, nullptr);
  sqlite3_prepare_v2(db, "SELECT * FROM events WHERE seq = ?1", -1, &event, nullptr);
  if (!tickets || !event) die(std::string("raw prepare: ") + sqlite3_errmsg(db));
  const int last_event_col = [&] {
    for (int i = 0; i < sqlite3_column_count(tickets); ++i)
      if (std::string(sqlite3_column_name(tickets, i)) == "last_event") return i;
    die("tickets has no last_event");
  }();
  rows = 0;
  const auto t0 = std::chrono::steady_clock::now();
  sqlite3_bind_int64(tickets, 1, from);
  sqlite3_bind_int64(tickets, 2, to);
  while (sqlite3_step(tickets) == SQLITE_ROW) {
    ++rows;
    rows += raw_walk(event, sqlite3_column_int64(tickets, last_event_col));
  }
  const double s = since(t0);
  sqlite3_finalize(tickets);
  sqlite3_finalize(event);
  sqlite3_close(db);
  return s;
}

void bench_whatif(const std::string& db, std::string from_text, std::string to_text, const std::string& policy_file) {
  auto store = bench::open_store(db);
  const auto& wfs = workflows::builtin_workflows();
  auto timeline = must(workflows::load_policy_timeline(*store, wfs), "policy history");
  const auto last = must(store->last_event_seq(), "last seq");
  engine::timestamp to = 0;
  if (to_text.empty()) {
    must(store->scan_events(last - 1, [&](const engine::event_record& e) {
      to = e.at;
      return false;
    }), "newest event");
  } else {
    to = engine::parse_iso(to_text).value_or(0);
  }
  const engine::timestamp from = from_text.empty() ? to - 30 * 86400 : engine::parse_iso(from_text).value_or(0);
  if (to <= from) die("the period is empty");

  engine::policy_version proposed;
  if (policy_file.empty()) {
    proposed = timeline.current();
  } else {
    proposed.name = policy_file;
    proposed.policy = std::make_shared<const engine::sla_policy>(
        must(workflows::parse_policy(read_file(policy_file), policy_file, wfs), "proposed policy"));
  }
  fmt::print("what-if over {} to {} of {}\n", engine::format_iso(from), engine::format_iso(to), db);

  std::int64_t active = 0;
  const double scan = best_of(3, [&] {
    active = 0;
    must(store->scan_tickets_active(from, to, [&](const engine::ticket&) { return ++active, true; }), "scan");
  });
  std::int64_t events = 0;
  const double read = best_of(3, [&] {
    events = 0;
    must(store->scan_tickets_active(from, to, [&](const engine::ticket& t) {
      events += static_cast<std::int64_t>(must(store->ticket_events(t.id), "events").size());
      return true;
    }), "scan");
  });
  // The replays alone, on histories read beforehand.
  std::vector<std::pair<engine::ticket, std::vector<engine::event_record>>> held;
  must(store->scan_tickets_active(from, to, [&](const engine::ticket& t) {
    held.emplace_back(t, must(store->ticket_events(t.id), "events"));
    return true;
  }), "scan");
  const engine::policy_timeline proposed_timeline({proposed}, *proposed.policy);
  const double replays = best_of(3, [&] {
    for (const auto& [t, h] : held) {
      must(engine::replay_recorded(t, h, timeline, wfs, {}, to), "replay");
      must(engine::replay_simulated(t, h, proposed_timeline, wfs, to), "replay");
    }
  });
  held.clear();
  std::int64_t raw_rows = 0;
  const double raw = best_of(3, [&] { raw_read_seconds(db, from, to, raw_rows); });

  engine::whatif_query q;
  q.from = from;
  q.to = to;
  q.now = to;
  engine::json result;
  const double single = best_of(3, [&] { result = must(engine::what_if(*store, timeline, proposed, wfs, q), "what-if"); });
  const double whatif = best_of(3, [&] {
    result = must(engine::what_if(*store, timeline, proposed, wfs, q,
                                  [&db]() -> engine::Result<std::unique_ptr<engine::store>> {
                                    auto s = storage::sqlite_store::open(db);
                                    if (!s) return s.error();
                                    return std::unique_ptr<engine::store>(std::move(*s));
                                  }),
                  "what-if");
  });
  fmt::print("  tickets active in the period      {:>10}\n", active);
  fmt::print("  their events                      {:>10}\n", events);
  fmt::print("  raw SQLite read of those rows     {:>10.3f} s  ({} rows; the limit of any reader)\n", raw, raw_rows);
  fmt::print("  store: active tickets only        {:>10.3f} s\n", scan);
  fmt::print("  store: tickets + their histories  {:>10.3f} s\n", read);
  fmt::print("  the two replays alone, one thread {:>10.3f} s\n", replays);
  fmt::print("  policy whatif on one connection   {:>10.3f} s\n", single);
  fmt::print("  policy whatif (two replays each)  {:>10.3f} s  ({:.2f}x the raw read; target < 2 s)\n", whatif,
             whatif / raw);
  fmt::print("  tickets whose outcome changes     {:>10}\n", result["changed"]["count"].get<std::int64_t>());
  fmt::print("  not replayed                      {:>10}\n", result["not_replayed"].size());
}

// A ticket with `n` events on a business-hours calendar in a scratch database.
void bench_explain(int n) {
  const std::string dir = (std::filesystem::temp_directory_path() / fmt::format("plaint-bench-explain-{}", ::getpid())).string();
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/explain.db";
  auto store = bench::open_store(db);
  const auto& wfs = workflows::builtin_workflows();
  const std::string policy_text = read_file(PLAINT_SOURCE_DIR "/examples/policy-business-hours.toml");
  auto policy = must(workflows::parse_policy(policy_text, "policy-business-hours.toml", wfs), "policy");
  engine::fixed_clock clock(*engine::parse_iso("2026-02-02T08:00:00Z"));
  {
    auto tx = must(store->begin(), "begin");
    must(workflows::record_policy(*store, *tx, policy_text, "policy-business-hours.toml", "bench", clock.now()), "policy");
    must(tx->commit(), "commit");
  }
  engine::executor ex(*store, wfs, clock, policy);
  engine::customer_update c;
  c.id = "acme";
  c.name = std::string("Acme");
  c.tier = std::string("gold");
  c.actor = "bench";
  must(ex.put_customer(c), "customer");
  engine::open_request o;
  o.customer = "acme";
  o.subject = "A long story";
  o.priority = "P3";
  o.actor = "desk";
  const auto id = must(ex.open(o), "open").ticket_after.id;
  auto fire = [&](const std::string& event, engine::field_map fields, const std::string& note = "") {
    engine::event_request r;
    r.ticket = id;
    r.event = event;
    r.fields = std::move(fields);
    r.note = note;
    r.actor = "ann";
    must(ex.apply(r), event);
  };
  fire("triage", {{"owner", "ann"}});
  fire("start", {});
  const char* priorities[] = {"P2", "P3", "P4", "P1"};
  for (int i = 0; must(store->get_ticket(id), "ticket").version < n; ++i) {
    clock.advance(37 * 60);
    switch (i % 6) {
      case 0: fire("comment", {}, "still looking into it"); break;
      case 1: fire("request_info", {}, "need a photo"); break;
      case 2: clock.advance(26 * 3600); fire("customer_replied", {}, "here it is"); break;
      case 3: fire("set_priority", {{"priority", priorities[(i / 6) % 4]}}); break;
      case 4: fire("assign", {{"owner", i % 12 == 4 ? "bob" : "ann"}}); break;
      default: fire("comment", {}, "update"); break;
    }
  }
  const auto t = must(store->get_ticket(id), "ticket");
  const auto timeline = must(workflows::load_policy_timeline(*store, wfs), "policy history");
  engine::json x;
  std::vector<double> runs;
  for (int i = 0; i < 30; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto events = must(store->ticket_events(id), "events");
    x = engine::explain_sla(t, events, timeline, wfs, clock.now());
    runs.push_back(since(t0));
  }
  std::sort(runs.begin(), runs.end());
  const auto history = must(store->ticket_events(id), "events");
  const double read = best_of(30, [&] { must(store->ticket_events(id), "events"); });
  const double replay = best_of(30, [&] { must(engine::replay_recorded(t, history, timeline, wfs), "replay"); });
  std::int64_t rows = 0;
  const double raw = best_of(30, [&] {
    sqlite3* h = nullptr;
    sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, "SELECT * FROM events WHERE seq = ?1", -1, &st, nullptr);
    rows = raw_walk(st, t.last_event);
    sqlite3_finalize(st);
    sqlite3_close(h);
  });
  fmt::print("sla explain of a ticket with {} events\n", t.version);
  fmt::print("  raw SQLite read of its {} events   {:>8.2f} ms\n", rows, raw * 1000);
  fmt::print("  store: its history                {:>8.2f} ms\n", read * 1000);
  fmt::print("  replay of the history             {:>8.2f} ms\n", replay * 1000);
  fmt::print("  explain (read, replay, segments)  {:>8.2f} ms median, {:.2f} ms worst of 30  (target < 10 ms)\n",
             runs[runs.size() / 2] * 1000, runs.back() * 1000);
  fmt::print("  clocks explained                  {:>8}; check matches: {}\n", x["clocks"].size(),
             x["check"]["matches"].get<bool>() ? "yes" : "NO");
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, from, to, policy;
  int events = 1000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--db" && value) db = value, ++i;
    else if (arg == "--from" && value) from = value, ++i;
    else if (arg == "--to" && value) to = value, ++i;
    else if (arg == "--policy" && value) policy = value, ++i;
    else if (arg == "--events" && value) events = std::atoi(value), ++i;
    else die("usage: bench_sla_replay [--db DESK [--from T] [--to T] [--policy FILE]] [--events N]");
  }
  if (events < 10) die("--events must be at least 10");
  bench_explain(events);
  if (!db.empty()) bench_whatif(db, from, to, policy);
  return 0;
}
