// Builds a large desk quickly, for benchmarks of what reads it (the web desk's
// first paint, say): N complaints logged over the last D days through the
// executor, as `plaint` would log them, in group-committed batches. Every
// row is real — hash-chained events, timers, search text, people who own the
// tickets — so `plaint audit verify` passes and `plaint serve` runs on it.
//
//   bench_desk --db build/bench-desk/desk.db [--tickets 1000000] [--days 365]
//
// Each complaint follows a plan drawn from its number: most are triaged,
// worked, resolved and followed up with a CSAT score within a few days; some
// are rejected at intake, some escalated, some commented on (English or
// Chinese notes), some paused waiting for the customer, some reopened in
// the follow-up window and resolved again, and about 5 % stuck in
// remediation for good (old, breached, open: about 50,000 at 1M), so the
// complaints of the last days are still open and most others are closed. The
// clock moves forward batch by batch; a ticket's SLA timers that fall due
// before its next step fire first, as they would have. Timers left due at
// the end fire once all are logged. Refuses a database that holds tickets.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "bench/support.h"
#include "engine/customers.h"
#include "engine/executor.h"
#include "engine/people.h"
#include "storage/sqlite_store.h"
#include "workflows/registry.h"

using namespace plaint;
using engine::timestamp;

namespace {

using bench::die;
using bench::must;
using bench::open_store;

constexpr std::int64_t minute = 60, hour = 3600, day = 86400;
constexpr std::int64_t window = 2 * hour;  // desk time one batch covers
constexpr std::size_t max_batch = 4000;       // requests per transaction at most
constexpr int customer_count = 5000;
constexpr int agent_count = 40;
constexpr int supervisor_count = 4;

struct options {
  std::string db;
  std::int64_t tickets = 1'000'000;
  int days = 365;
};

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--db" && value) o.db = value, ++i;
    else if (arg == "--tickets" && value) o.tickets = std::atoll(value), ++i;
    else if (arg == "--days" && value) o.days = std::atoi(value), ++i;
    else die("usage: bench_desk --db FILE [--tickets N] [--days D]");
  }
  if (o.db.empty() || o.tickets < 1 || o.days < 1) die("--db is required; --tickets and --days must be positive");
  return o;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64: a plan per complaint number, the same every run
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const char* const family[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵"};
const char* const given[] = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "勇"};
const char* const first[] = {"Anna", "Ben", "Chloé", "Devi", "Eli", "Marta", "Noah", "Sara", "Tom", "Yusuf"};
const char* const last[] = {"Schmidt", "Okafor", "Martin", "Raman", "Cohen", "Nowak", "Berg", "Klein"};

std::string agent_id(int a) { return fmt::format("agent{:02}", a + 1); }
std::string supervisor_id(int s) { return fmt::format("lead{:02}", s + 1); }

std::string person_name(int k) {
  if (k % 2 == 0) return fmt::format("{}{}", family[k / 2 % 8], given[k / 16 % 8]);
  return fmt::format("{} {}", first[k / 2 % 10], last[k / 20 % 8]);
}

engine::customer customer_of(int c) {
  engine::customer cu;
  cu.id = fmt::format("cust{:05}", c);
  cu.name = c % 3 == 0 ? fmt::format("{}{}{}", family[c % 8], given[c / 8 % 8], given[c / 64 % 8])
                       : fmt::format("{} {} {}", first[c % 10], last[c / 10 % 8], c);
  const int t = c % 20;
  cu.tier = std::string(engine::tiers[t < 14 ? 0 : t < 19 ? 1 : 2]);
  return cu;
}

// subject, category
const std::pair<const char*, const char*> subjects[] = {
    {"Parcel {} arrived with a crushed corner", "delivery"},
    {"快递延误三天，要求退款（订单 {}）", "delivery"},
    {"Charged twice for invoice {}", "billing"},
    {"Router drops the connection every evening (line {})", "technical"},
    {"Agent hung up on me during the call about order {}", "service_attitude"},
    {"洗衣机漏水，售后一直没人上门（工单 {}）", "product_quality"},
    {"Wrong size delivered for order {}, exchange requested", "delivery"},
    {"App shows an outdated balance on account {}", "technical"},
    {"发票抬头开错了，需要重开（发票 {}）", "billing"},
    {"Heating unit {} makes a loud noise", "product_quality"},
    {"客服态度很差，问题没有解决（编号 {}）", "service_attitude"},
    {"Question about contract {}", "other"},
};
const char* const resolution_codes[] = {"refund", "replaced", "repaired", "explained", "credited", "resolved_first_contact"};

// The steps of one complaint after `open`, in order.
enum class step : std::uint8_t {
  triage, escalate, start, comment, request_info, customer_replied, resolve, reopen, resolve_again,
  follow_up_done, reject
};

struct action {
  timestamp at;
  std::int64_t complaint;  // index, not ticket id
  step what;
  bool operator>(const action& o) const { return std::tie(at, complaint) > std::tie(o.at, o.complaint); }
};

