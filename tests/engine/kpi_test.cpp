// KPIs over a small desk story with known figures (default policy: 24x7,
// P3 first response 8h / resolution 72h; gold 75 %, platinum 50 %).
#include <doctest/doctest.h>

#include <random>

#include "engine/kpi.h"
#include "tests/engine/desk_fixture.h"
#include "tests/engine/faulty_store.h"

using plaint::testing::desk;
using namespace plaint;

namespace {

constexpr engine::timestamp hour = 3600, day = 86400;
constexpr engine::timestamp t0 = 1'795'420'800;  // 2026-11-23T08:00:00Z

void ok(desk& d, engine::timestamp at, engine::ticket_id id, const std::string& event, engine::field_map fields = {},
        const std::string& note = "") {
  d.clock.set(at);
  auto r = d.fire(id, event, std::move(fields), note);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
}

engine::ticket_id open_at(desk& d, engine::timestamp at, const std::string& customer) {
  d.clock.set(at);
  return d.open(customer);
}

void resolve(desk& d, engine::timestamp at, engine::ticket_id id, const std::string& root_cause) {
  ok(d, at, id, "resolve", {{"resolution_code", "fixed"}, {"root_cause", root_cause}}, "done");
}

// Nine tickets; the period is [t0, t0 + 4d). Chronological, as the desk lives it.
void story(desk& d) {
  d.add_customer("std1");
  d.add_customer("std2");
  d.add_customer("gold1", "gold");
  d.add_customer("plat1", "platinum");
  const auto h = open_at(d, t0 - 10 * day, "std2");  // closed before the period: not counted
  ok(d, t0 - 10 * day + hour, h, "reject", {{"reason", "duplicate"}});
  const auto f = open_at(d, t0 - 5 * day, "std2");  // resolved late, in the period
  ok(d, t0 - 5 * day + hour / 2, f, "triage", {{"owner", "carol"}, {"category", "technical"}});
  ok(d, t0 - 5 * day + 2 * hour, f, "start");
  const auto a = open_at(d, t0, "std1");
  ok(d, t0 + hour / 2, a, "triage", {{"owner", "ann"}, {"category", "billing"}});
  ok(d, t0 + hour, a, "start");
  const auto b = open_at(d, t0 + hour, "std1");
  resolve(d, t0 + hour, f, "wrong_part");
  ok(d, t0 + 2 * hour, b, "triage", {{"owner", "bob"}, {"category", "delivery"}});
  const auto c = open_at(d, t0 + 2 * hour, "gold1");  // never answered: breached
  ok(d, t0 + 3 * hour, b, "start");
  ok(d, t0 + 3 * hour, c, "escalate");
  const auto dd = open_at(d, t0 + 3 * hour, "plat1");  // first response late, escalated twice, handed off
  ok(d, t0 + 4 * hour, dd, "triage", {{"owner", "ann"}, {"category", "billing"}});
  ok(d, t0 + 4 * hour, dd, "escalate");
  ok(d, t0 + 4 * hour, dd, "escalate");
  resolve(d, t0 + 5 * hour, b, "courier");
  ok(d, t0 + 6 * hour, dd, "assign", {{"owner", "bob"}});
  ok(d, t0 + 8 * hour, dd, "start");
  resolve(d, t0 + 10 * hour, a, "label_misprint");
  resolve(d, t0 + 20 * hour, dd, "label_misprint");
  ok(d, t0 + day, a, "follow_up_done", {{"csat", "5"}});
  ok(d, t0 + day, b, "follow_up_done", {{"csat", "3"}});
  const auto g = open_at(d, t0 + day, "std2");
  ok(d, t0 + day + hour, g, "reject", {{"reason", "spam"}});
  ok(d, t0 + 2 * day, b, "reopen");
  resolve(d, t0 + 3 * day, b, "courier");
  open_at(d, t0 + 3 * day, "std2");  // untouched: first response breached by the period's end
  ok(d, t0 + 3 * day + hour, b, "follow_up_done", {{"csat", "1"}});
  ok(d, t0 + 3 * day + hour, f, "follow_up_done", {{"unreachable", "true"}});
  const auto e = open_at(d, t0 + 3 * day + 12 * hour, "std2");
  ok(d, t0 + 3 * day + 13 * hour, e, "triage", {{"owner", "carol"}, {"category", "billing"}});
  ok(d, t0 + 3 * day + 15 * hour, e, "comment", {}, "looking into it");
}

engine::json kpis(desk& d, engine::timestamp from, engine::timestamp to, const std::string& by = "") {
  auto r = engine::compute_kpis(*d.store, d.policy, {from, to, by});
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

double rate(const engine::json& j) { return j.get<double>(); }

}  // namespace

TEST_CASE("KPIs of a period count its tickets by when they were opened, resolved and closed") {
  desk d;
  story(d);
  const auto k = kpis(d, t0, t0 + 4 * day);
  CHECK(k["from"] == "2026-11-23T08:00:00Z");
  CHECK(k["to"] == "2026-11-27T08:00:00Z");
  CHECK(k["groups"] == engine::json::array());
  const auto& o = k["overall"];
  CHECK(o["opened"] == 7);
  CHECK(o["closed"] == 4);
  CHECK(o["resolved"] == 4);
  CHECK(o["backlog"] == engine::json::parse(R"({"total":4,"by_age":{"<1d":1,"1-3d":1,"3-7d":2,">7d":0}})"));
  CHECK(o["first_response_seconds"]["p50"] == 7200);
  CHECK(o["first_response_seconds"]["p90"] == 18000);
  CHECK(o["resolution_seconds"]["p50"] == 61200);
  CHECK(o["resolution_seconds"]["p90"] == 435600);
  // ≤ 1 d: 2, ≤ 3 d: 1, ≤ 7 d: 1.
  CHECK(o["resolution_seconds"]["histogram"] ==
        engine::json::parse(R"([{"le":3600,"count":0},{"le":14400,"count":0},{"le":28800,"count":0},
                                {"le":86400,"count":2},{"le":259200,"count":1},{"le":604800,"count":1},
                                {"le":null,"count":0}])"));
  CHECK(rate(o["on_time_rate"]) == doctest::Approx(0.75));
  CHECK(rate(o["success_rate"]) == doctest::Approx(0.75));
  CHECK(rate(o["reopen_rate"]) == doctest::Approx(0.25));
  CHECK(rate(o["escalation_rate"]["2"]) == doctest::Approx(2.0 / 7));
  CHECK(rate(o["escalation_rate"]["3"]) == doctest::Approx(1.0 / 7));
  CHECK(rate(o["handoffs_mean"]) == doctest::Approx(1.0 / 7));
  CHECK(rate(o["csat"]["mean"]) == doctest::Approx(3.0));
  CHECK(o["csat"]["count"] == 2);
  CHECK(o["csat"]["distribution"] == engine::json::parse(R"({"1":1,"2":0,"3":0,"4":0,"5":1})"));
  CHECK(rate(o["follow_up_completion"]) == doctest::Approx(2.0 / 3));
  CHECK(o["top_categories"] ==
        engine::json::parse(R"([{"key":"billing","count":3},{"key":"other","count":3},{"key":"delivery","count":1}])"));
  CHECK(o["top_root_causes"] == engine::json::parse(
                                    R"([{"key":"label_misprint","count":2},{"key":"courier","count":1},{"key":"wrong_part","count":1}])"));
}

TEST_CASE("KPI customers at risk: repeats, low CSAT or breaches, platinum first, then by complaints") {
  desk d;
  story(d);
  const auto k = kpis(d, t0, t0 + 4 * day);
  CHECK(k["customers_at_risk"] == engine::json::parse(R"([
    {"customer":"plat1","tier":"platinum","complaints":1,"low_csat":0,"breaches":1},
    {"customer":"gold1","tier":"gold","complaints":1,"low_csat":0,"breaches":1},
    {"customer":"std2","tier":"standard","complaints":3,"low_csat":0,"breaches":2},
    {"customer":"std1","tier":"standard","complaints":2,"low_csat":1,"breaches":0}])"));
}

TEST_CASE("KPIs grouped by owner split every figure, unassigned tickets under (unassigned)") {
  desk d;
  story(d);
  const auto k = kpis(d, t0, t0 + 4 * day, "owner");
  CHECK(k["by"] == "owner");
  const auto& g = k["groups"];
  REQUIRE(g.size() == 4);
  CHECK(g[0]["key"] == "(unassigned)");
  CHECK(g[0]["opened"] == 3);
  CHECK(g[0]["closed"] == 1);
  CHECK(g[0]["backlog"]["total"] == 2);
  CHECK(g[0]["on_time_rate"].is_null());
  CHECK(g[1]["key"] == "ann");
  CHECK(g[1]["resolution_seconds"]["p50"] == 36000);
  CHECK(g[2]["key"] == "bob");
  CHECK(g[2]["opened"] == 2);
  CHECK(g[2]["resolved"] == 2);
  CHECK(rate(g[2]["reopen_rate"]) == doctest::Approx(1.0));
  CHECK(rate(g[2]["success_rate"]) == doctest::Approx(0.0));
  CHECK(rate(g[2]["escalation_rate"]["3"]) == doctest::Approx(0.5));
  CHECK(g[3]["key"] == "carol");
  CHECK(rate(g[3]["on_time_rate"]) == doctest::Approx(0.0));
  CHECK(g[3]["first_response_seconds"]["p50"] == 10800);
}

TEST_CASE("KPIs grouped by team, category and tier use the level reached, category and tier at intake") {
  desk d;
  story(d);
  auto keys = [&](const std::string& by) {
    const auto k = kpis(d, t0, t0 + 4 * day, by);
    std::vector<std::string> out;
    for (const auto& g : k["groups"]) out.push_back(g["key"]);
    return out;
  };
  CHECK(keys("team") == std::vector<std::string>{"L1", "L2", "L3"});
  CHECK(keys("category") == std::vector<std::string>{"billing", "delivery", "other", "technical"});
  CHECK(keys("tier") == std::vector<std::string>{"gold", "platinum", "standard"});
  CHECK(kpis(d, t0, t0 + 4 * day, "team")["groups"][0]["opened"] == 5);
}

TEST_CASE("KPI rates and percentiles are null when nothing counts") {
  desk d;
  story(d);
  const auto o = kpis(d, t0 + 100 * day, t0 + 101 * day)["overall"];
  CHECK(o["opened"] == 0);
  CHECK(o["backlog"]["total"] == 4);  // still open at the period's end
  CHECK(o["backlog"]["by_age"][">7d"] == 4);
  for (const char* f : {"on_time_rate", "success_rate", "reopen_rate", "handoffs_mean", "follow_up_completion"})
    CHECK_MESSAGE(o[f].is_null(), f);
  CHECK(o["escalation_rate"] == engine::json::parse(R"({"2":null,"3":null})"));
  CHECK(o["resolution_seconds"]["p50"] == nullptr);
  CHECK(o["resolution_seconds"]["p90"] == nullptr);
  CHECK(o["csat"]["mean"].is_null());
  CHECK(o["top_categories"] == engine::json::array());
}

TEST_CASE("KPIs refuse an empty period and an unknown grouping") {
  desk d;
  auto r = engine::compute_kpis(*d.store, d.policy, {t0, t0, ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == engine::errc::invalid);
  CHECK(r.error().message ==
        "the report period must end after it starts: from 2026-11-23T08:00:00Z is not before to 2026-11-23T08:00:00Z");
  auto bad = engine::compute_kpis(*d.store, d.policy, {t0, t0 + day, "colour"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == engine::errc::invalid);
  CHECK(bad.error().message == "a report groups by team, owner, category or tier, not 'colour'");
}

TEST_CASE("KPIs read through the period's indexes equal those of a walk over every ticket, for any period and grouping") {
  // A random desk of two months: tickets opened, triaged, started, paused,
  // escalated, handed off, resolved, reopened, followed up and rejected,
  // with SLA breaches fired on the way.
  desk d;
  for (const char* c : {"std1", "std2", "std3"}) d.add_customer(c);
  d.add_customer("gold1", "gold");
  d.add_customer("plat1", "platinum");
  const std::string customers[] = {"std1", "std2", "std3", "gold1", "plat1"};
  const std::string owners[] = {"ann", "bob", "carol"};
  const std::string categories[] = {"billing", "delivery", "technical"};
  std::mt19937 rng(20261204);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<engine::ticket_id> ids;
  engine::timestamp now = t0;
  std::vector<engine::timestamp> instants{t0};
  for (int step = 0; step < 900; ++step) {
    now += static_cast<engine::timestamp>(pick(4 * hour));
    d.clock.set(now);
    if (ids.empty() || pick(4) == 0) {
      ids.push_back(d.open(customers[pick(5)], "order", "P" + std::to_string(1 + pick(4))));
      instants.push_back(now);
      continue;
    }
    const engine::ticket_id id = ids[pick(ids.size())];
    const std::string owner = owners[pick(3)];
    switch (pick(10)) {
      case 0: (void)d.fire(id, "triage", {{"owner", owner}, {"category", categories[pick(3)]}}); break;
      case 1: (void)d.fire(id, "start"); break;
      case 2: (void)d.fire(id, pick(2) ? "request_info" : "customer_replied"); break;
      case 3: (void)d.fire(id, "escalate"); break;
      case 4: (void)d.fire(id, "assign", {{"owner", owner}}); break;
      case 5:
        (void)d.fire(id, "resolve", {{"resolution_code", "fixed"}, {"root_cause", categories[pick(3)]}}, "done");
        break;
      case 6: (void)d.fire(id, "follow_up_done", {{"csat", std::to_string(1 + pick(5))}}); break;
      case 7: (void)d.fire(id, "reopen"); break;
      case 8: (void)d.fire(id, "reject", {{"reason", "duplicate"}}); break;
      default: (void)d.fire(id, "follow_up_done", {{"unreachable", "true"}}); break;
    }
    instants.push_back(now);
  }
  testing::faulty_store full(*d.store);
  full.periods_by_full_walk = true;
  // Periods of every length, some starting or ending exactly on an event.
  std::vector<std::pair<engine::timestamp, engine::timestamp>> periods{
      {t0 - 30 * day, t0}, {t0, now + 1}, {engine::min_instant, engine::max_instant}};
  for (int i = 0; i < 40; ++i) {
    const engine::timestamp a = instants[pick(instants.size())];
    const engine::timestamp b = i % 2 ? instants[pick(instants.size())] : a + static_cast<engine::timestamp>(pick(20 * day));
    if (a != b) periods.emplace_back(std::min(a, b), std::max(a, b));
  }
  int reported = 0;
  for (const auto& [from, to] : periods)
    for (const char* by : {"", "owner", "category", "tier", "team"}) {
      auto indexed = engine::compute_kpis(*d.store, d.policy, {from, to, by});
      auto walked = engine::compute_kpis(full, d.policy, {from, to, by});
      REQUIRE(indexed.ok());
      REQUIRE(walked.ok());
      INFO(engine::format_iso(from), " ", engine::format_iso(to), " by '", by, "'");
      CHECK(indexed->dump() == walked->dump());
      reported += (*indexed)["overall"]["opened"].get<int>() > 0;
    }
  CHECK(reported > 50);  // most periods have tickets in them
}

TEST_CASE("KPIs of more tickets than the tally's queue holds count each ticket once, with its own strings") {
  // 10,007 tickets: five full chunks of 2,048 and a partial one, more than
  // the four that may wait, so the reader blocks on a full queue and the
  // last chunk is handed over by finish().
  desk d;
  const std::string customers[] = {"std1", "std2", "gold1"};
  d.add_customer("std1");
  d.add_customer("std2");
  d.add_customer("gold1", "gold");
  const std::string categories[] = {"billing", "delivery", "technical", "product_quality"};
  constexpr int n = 10'007;
  std::vector<engine::batch_request> batch;
  for (int i = 0; i < n; ++i) {
    auto o = desk::intake(customers[i % 3], "order " + std::to_string(i));
    o.category = categories[i % 4];
    batch.emplace_back(std::move(o));
  }
  auto opened = d.ex->apply_batch(batch);
  REQUIRE(opened.ok());
  for (const auto& r : *opened) REQUIRE(r.ok());
  for (const char* by : {"category", "tier"}) {
    auto k = engine::compute_kpis(*d.store, d.policy, {t0, t0 + day, by});
    REQUIRE(k.ok());
    CHECK((*k)["overall"]["opened"] == n);
    std::map<std::string, int> got, want;
    for (const auto& g : (*k)["groups"]) got[g["key"].get<std::string>()] = g["opened"].get<int>();
    for (int i = 0; i < n; ++i) ++want[std::string(by) == "tier" ? (i % 3 == 2 ? "gold" : "standard") : categories[i % 4]];
    CHECK(got == want);
  }
}
