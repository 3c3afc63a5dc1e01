// Commands of the SLA clocks: policy show/load, tick, escalations.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"

namespace plaint::cli {

using engine::errc;
using engine::make_error;
using engine::Status;

Status load_policy_file(app& a, const std::string& path) {
  auto text = read_text("", path);
  PLAINT_TRY(text);
  auto changed = a.apply_policy(*text, path);
  PLAINT_TRY(changed);
  if (a.json())
    print_json({{"policy", path}, {"tickets_recomputed", *changed}});
  else
    std::cout << fmt::format("policy {} is in force; due times recomputed on {} open tickets\n", printable(path),
                             *changed);
  return {};
}

namespace {

Status cmd_policy_show(app& a) {
  auto ex = a.executor();
  PLAINT_TRY(ex);
  const auto& p = (*ex)->policy();
  if (a.json()) {
    engine::json targets = engine::json::object();
    for (const auto& [key, t] : p.targets)
      targets[key] = {{"first_response", t.first_response}, {"resolution", t.resolution},
                      {"follow_up", t.follow_up}, {"warning_threshold", t.warn_ratio}};
    print_json({{"name", p.source_name},
                {"time_zone", p.calendar.zone_name()},
                {"24x7", p.calendar.is_24x7()},
                {"pause_states", p.pause_states},
                {"reopen_window_days", p.reopen_window_days},
                {"targets", targets},
                {"text", p.source}});
  } else {
    std::cout << fmt::format("# policy in force: {}\n", printable(p.source_name)) << printable(p.source, true);
    if (!p.source.empty() && p.source.back() != '\n') std::cout << '\n';
  }
  return {};
}

engine::json fired_json(const engine::fired_timer& f) {
  engine::json recipients = engine::json::array();
  for (const auto& n : f.notified) recipients.push_back(n.recipient);
  return {{"timer", engine::to_json(f.fired)},
          {"ticket", f.ticket_after.id},
          {"event", f.event.event},
          {"seq", f.event.seq},
          {"level", f.ticket_after.level},
          {"priority", f.ticket_after.priority},
          {"notified", recipients},
          {"summary", f.summary}};
}

Status cmd_tick(app& a, std::optional<std::int64_t> idempotency_retention) {
  auto ex = a.executor();
  PLAINT_TRY(ex);
  // Keys are pruned only when asked: the retention is `plaint serve`'s
  // option, and a tick run beside a server must not cut it short.
  std::int64_t pruned = 0;
  if (idempotency_retention) {
    (*ex)->set_idempotency_retention(*idempotency_retention);
    for (;;) {
      auto n = (*ex)->prune_idempotency();
      PLAINT_TRY(n);
      pruned += *n;
      if (*n < 1000) break;
    }
  }
  // Bounded rounds keep memory flat however long the backlog is; text
  // output streams out round by round.
  constexpr std::size_t round = 1024;
  engine::json all = engine::json::array();
  std::size_t count = 0;
  for (;;) {
    auto part = (*ex)->fire_due(a.clock().now(), 256, round);
    PLAINT_TRY(part);
    for (const auto& f : *part) {
      ++count;
      if (a.json())
        all.push_back(fired_json(f));
      else
        std::cout << printable(f.summary) << '\n';
    }
    if (part->size() < round) break;
  }
  if (a.json())
    print_json(all);
  else if (count == 0)
    std::cout << "no timer was due\n";
  if (!a.json() && pruned > 0) std::cout << fmt::format("pruned {} expired idempotency keys\n", pruned);
  return {};
}

Status cmd_escalations(app& a, int limit) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto board = (*s)->attention_board(*now, limit);
  PLAINT_TRY(board);
  if (a.json()) {
    engine::json arr = engine::json::array();
    for (const auto& t : *board) {
      auto [reason, overdue] = engine::explain_board(t, *now);
      engine::json j = engine::to_json(t, *now);
      j["reason"] = reason;
      j["overdue_seconds"] = overdue;
      arr.push_back(std::move(j));
    }
    print_json(arr);
    return {};
  }
  if (board->empty()) {
    std::cout << "nothing escalated, breached or at risk\n";
    return {};
  }
  std::cout << fmt::format("{:>6}  {:<3} {:<3} {:<18} {:<14} {:<24} {:<10} {}\n", "id", "lvl", "pri", "state", "owner",
                           "why", "overdue", "subject");
  for (const auto& t : *board) {
    auto [reason, overdue] = engine::explain_board(t, *now);
    std::cout << fmt::format("{:>6}  {:<3} {:<3} {:<18} {:<14} {:<24} {:<10} {}\n", t.id, t.level, t.priority,
                             printable(t.state),
                             clip(t.owner.empty() ? "-" : t.owner, 14), printable(reason),
                             overdue > 0 ? engine::format_duration(overdue)
                                         : (overdue < 0 ? "in " + engine::format_duration(-overdue) : "-"),
                             clip(t.subject, 50));
  }
  return {};
}

}  // namespace

void add_sla_commands(CLI::App& cli, handler& run) {
  auto* policy = cli.add_subcommand("policy", "the SLA policy: targets, calendar, escalation ladder");
  policy->require_subcommand(1);
  policy->add_subcommand("show", "print the policy in force")->callback([&run] { run = cmd_policy_show; });
  add_explain_commands(cli, *policy, run);
  {
    auto path = std::make_shared<std::string>();
    auto* sub = policy->add_subcommand("load", "put a TOML policy in force and recompute open tickets");
    sub->add_option("file", *path, "policy file (TOML)")->required();
    sub->callback([path, &run] { run = [path](app& a) { return load_policy_file(a, *path); }; });
  }
  {
    auto retention = std::make_shared<std::optional<std::int64_t>>();
    auto* sub = cli.add_subcommand("tick", "fire every timer due at --now (default: the real clock); prints what fired");
    sub->add_option("--idempotency-retention", *retention,
                    "also delete idempotency keys older than this many seconds (default: keep them)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{10} * 366 * 86400));
    sub->callback([retention, &run] { run = [retention](app& a) { return cmd_tick(a, *retention); }; });
  }
  {
    auto limit = std::make_shared<int>(100);
    auto* sub = cli.add_subcommand("escalations", "the supervisor board: escalated, breached, at-risk; oldest first");
    sub->add_option("--limit", *limit, "at most this many (default 100)")->check(CLI::Range(1, 1000));
    sub->callback([limit, &run] { run = [limit](app& a) { return cmd_escalations(a, *limit); }; });
  }
}

}  // namespace plaint::cli
