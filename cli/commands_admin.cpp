// Commands that set up and inspect the desk: init, customer, workflow,
// audit, export, import, migrate.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/audit.h"
#include "engine/migrate.h"
#include "engine/transfer.h"
#include "storage/open_store.h"
#include "workflows/registry.h"

namespace plaint::cli {

using engine::errc;
using engine::make_error;
using engine::Status;

namespace {

Status cmd_init(app& a, const std::string& policy_file) {
  auto s = a.store(true);
  PLAINT_TRY(s);
  PLAINT_TRY((*s)->migrate());
  if (!policy_file.empty()) {
    auto text = read_text("", policy_file);
    PLAINT_TRY(text);
    PLAINT_TRY(a.apply_policy(*text, policy_file));
  }
  auto ex = a.executor();
  PLAINT_TRY(ex);
  const std::string& policy = (*ex)->policy().source_name;
  if (a.json())
    print_json({{"database", (*s)->describe()}, {"policy", policy}, {"ok", true}});
  else
    std::cout << "database ready: " << printable((*s)->describe()) << "; policy " << printable(policy) << '\n';
  return {};
}

// Options not given keep what the customer has; --email "" clears it. The
// command line may set any tier: whoever runs it holds the database file.
Status cmd_customer_add(app& a, engine::customer_update u) {
  u.actor = a.opts().actor;
  u.may_set_tier = true;
  auto ex = a.executor();
  PLAINT_TRY(ex);
  auto r = (*ex)->put_customer(u);
  PLAINT_TRY(r);
  const engine::customer& c = r->saved;
  if (a.json())
    print_json(engine::to_json(c));
  else
    std::cout << fmt::format("customer {} {} ({}, {})\n", printable(c.id),
                             r->created ? "added" : r->change ? "saved" : "unchanged", printable(c.name), c.tier);
  return {};
}

// "tier: platinum → gold; email: a@x → (none)" for a human.
std::string change_summary(const engine::json& changes) {
  std::string out;
  auto value = [](const engine::json& v) -> std::string {
    if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) return "(none)";
    return v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, engine::json::error_handler_t::replace);
  };
  for (const auto& [field, c] : changes.items()) {
    if (!out.empty()) out += "; ";
    out += field + ": " + (c.value("from", engine::json()).is_null() ? value(c.value("to", engine::json()))
                                                                       : value(c["from"]) + " → " + value(c["to"]));
  }
  return out;
}

// `customer show` lists the customer's newest changes.
constexpr int customer_changes_shown = 20;

Status cmd_customer_show(app& a, const std::string& id) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto c = (*s)->get_customer(id);
  PLAINT_TRY(c);
  engine::ticket_query q;
  q.customer = id;
  q.limit = 1000;
  q.now = *now;
  auto page = (*s)->list_tickets(q);
  PLAINT_TRY(page);
  auto changes = (*s)->customer_history(id, customer_changes_shown);
  PLAINT_TRY(changes);
  if (a.json()) {
    engine::json j = engine::to_json(*c);
    j["tickets"] = engine::json::array();
    for (const auto& t : page->tickets) j["tickets"].push_back(engine::to_json(t, *now));
    j["changes"] = engine::json::array();
    for (const auto& ch : *changes)
      j["changes"].push_back({{"seq", ch.seq}, {"at", engine::format_iso(ch.at)}, {"actor", ch.actor},
                              {"changes", ch.changes}});
    print_json(j);
  } else {
    std::cout << fmt::format("{}  {}  ({})  {}  {}\n", printable(c->id), printable(c->name), c->tier,
                             printable(c->email), printable(c->phone));
    std::cout << ticket_table(page->tickets, *now);
    std::cout << "changes\n";
    for (const auto& ch : *changes)
      std::cout << fmt::format("  {:>4}  {}  {}  {}\n", ch.seq, engine::format_iso(ch.at), clip(ch.actor, 12),
                               clip(change_summary(ch.changes), 120));
  }
  return {};
}

