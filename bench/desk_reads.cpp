// The desk's daily reads on a large desk (issue: performance at desk scale):
// search pages, the queues and the board, the KPI report by period. Each is
// timed through the store, as `plaint` and the API's handlers call it, and
// printed beside its target and beside what raw SQLite takes on the same
// file for the simplest page (50 tickets newest first), so a ratio can be
// read on any machine.
//
//   bench_desk_reads --db DESK [--runs N]
//
// DESK is a desk such as bench_desk builds (1,000,000 tickets over three
// years), or a PostgreSQL database it was moved to (`plaint migrate
// --to`). Each figure is the median of N runs (default 7) after one warm-up
// run, with the worst beside it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

#include "bench/support.h"
#include "engine/kpi.h"
#include "storage/columns.h"
#include "storage/open_store.h"
#include "workflows/policy.h"

using namespace plaint;
using bench::die;
using bench::must;

namespace {

struct figure {
  double median_ms, worst_ms;
};

figure time_it(int runs, const std::function<void()>& fn) {
  fn();  // warm-up: the page cache, the statements
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.back()};
}

void print(const std::string& what, figure f, double target_ms, const std::string& note = {}) {
  fmt::print("  {:<52} {:>9.2f} ms  (worst {:>8.2f})  target < {:>5.0f} ms  {}{}\n", what, f.median_ms, f.worst_ms,
             target_ms, f.median_ms < target_ms ? "met" : "NOT MET", note.empty() ? "" : "  " + note);
}

engine::ticket_page page_of(engine::store& s, const engine::ticket_query& q) { return must(s.list_tickets(q), "list"); }

// The query for the page `depth` pages in (following the cursors).
engine::ticket_query deeper(engine::store& s, engine::ticket_query q, int depth) {
  for (int i = 1; i < depth; ++i) {
    auto page = page_of(s, q);
    if (!page.next_cursor) break;
    q.cursor = page.next_cursor;
  }
  return q;
}