struct plan {
  bool rejected, escalated, stuck, commented, paused, reopened;
  std::int64_t to_triage, to_escalate, to_start, to_resolve, to_follow_up;  // delays after the step before
  std::int64_t to_reply;                                                    // a paused ticket's wait
};

plan plan_of(std::int64_t i) {
  const std::uint64_t h = mix(std::uint64_t(i)), g = mix(h);
  plan p{};
  p.rejected = h % 100 < 3;
  p.escalated = h / 100 % 100 < 6;
  p.stuck = h / 10000 % 1000 < 47;  // never resolved: old open, breached tickets
  p.commented = h / 10000000 % 100 < 30;
  p.paused = h / 1000000000 % 100 < 15;
  p.reopened = h / 100000000000 % 100 < 4;
  p.to_triage = 5 * minute + std::int64_t(g % 55) * minute;
  p.to_escalate = hour + std::int64_t(g / 64 % 180) * minute;
  p.to_start = 15 * minute + std::int64_t(g / 16384 % 120) * minute;
  p.to_resolve = 2 * hour + std::int64_t(g / 2097152 % 70) * hour;
  p.to_follow_up = 4 * hour + std::int64_t(g / 268435456 % 44) * hour;  // before the 3-day follow-up timer
  p.to_reply = hour + std::int64_t(g / 34359738368 % 47) * hour;
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_options(argc, argv);
  const auto t0 = std::chrono::steady_clock::now();
  auto store = open_store(o.db);
  bool empty = true;
  must(store->scan_tickets([&](const engine::ticket&) { return empty = false; }), "scan");
  if (!empty) die(o.db + " already holds tickets");

  const timestamp end = timestamp(std::time(nullptr)) / 60 * 60 - 10 * minute;
  const timestamp begin = end - std::int64_t(o.days) * day;
  engine::fixed_clock clock(begin - hour);
  engine::executor ex(*store, workflows::builtin_workflows(), clock);

  {  // the people who own and escalate the tickets (no passwords: nobody signs in as them)
    auto tx = must(store->begin(), "begin");
    for (int k = 0; k < agent_count + supervisor_count; ++k) {
      engine::person p;
      const bool agent = k < agent_count;
      p.id = agent ? agent_id(k) : supervisor_id(k - agent_count);
      p.name = person_name(k);
      p.email = p.id + "@desk.example";
      p.role = agent ? "agent" : "supervisor";
      p.team = agent ? (k % 4 == 3 ? "L2" : "L1") : "L2";
      p.created_at = p.updated_at = clock.now();
      must(engine::check_person(p), "person " + p.id);
      must(tx->put_person(p), "person " + p.id);
    }
    must(tx->commit(), "commit people");
  }
  {
    auto tx = must(store->begin(), "begin");
    for (int c = 0; c < customer_count; ++c)
      must(engine::put_customer_in(*tx, engine::customer_update::whole(customer_of(c), "bench"), clock.now()),
           "customer");
    must(tx->commit(), "commit customers");
  }

  fmt::print("bench_desk: {} complaints over {} days into {}\n", o.tickets, o.days, o.db);
  std::fflush(stdout);

  std::vector<engine::ticket_id> ids(std::size_t(o.tickets), 0);
  std::priority_queue<action, std::vector<action>, std::greater<>> later;
  const double spacing = double(end - begin) / double(o.tickets);
  std::int64_t next_open = 0, transitions = 0, refused = 0, batches = 0;
  auto opened_at = [&](std::int64_t i) { return begin + timestamp(double(i) * spacing); };

  std::vector<engine::batch_request> batch;
  std::vector<std::pair<std::int64_t, step>> what;  // complaint (-1 - i for an open) and step of each request
  batch.reserve(max_batch);
  what.reserve(max_batch);
  for (timestamp w = begin; w < end; w += window) {
    const timestamp w_end = std::min(w + window, end);
    // What falls into this window: opens and later steps, in time order; a
    // full batch commits early (its clock is the last item's time).
    while (true) {
      batch.clear();
      what.clear();
      timestamp last = w;
      while (batch.size() < max_batch) {
        const bool open_next = next_open < o.tickets && opened_at(next_open) < w_end;
        const bool step_next = !later.empty() && later.top().at < w_end;
        if (!open_next && !step_next) break;
        if (open_next && (!step_next || opened_at(next_open) <= later.top().at)) {
          const std::int64_t i = next_open++;
          const auto& [subject, category] = subjects[mix(i ^ 0x5eed) % std::size(subjects)];
          const engine::customer cu = customer_of(int(mix(i ^ 0xc0ffee) % customer_count));
          const std::uint64_t r = mix(i ^ 0xfeed) % 100;
          engine::open_request req;
          req.customer = cu.id;
          req.subject = fmt::format(fmt::runtime(subject), 100000 + i);
          req.description = fmt::format("Logged by the front desk for {} (complaint {}). 客户来电反映问题。", cu.name, i + 1);
          req.channel = std::string(engine::channels[mix(i) % 6]);
          req.category = category;
          req.priority = r < 5 ? "P1" : r < 30 ? "P2" : r < 80 ? "P3" : "P4";
          req.actor = "desk";
          batch.emplace_back(std::move(req));
          what.emplace_back(-1 - i, step::triage);
          last = std::max(last, opened_at(i));
          continue;
        }
        const action a = later.top();
        later.pop();
        const std::string owner = agent_id(int(mix(a.complaint ^ 0xa11) % agent_count));
        engine::event_request e;
        e.ticket = ids[std::size_t(a.complaint)];
        e.actor = owner;
        switch (a.what) {
          case step::reject:
            e.event = "reject", e.fields = {{"reason", "duplicate"}}, e.note = "Same issue as an earlier ticket.";
            e.actor = "desk";
            break;
          case step::triage: e.event = "triage", e.fields = {{"owner", owner}}; break;
          case step::escalate:
            e.event = "escalate", e.fields = {{"reason", "customer called again"}};
            e.actor = supervisor_id(int(a.complaint % supervisor_count));
            break;
          case step::start: e.event = "start", e.note = "Called the customer back."; break;
          case step::comment:
            e.event = "comment";
            e.note = a.complaint % 2 ? "Customer asked for an update; parcel tracking checked."
                                     : "客户再次来电询问包裹进度，已安抚。";
            break;
          case step::request_info: e.event = "request_info", e.note = "Asked the customer for photos of the damage."; break;
          case step::customer_replied: e.event = "customer_replied", e.note = "Photos received. 已收到照片。"; break;
          case step::reopen: e.event = "reopen", e.note = "Customer says the problem is back."; break;
          case step::resolve:
          case step::resolve_again:
            e.event = "resolve", e.note = "Problem solved; customer informed. 已处理。";
            e.fields = {{"resolution_code", resolution_codes[mix(a.complaint ^ 0x7e5) % std::size(resolution_codes)]},
                        {"root_cause", "supplier"}};
            break;
          case step::follow_up_done:
            e.event = "follow_up_done", e.fields = {{"csat", std::to_string(1 + mix(a.complaint ^ 0xc5a7) % 5)}};
            break;
        }
        batch.emplace_back(std::move(e));
        what.emplace_back(a.complaint, a.what);
        last = std::max(last, a.at);
      }
      if (batch.empty()) break;
      clock.set(last);
      auto results = must(ex.apply_batch(batch), "batch");
      ++batches;
      for (std::size_t k = 0; k < results.size(); ++k) {
        const bool is_open = what[k].first < 0;
        const std::int64_t i = is_open ? -1 - what[k].first : what[k].first;
        if (!results[k]) {
          if (is_open) die(fmt::format("open of complaint {}: {}", i, results[k].error().message));
          ++refused;  // the ticket stays where it is
          continue;
        }
        ++transitions;
        const plan p = plan_of(i);
        const timestamp at = last;
        auto then = [&](std::int64_t delay, step s) { later.push({at + delay, i, s}); };
        if (is_open) {
          ids[std::size_t(i)] = results[k]->ticket_after.id;
          p.rejected ? then(30 * minute, step::reject) : then(p.to_triage, step::triage);
          continue;
        }
        switch (what[k].second) {
          case step::triage: p.escalated ? then(p.to_escalate, step::escalate) : then(p.to_start, step::start); break;
          case step::escalate: then(p.to_start, step::start); break;
          case step::start:
            if (p.commented) then(p.to_start, step::comment);
            else if (p.paused) then(p.to_start, step::request_info);
            else if (!p.stuck) then(p.to_resolve, step::resolve);
            break;
          case step::comment:
            if (p.paused) then(p.to_start, step::request_info);
            else if (!p.stuck) then(p.to_resolve, step::resolve);
            break;
          case step::request_info: then(p.to_reply, step::customer_replied); break;
          case step::customer_replied: if (!p.stuck) then(p.to_resolve, step::resolve); break;
          case step::resolve: then(p.to_follow_up, p.reopened ? step::reopen : step::follow_up_done); break;
          case step::reopen: then(p.to_resolve, step::resolve_again); break;
          case step::resolve_again: then(p.to_follow_up, step::follow_up_done); break;
          default: break;
        }
      }
      if (next_open > 0 && batches % 200 == 0) {
        fmt::print("  {} complaints logged, {} transitions, {:.0f} s\n", next_open, transitions, seconds_since(t0));
        std::fflush(stdout);
      }
    }
  }

  clock.set(end);
  std::int64_t fired = 0;
  for (;;) {
    auto round = must(ex.fire_due(end, 256, 4096), "fire_due");
    fired += std::int64_t(round.size());
    if (round.size() < 4096) break;
  }
  fmt::print("bench_desk: {} complaints, {} transitions ({} refused), {} timers fired at the end; "
             "{} batches; {:.1f} s\n",
             o.tickets, transitions, refused, fired, batches, seconds_since(t0));
  return 0;
}