Status cmd_customer_list(app& a) {
  auto s = a.store();
  PLAINT_TRY(s);
  auto all = (*s)->list_customers();
  PLAINT_TRY(all);
  if (a.json()) {
    engine::json arr = engine::json::array();
    for (const auto& c : *all) arr.push_back(engine::to_json(c));
    print_json(arr);
  } else {
    for (const auto& c : *all)
      std::cout << fmt::format("{:<20} {:<9} {}\n", printable(c.id), c.tier, printable(c.name));
  }
  return {};
}

Status cmd_workflow_show(app& a, const std::string& name, const std::string& format) {
  const auto& registry = workflows::builtin_workflows();
  const engine::workflow* w = registry.find(name);
  if (!w)
    return make_error(errc::not_found, fmt::format("workflow '{}' does not exist; there are: {}", name,
                                                   engine::join(registry.names())));
  if (a.json()) {
    engine::json rows = engine::json::array();
    for (const auto& r : w->table())
      rows.push_back({{"from", r.from}, {"event", r.event}, {"to", r.to}, {"guard", r.guard},
                      {"action", r.action}, {"fields", r.fields}});
    print_json({{"workflow", w->name()}, {"initial", w->initial_state()}, {"states", w->states()}, {"transitions", rows}});
  } else {
    std::cout << engine::render_table(*w, format);
  }
  return {};
}

Status cmd_audit_verify(app& a, const std::string& anchor_text) {
  std::optional<engine::chain_head> anchor;
  if (!anchor_text.empty()) {
    auto parsed = engine::parse_anchor(anchor_text);
    PLAINT_TRY(parsed);
    anchor = *parsed;
  }
  auto s = a.store();
  PLAINT_TRY(s);
  auto report = engine::verify_audit(**s);
  PLAINT_TRY(report);
  if (!report->ok)
    return make_error(errc::internal, fmt::format("the audit chain is broken: {}", report->message));
  if (anchor) PLAINT_TRY(engine::check_anchor(**s, *anchor));
  if (a.json()) {
    engine::json out{{"ok", true}, {"events", report->events}, {"tickets", report->tickets}};
    if (anchor) out["anchor"] = engine::format_anchor(*anchor);
    print_json(out);
  } else {
    std::cout << printable(report->message) << '\n';
    if (anchor)
      std::cout << fmt::format("the history up to event {} is the one anchored as {}\n", anchor->seq,
                               engine::format_anchor(*anchor));
  }
  return {};
}

Status cmd_audit_anchor(app& a) {
  auto s = a.store();
  PLAINT_TRY(s);
  auto head = engine::audit_head(**s);
  PLAINT_TRY(head);
  if (a.json())
    print_json({{"seq", head->seq},
                {"hash", head->hash},
                {"at", head->seq == 0 ? engine::json(nullptr) : engine::json(engine::format_iso(head->at))},
                {"anchor", engine::format_anchor(*head)}});
  else
    std::cout << engine::format_anchor(*head) << '\n';
  return {};
}

Status cmd_export(app& a, const std::string& format, const std::string& output) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  std::ofstream file;
  if (!output.empty()) {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) return make_error(errc::invalid, fmt::format("file '{}' cannot be written", output));
  }
  std::ostream& out = output.empty() ? std::cout : file;
  auto n = format == "csv" ? engine::export_csv(**s, out, *now) : engine::export_jsonl(**s, out);
  PLAINT_TRY(n);
  if (!output.empty())
    std::cerr << fmt::format("exported {} customers, {} tickets, {} events, {} timers to {}\n", n->customers,
                             n->tickets, n->events, n->timers, printable(output));
  return {};
}

