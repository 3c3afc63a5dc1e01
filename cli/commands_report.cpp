// `plaint report`: the KPIs of SPEC §7 for a period, optionally grouped.
#include <iostream>
#include <memory>
#include <tuple>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/kpi.h"
#include "engine/transfer.h"

namespace plaint::cli {

using engine::errc;
using engine::json;
using engine::make_error;
using engine::Status;

namespace {

engine::Result<engine::timestamp> parse_time(const std::string& option, const std::string& text) {
  auto t = engine::parse_iso(text);
  if (!t)
    return make_error(errc::invalid,
                      fmt::format("{} '{}' is not an ISO 8601 time such as 2026-11-23T08:00:00Z", option, text));
  return *t;
}

}  // namespace

engine::Result<std::pair<engine::timestamp, engine::timestamp>> period_of(app& a, const std::string& from_text,
                                                                          const std::string& to_text) {
  engine::timestamp from = 0, to = 0;
  if (to_text.empty()) {
    auto now = a.now();
    PLAINT_TRY(now);
    to = *now;
  } else {
    auto t = parse_time("--to", to_text);
    PLAINT_TRY(t);
    to = *t;
  }
  if (from_text.empty()) {
    from = to - 30 * 86400;
  } else {
    auto f = parse_time("--from", from_text);
    PLAINT_TRY(f);
    from = *f;
  }
  return std::make_pair(from, to);
}

namespace {

struct report_options {
  std::string from, to, by;
  std::string format = "text";
};

// Rates as percentages, durations as "2h 05m"; "-" where there is no figure.
std::string pct(const json& j) { return j.is_null() ? "-" : fmt::format("{:.1f}%", j.get<double>() * 100); }
std::string dur(const json& j) { return j.is_null() ? "-" : engine::format_duration(j.get<std::int64_t>()); }
std::string num(const json& j, const char* spec = "{:.2f}") {
  return j.is_null() ? "-" : fmt::format(fmt::runtime(spec), j.get<double>());
}

std::string tops(const json& arr) {
  std::string out;
  for (const auto& e : arr)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", printable(e["key"].get<std::string>()), e["count"].get<int>());
  return out.empty() ? "-" : out;
}

void print_overall(const json& f) {
  const auto& age = f["backlog"]["by_age"];
  const auto& csat = f["csat"];
  std::string dist;
  for (const auto& [score, n] : csat["distribution"].items())
    dist += fmt::format("{}{}:{}", dist.empty() ? "" : " ", score, n.get<int>());
  std::cout << fmt::format("{:<16} {}\n", "opened", f["opened"].get<int>())
            << fmt::format("{:<16} {}\n", "closed", f["closed"].get<int>())
            << fmt::format("{:<16} {}\n", "resolved", f["resolved"].get<int>())
            << fmt::format("{:<16} {} (<1d {}, 1-3d {}, 3-7d {}, >7d {})\n", "backlog", f["backlog"]["total"].get<int>(),
                           age["<1d"].get<int>(), age["1-3d"].get<int>(), age["3-7d"].get<int>(), age[">7d"].get<int>())
            << fmt::format("{:<16} p50 {}, p90 {}\n", "first response", dur(f["first_response_seconds"]["p50"]),
                           dur(f["first_response_seconds"]["p90"]))
            << fmt::format("{:<16} p50 {}, p90 {}\n", "resolution", dur(f["resolution_seconds"]["p50"]),
                           dur(f["resolution_seconds"]["p90"]))
            << fmt::format("{:<16} {}\n", "on time", pct(f["on_time_rate"]))
            << fmt::format("{:<16} {}\n", "success", pct(f["success_rate"]))
            << fmt::format("{:<16} {}\n", "reopened", pct(f["reopen_rate"]))
            << fmt::format("{:<16} L2 {}, L3 {}\n", "escalated", pct(f["escalation_rate"]["2"]),
                           pct(f["escalation_rate"]["3"]))
            << fmt::format("{:<16} {} per ticket\n", "hand-offs", num(f["handoffs_mean"]))
            << fmt::format("{:<16} {} from {} scores ({})\n", "csat", num(csat["mean"]), csat["count"].get<int>(),
                           dist)
            << fmt::format("{:<16} {}\n", "follow-up done", pct(f["follow_up_completion"]))
            << fmt::format("{:<16} {}\n", "top categories", tops(f["top_categories"]))
            << fmt::format("{:<16} {}\n", "top root causes", tops(f["top_root_causes"]));
}

void print_groups(const json& report) {
  const std::string row = "{:<20} {:>6} {:>6} {:>8} {:>7} {:>7} {:>7} {:>5} {:>9}\n";
  std::cout << fmt::format("\nby {}\n", report["by"].get<std::string>())
            << fmt::format(fmt::runtime(row), report["by"].get<std::string>(), "opened", "closed", "resolved",
                           "backlog", "on time", "success", "csat", "res p50");
  for (const auto& g : report["groups"])
    std::cout << fmt::format(fmt::runtime(row), clip(g["key"].get<std::string>(), 20), g["opened"].get<int>(),
                             g["closed"].get<int>(), g["resolved"].get<int>(), g["backlog"]["total"].get<int>(),
                             pct(g["on_time_rate"]), pct(g["success_rate"]), num(g["csat"]["mean"], "{:.1f}"),
                             dur(g["resolution_seconds"]["p50"]));
}

void print_at_risk(engine::store& s, const json& risks) {
  std::cout << "\ncustomers at risk\n";
  if (risks.empty()) {
    std::cout << "none\n";
    return;
  }
  const std::string row = "{:<9} {:<30} {:>10} {:>8} {:>8}\n";
  std::cout << fmt::format(fmt::runtime(row), "tier", "customer", "complaints", "low csat", "breaches");
  for (const auto& r : risks) {
    const auto id = r["customer"].get<std::string>();
    auto c = s.get_customer(id);
    const std::string who = c.ok() && !c->name.empty() && c->name != id ? id + " (" + c->name + ")" : id;
    std::cout << fmt::format(fmt::runtime(row), r["tier"].get<std::string>(), clip(who, 30),
                             r["complaints"].get<int>(), r["low_csat"].get<int>(), r["breaches"].get<int>());
  }
}

// The report as CSV for a spreadsheet: a header, the row "all", then one
// row per group. Rates are fractions, times business seconds, empty when
// nothing counts. A key that a spreadsheet would run as a formula (=, +,
// -, @) is led by a quote.
void print_csv(const json& report) {
  static const char* const columns[] = {
      "group",           "opened",          "closed",       "resolved",      "backlog",
      "first_response_p50", "first_response_p90", "resolution_p50", "resolution_p90", "on_time_rate",
      "success_rate",    "reopen_rate",     "escalation_rate_l2", "escalation_rate_l3", "handoffs_mean",
      "csat_mean",       "csat_count",      "follow_up_completion"};
  auto cell = [](const json& j) -> std::string {
    if (j.is_null()) return "";
    if (j.is_number_float()) return fmt::format("{:.4f}", j.get<double>());
    return j.dump();
  };
  auto row = [&](std::string key, const json& f) {
    if (!key.empty() && std::string_view("=+-@").find(key.front()) != std::string_view::npos) key.insert(0, "'");
    std::cout << engine::csv_cell(key) << ',' << cell(f["opened"]) << ',' << cell(f["closed"]) << ','
              << cell(f["resolved"]) << ',' << cell(f["backlog"]["total"]) << ','
              << cell(f["first_response_seconds"]["p50"]) << ',' << cell(f["first_response_seconds"]["p90"]) << ','
              << cell(f["resolution_seconds"]["p50"]) << ',' << cell(f["resolution_seconds"]["p90"]) << ','
              << cell(f["on_time_rate"]) << ',' << cell(f["success_rate"]) << ',' << cell(f["reopen_rate"]) << ','
              << cell(f["escalation_rate"]["2"]) << ',' << cell(f["escalation_rate"]["3"]) << ','
              << cell(f["handoffs_mean"]) << ',' << cell(f["csat"]["mean"]) << ',' << cell(f["csat"]["count"]) << ','
              << cell(f["follow_up_completion"]) << "\r\n";
  };
  std::string header;
  for (const char* c : columns) header += (header.empty() ? "" : ",") + std::string(c);
  std::cout << header << "\r\n";
  row("all", report["overall"]);
  for (const auto& g : report["groups"]) row(g["key"].get<std::string>(), g);
}

Status cmd_report(app& a, const report_options& o) {
  engine::kpi_query q;
  q.by = o.by;
  auto period = period_of(a, o.from, o.to);
  PLAINT_TRY(period);
  std::tie(q.from, q.to) = *period;
  auto ex = a.executor();
  PLAINT_TRY(ex);
  auto s = a.store();
  PLAINT_TRY(s);
  auto report = engine::compute_kpis(**s, (*ex)->policy(), q);
  PLAINT_TRY(report);
  if (a.json()) {
    print_json(*report);
    return {};
  }
  if (o.format == "csv") {
    print_csv(*report);
    return {};
  }
  std::cout << fmt::format("KPIs from {} to {}\n", engine::format_iso(q.from), engine::format_iso(q.to));
  print_overall((*report)["overall"]);
  if (!q.by.empty()) print_groups(*report);
  print_at_risk(**s, (*report)["customers_at_risk"]);
  return {};
}

}  // namespace

void add_report_commands(CLI::App& cli, handler& run) {
  auto o = std::make_shared<report_options>();
  auto* sub = cli.add_subcommand("report", "KPIs for a period: volumes, times, rates, CSAT, customers at risk");
  sub->add_option("--from", o->from, "start of the period, ISO 8601 (default: --to minus 30 days)");
  sub->add_option("--to", o->to, "end of the period, ISO 8601, exclusive (default: now)");
  sub->add_option("--by", o->by, "group by team|owner|category|tier")
      ->check(CLI::IsMember({"team", "owner", "category", "tier"}));
  sub->add_option("--format", o->format, "text|csv (csv: one row for all, then one per group)")
      ->check(CLI::IsMember({"text", "csv"}));
  sub->callback([o, &run] { run = [o](app& a) { return cmd_report(a, *o); }; });
}

}  // namespace plaint::cli