// Raw SQLite on the same file: every row of `sql`, each column read as an
// integer (the floor under the store's reads).
double raw_ms(const std::string& db, const char* sql, int runs) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) die("open " + db);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) != SQLITE_OK) die(sqlite3_errmsg(h));
  std::int64_t sum = 0;
  const figure f = time_it(runs, [&] {
    while (sqlite3_step(st) == SQLITE_ROW)
      for (int c = 0, n = sqlite3_column_count(st); c < n; ++c) sum += sqlite3_column_int64(st, c);
    sqlite3_reset(st);
  });
  sqlite3_finalize(st);
  sqlite3_close(h);
  return sum == 42 ? 0 : f.median_ms;  // `sum` keeps the reads
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  int runs = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--db" && i + 1 < argc) db = argv[++i];
    else if (arg == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else die("usage: bench_desk_reads --db DESK [--runs N]");
  }
  if (db.empty()) die("--db is required");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as it is measured, in a log file too
  // A file is SQLite (with raw SQLite's figures beside the store's), a
  // postgresql:// URL a PostgreSQL desk (`plaint migrate --to` one).
  const bool sqlite = !storage::is_postgresql_url(db);
  const std::string where = storage::printable_location(db);  // a URL without its password
  auto store = must(storage::open_store(db, std::chrono::milliseconds(5000)), "open " + where);
  must(store->migrate(), "migrate " + where);
  engine::store& s = *store;

  std::int64_t tickets = 0, open = 0;
  engine::timestamp newest = 0, oldest = 0;
  {
    engine::ticket_query all;
    all.limit = 1;
    auto top = must(s.list_tickets(all), "newest ticket");
    if (top.tickets.empty()) die(where + " holds no tickets");
    tickets = top.tickets.front().id;
    newest = top.tickets.front().created_at;
    oldest = must(s.get_ticket(1), "ticket 1").created_at;
  }
  if (sqlite) {
    sqlite3* h = nullptr;
    sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, "SELECT count(*) FROM tickets WHERE state <> 'closed'", -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) open = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
  }
  const engine::timestamp now = newest + 600;
  fmt::print("bench_desk_reads: {} ({} tickets, {} open), median of {} runs\n", where, tickets,
             sqlite ? std::to_string(open) : std::string("?"), runs);
  if (sqlite) {
    const double raw = raw_ms(db, "SELECT * FROM tickets ORDER BY id DESC LIMIT 50", runs);
    fmt::print("  raw SQLite: 50 tickets newest first              {:>9.2f} ms\n", raw);
  }

  fmt::print("search (first page of 50 newest first, and page 20)\n");
  const std::pair<const char*, const char*> searches[] = {
      {"front desk", "in every ticket"},   {"客户来电", "in every ticket"},     {"arrived", "one ticket in 12"},
      {"包裹", "2 CJK characters"},        {"退款", "2 CJK characters"},        {"款", "1 CJK character"},
      {"ok", "2 letters"},                 {"zq", "2 letters, rare"},           {"TV", "2 letters, rare"},
      {"Parcel 100042", "one ticket"},     {"no such words", "nothing"},        {"a", "1 letter"},
      {"7", "1 digit"},                    {"e ", "a letter and a space"},      {"，", "1 CJK punctuation"},
      {"#9", "2 characters, not letters"}, {"x%", "2 characters, rare"},
  };
  for (const auto& [text, what] : searches) {
    engine::ticket_query q;
    q.search = text;
    std::size_t found = 0;
    const figure first = time_it(runs, [&] { found = page_of(s, q).tickets.size(); });
    print(fmt::format("\"{}\" ({}): {} rows", text, what, found), first, 50);
    if (found == 50) {
      const auto q20 = deeper(s, q, 20);
      print(fmt::format("\"{}\" page 20", text), time_it(runs, [&] { page_of(s, q20); }), 50);
    }
  }
  {
    engine::ticket_query q;
    q.search = "包裹";
    q.open_only = true;
    print("\"包裹\" open only", time_it(runs, [&] { page_of(s, q); }), 50);
  }

  fmt::print("queues and board (first page of 50)\n");
  auto queue = [&](const std::string& what, engine::ticket_query q, int depth = 1) {
    q.now = now;
    q = deeper(s, q, depth);
    std::size_t found = 0;
    const figure f = time_it(runs, [&] { found = page_of(s, q).tickets.size(); });
    print(fmt::format("{}: {} rows", what, found), f, 20);
  };
  engine::ticket_query q;
  q.open_only = true;
  queue("list --open", q);
  queue("list --open, page 20", q, 20);
  q = {};
  q.owner = "agent07";
  queue("list --owner agent07", q);
  q.open_only = true;
  queue("list --owner agent07 --open", q);
  q = {};
  q.state = "remediation";
  queue("list --state remediation", q);
  q = {};
  q.level = 2;
  queue("list --level 2", q);
  q = {};
  q.breached_only = true;
  queue("list --breached", q);
  print("escalations (the attention board, 50)", time_it(runs, [&] { must(s.attention_board(now, 50), "board"); }), 20);

  fmt::print("KPI report\n");
  auto report = [&](const std::string& what, engine::timestamp from, engine::timestamp to, double target) {
    engine::kpi_query k;
    k.from = from, k.to = to;
    print(what, time_it(std::min(runs, 3), [&] { must(engine::compute_kpis(s, workflows::default_policy(), k), "report"); }),
          target);
    std::int64_t n = 0;  // where the time goes: reading the period's tickets alone
    const figure read = time_it(std::min(runs, 3), [&] {
      n = 0;
      must(s.scan_period_figures(from, to, [&](const engine::ticket_figures&) { return ++n, true; }), "scan");
    });
    fmt::print("    of which reading its {} tickets {:>9.2f} ms ({:.2f} us each)\n", n, read.median_ms,
               n ? read.median_ms * 1000 / double(n) : 0.0);
  };
  const engine::timestamp month = 30 * 86400;
  report("the last 30 days", newest - month, newest, 200);
  report("30 days in the middle of the history", (oldest + newest) / 2, (oldest + newest) / 2 + month, 200);
  report("30 days before the first ticket", oldest - 2 * month, oldest - month, 10);
  report("all time", oldest - 1, newest + 1, 1000);
  if (sqlite)
    fmt::print("  raw SQLite: the figure columns of every ticket   {:>9.2f} ms\n",
               raw_ms(db, "SELECT " PLAINT_FIGURES_COLUMNS " FROM tickets INDEXED BY tickets_kpi_closed",
                      std::min(runs, 3)));
  return 0;
}