Status cmd_import(app& a, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::invalid, fmt::format("file '{}' cannot be read", path));
  auto s = a.store(true);  // into a new database as well as an initialised one
  PLAINT_TRY(s);
  PLAINT_TRY((*s)->migrate());
  auto n = engine::import_jsonl(**s, workflows::builtin_workflows(), in);
  PLAINT_TRY(n);
  PLAINT_TRY((*s)->migrate());  // takes every imported text into the search file
  if (a.json())
    print_json({{"customers", n->customers}, {"tickets", n->tickets}, {"events", n->events}, {"timers", n->timers}});
  else
    std::cout << fmt::format("imported {} customers, {} tickets, {} events, {} timers\n", n->customers, n->tickets,
                             n->events, n->timers);
  return {};
}

// `plaint migrate --from SRC --to DEST`: the whole desk into a new database.
Status cmd_migrate(app& a, const std::string& from, const std::string& to) {
  if (from == to) return make_error(errc::invalid, "--from and --to name the same database");
  PLAINT_TRY(storage::require_existing(from));
  auto source = storage::open_store(from, a.busy_timeout());
  PLAINT_TRY(source);
  // A source that is not a desk (a mistyped path, say) is refused before
  // the destination is touched.
  PLAINT_TRY((*source)->last_event_seq());
  auto dest = storage::open_store(to, a.busy_timeout());
  PLAINT_TRY(dest);
  PLAINT_TRY((*dest)->migrate());
  const bool bar = ::isatty(2) != 0;
  const auto started = std::chrono::steady_clock::now();
  auto n = engine::migrate_database(**source, **dest, workflows::builtin_workflows(),
                                    [bar, started](std::int64_t done, std::int64_t total) {
    if (!bar || total <= 0) return;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const int width = 30, filled = static_cast<int>(width * done / total);
    std::cerr << fmt::format("\rmigrating [{}{}] {:3}%  {}/{} records  {:.0f}/s ", std::string(filled, '#'),
                             std::string(width - filled, ' '), 100 * done / total, done, total,
                             seconds > 0 ? done / seconds : 0.0)
              << std::flush;
  });
  if (bar) std::cerr << '\n';
  PLAINT_TRY(n);
  PLAINT_TRY((*dest)->migrate());  // a SQLite destination takes every text into its search file
  // The result is checked as `plaint audit verify` checks it.
  auto verified = engine::verify_audit(**dest);
  PLAINT_TRY(verified);
  if (!verified->ok)
    return make_error(errc::internal, fmt::format("the moved database fails audit verify: {}", verified->message));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& r = n->records;
  if (a.json()) {
    print_json({{"customers", r.customers}, {"tickets", r.tickets}, {"events", r.events}, {"timers", r.timers},
                {"customer_changes", r.customer_changes}, {"people", n->people}, {"tokens", n->tokens},
                {"webhooks", n->webhooks}, {"notifications", n->notifications}, {"attachments", n->attachments},
                {"deliveries", n->deliveries}, {"seconds", seconds}, {"audit_ok", true}});
    return {};
  }
  std::cout << fmt::format(
      "migrated {} customers, {} tickets, {} events, {} timers, {} customer changes, {} people, {} tokens, "
      "{} webhooks, {} notifications, {} attachments, {} pending deliveries from {} to {} in {:.1f} s; "
      "audit chain intact\n",
      r.customers, r.tickets, r.events, r.timers, r.customer_changes, n->people, n->tokens, n->webhooks,
      n->notifications, n->attachments, n->deliveries, storage::printable_location(from),
      storage::printable_location(to), seconds);
  return {};
}

}  // namespace

void add_admin_commands(CLI::App& cli, handler& run) {
  {
    auto policy = std::make_shared<std::string>();
    auto* sub = cli.add_subcommand("init", "create or migrate the database; idempotent");
    sub->add_option("--policy", *policy, "put this TOML SLA policy in force");
    sub->callback([policy, &run] { run = [policy](app& a) { return cmd_init(a, *policy); }; });
  }

  auto* customer = cli.add_subcommand("customer", "customers and their value tiers");
  customer->require_subcommand(1);
  {
    auto c = std::make_shared<engine::customer_update>();
    auto* sub = customer->add_subcommand("add", "add a customer, or change the given fields of one (the rest are kept)");
    sub->add_option("--id", c->id, "external customer key")->required();
    sub->add_option("--name", c->name, "name (required to add a customer)");
    sub->add_option("--tier", c->tier, "standard|gold|platinum (new customers: standard)");
    sub->add_option("--email", c->email, "e-mail address (\"\" clears it)");
    sub->add_option("--phone", c->phone, "phone number (\"\" clears it)");
    sub->callback([c, &run] { run = [c](app& a) { return cmd_customer_add(a, *c); }; });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* sub = customer->add_subcommand("show", "a customer and their tickets");
    sub->add_option("id", *id, "customer id")->required();
    sub->callback([id, &run] { run = [id](app& a) { return cmd_customer_show(a, *id); }; });
  }
  customer->add_subcommand("list", "every customer")->callback([&run] { run = cmd_customer_list; });

  auto* workflow = cli.add_subcommand("workflow", "the workflows' transition tables");
  workflow->require_subcommand(1);
  {
    auto name = std::make_shared<std::string>("complaint");
    auto format = std::make_shared<std::string>("text");
    auto* sub = workflow->add_subcommand("show", "print a transition table from the machine itself");
    sub->add_option("name", *name, "complaint|service_request (default complaint)");
    sub->add_option("--format", *format, "text|mermaid|dot")->check(CLI::IsMember({"text", "mermaid", "dot"}));
    sub->callback([name, format, &run] {
      run = [name, format](app& a) { return cmd_workflow_show(a, *name, *format); };
    });
  }

  auto* audit = cli.add_subcommand("audit", "the hash-chained audit log");
  audit->require_subcommand(1);
  {
    auto anchor = std::make_shared<std::string>();
    auto* verify = audit->add_subcommand("verify", "check the chain; non-zero exit on any break");
    verify->add_option("--anchor", *anchor,
                       "SEQ:HASH from plaint audit anchor: also prove the database holds exactly that history");
    verify->callback([anchor, &run] { run = [anchor](app& a) { return cmd_audit_verify(a, *anchor); }; });
  }
  audit->add_subcommand("anchor", "print the chain head as SEQ:HASH, to publish or sign elsewhere")->callback([&run] {
    run = cmd_audit_anchor;
  });

  {
    auto format = std::make_shared<std::string>("jsonl");
    auto output = std::make_shared<std::string>();
    auto* sub = cli.add_subcommand("export", "write the database out (jsonl: lossless; csv: tickets)");
    sub->add_option("--format", *format, "jsonl|csv")->check(CLI::IsMember({"jsonl", "csv"}));
    sub->add_option("--output,-o", *output, "file (default stdout)");
    sub->callback([format, output, &run] {
      run = [format, output](app& a) { return cmd_export(a, *format, *output); };
    });
  }
  {
    auto path = std::make_shared<std::string>();
    auto from = std::make_shared<std::string>(), to = std::make_shared<std::string>();
    auto* move = cli.add_subcommand("migrate", "move the whole desk into a new database (SQLite or PostgreSQL)");
    move->add_option("--from", *from, "the database to read: a SQLite file or a postgresql:// URL")->required();
    move->add_option("--to", *to, "the new, empty database to fill")->required();
    move->callback([from, to, &run] { run = [from, to](app& a) { return cmd_migrate(a, *from, *to); }; });
  }
  {
    auto path = std::make_shared<std::string>();
    auto* sub = cli.add_subcommand("import", "load a jsonl export into a new database");
    sub->add_option("file", *path, "jsonl file from plaint export")->required();
    sub->callback([path, &run] { run = [path](app& a) { return cmd_import(a, *path); }; });
  }
}

}  // namespace plaint::cli
