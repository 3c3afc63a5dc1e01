// Commands that log and work tickets: open, event, show, list.
#include <algorithm>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/channels.h"

namespace plaint::cli {

using engine::errc;
using engine::make_error;
using engine::Status;

namespace {

struct open_args {
  engine::open_request req;
  std::string description_file;
};

struct event_args {
  engine::ticket_id id = 0;
  std::string event;
  std::string note;
  std::string note_file;
  std::vector<std::string> sets;
  std::optional<std::int64_t> expect_version;
  std::string idempotency_key;
};

struct list_args {
  engine::ticket_query q;
  std::string state, owner, customer;
  std::optional<int> level;
  std::optional<engine::ticket_id> cursor;
};

Status cmd_open(app& a, open_args& o) {
  auto text = read_text(o.req.description, o.description_file);
  PLAINT_TRY(text);
  o.req.description = std::move(*text);
  o.req.actor = a.opts().actor;
  auto ex = a.executor();
  PLAINT_TRY(ex);
  auto r = (*ex)->open(o.req);
  PLAINT_TRY(r);
  if (a.json())
    print_json(engine::to_json(r->ticket_after, a.clock().now()));
  else
    std::cout << r->ticket_after.id << '\n';
  return {};
}

Status cmd_event(app& a, event_args& o) {
  engine::event_request req;
  req.ticket = o.id;
  req.event = o.event;
  auto note = read_text(o.note, o.note_file);
  PLAINT_TRY(note);
  req.note = std::move(*note);
  for (const auto& kv : o.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(errc::invalid, fmt::format("--set '{}' is not of the form key=value", kv));
    req.fields[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  req.expected_version = o.expect_version;
  req.idempotency_key = o.idempotency_key;
  req.actor = a.opts().actor;
  auto ex = a.executor();
  PLAINT_TRY(ex);
  auto r = (*ex)->apply(req);
  PLAINT_TRY(r);
  if (a.json())
    print_json(engine::to_json(r->ticket_after, a.clock().now()));
  else
    std::cout << r->ticket_after.state << '\n';
  return {};
}

engine::json history_json(const std::vector<engine::event_record>& events) {
  engine::json h = engine::json::array();
  for (const auto& e : events) {
    engine::json j = engine::to_json(e);
    j.erase("prev_hash");
    j.erase("hash");
    j.erase("ticket");
    h.push_back(std::move(j));
  }
  return h;
}

// `show` prints the newest history_shown events unless --all; --json keeps
// every event (SPEC §5's history[]).
constexpr int history_shown = 50;

struct show_args {
  engine::ticket_id id = 0;
  bool all = false;
};

Status cmd_show(app& a, const show_args& o) {
  const engine::ticket_id id = o.id;
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto t = (*s)->get_ticket(id);
  PLAINT_TRY(t);
  auto files = (*s)->ticket_attachments(id);
  PLAINT_TRY(files);
  // Attachments (mail in): listed, never shown inline.
  auto print_files = [&files] {
    if (files->empty()) return;
    std::cout << "attachments\n";
    for (const auto& f : *files)
      std::cout << fmt::format("  #{:<5} {:<40} {:<28} {:>10} bytes\n", f.id, printable(f.name), printable(f.content_type),
                               f.size);
  };
  if (!a.json() && !o.all) {
    auto page = (*s)->ticket_history(id, std::nullopt, history_shown);
    PLAINT_TRY(page);
    const auto shown = static_cast<std::int64_t>(page->events.size());
    const std::int64_t earlier = page->next_cursor ? std::max<std::int64_t>(t->version - shown, 1) : 0;
    std::cout << ticket_page(*t, page->events, earlier, *now);
    print_files();
    return {};
  }
  auto events = (*s)->ticket_events(id);
  PLAINT_TRY(events);
  if (a.json()) {
    engine::json j = engine::to_json(*t, *now);
    j["history"] = history_json(*events);
    auto timers = (*s)->ticket_timers(id);
    PLAINT_TRY(timers);
    j["timers"] = engine::json::array();
    for (const auto& tm : *timers) j["timers"].push_back(engine::to_json(tm));
    auto notes = (*s)->ticket_notifications(id);
    PLAINT_TRY(notes);
    j["notifications"] = engine::json::array();
    for (const auto& n : *notes) j["notifications"].push_back(engine::to_json(n));
    j["attachments"] = engine::json::array();
    for (const auto& f : *files) j["attachments"].push_back(engine::to_json(f));
    print_json(j);
  } else {
    std::cout << ticket_page(*t, *events, 0, *now);
    print_files();
  }
  return {};
}

Status cmd_list(app& a, list_args& o) {
  auto now = a.now();
  PLAINT_TRY(now);
  if (!o.state.empty()) o.q.state = o.state;
  if (!o.owner.empty()) o.q.owner = o.owner;
  if (!o.customer.empty()) o.q.customer = o.customer;
  o.q.level = o.level;
  o.q.cursor = o.cursor;
  o.q.now = *now;
  PLAINT_TRY(engine::check_text("search text", o.q.search, engine::max_subject_bytes));
  auto s = a.store();
  PLAINT_TRY(s);
  auto page = (*s)->list_tickets(o.q);
  PLAINT_TRY(page);
  if (a.json()) {
    engine::json arr = engine::json::array();
    for (const auto& t : page->tickets) arr.push_back(engine::to_json(t, *now));
    print_json(arr);
    if (page->next_cursor) std::cerr << fmt::format("next cursor: {} (more tickets match; use --cursor {})\n",
                                                    *page->next_cursor, *page->next_cursor);
  } else {
    std::cout << ticket_table(page->tickets, *now);
    if (page->next_cursor)
      std::cout << fmt::format("more tickets match: next cursor {} (plaint list --cursor {} ...)\n",
                               *page->next_cursor, *page->next_cursor);
  }
  return {};
}

}  // namespace

void add_ticket_commands(CLI::App& cli, handler& run) {
  {
    auto o = std::make_shared<open_args>();
    auto* sub = cli.add_subcommand("open", "log a complaint; prints the new ticket id");
    sub->add_option("--customer", o->req.customer, "customer id")->required();
    sub->add_option("--subject", o->req.subject, "one-line summary")->required();
    sub->add_option("--description", o->req.description, "the customer's words");
    sub->add_option("--description-file", o->description_file, "read the description from a file (- = stdin)");
    sub->add_option("--channel", o->req.channel, "phone|email|web|chat|in_person|social|proactive");
    sub->add_option("--category", o->req.category,
                    "product_quality|service_attitude|delivery|billing|technical|other");
    sub->add_option("--priority", o->req.priority, "P1|P2|P3|P4");
    sub->add_option("--workflow", o->req.workflow, "complaint|service_request");
    sub->add_option("--idempotency-key", o->req.idempotency_key, "makes a retried intake safe");
    sub->callback([o, &run] { run = [o](app& a) { return cmd_open(a, *o); }; });
  }
  {
    auto o = std::make_shared<event_args>();
    auto* sub = cli.add_subcommand("event", "fire a workflow event; prints the new state");
    sub->add_option("id", o->id, "ticket id")->required();
    sub->add_option("event", o->event, "event name (plaint workflow show)")->required();
    sub->add_option("--note", o->note, "note recorded with the event");
    sub->add_option("--note-file", o->note_file, "read the note from a file (- = stdin)");
    sub->add_option("--set", o->sets, "event field key=value (repeatable)");
    sub->add_option("--expect-version", o->expect_version, "refuse unless the ticket is at this version");
    sub->add_option("--idempotency-key", o->idempotency_key, "makes a retried event safe");
    sub->callback([o, &run] { run = [o](app& a) { return cmd_event(a, *o); }; });
  }
  {
    auto o = std::make_shared<show_args>();
    auto* sub = cli.add_subcommand("show", "a ticket with its SLA clocks and history (the newest 50 events)");
    sub->add_option("id", o->id, "ticket id")->required();
    sub->add_flag("--all", o->all, "every event of the history, not only the newest 50");
    sub->callback([o, &run] { run = [o](app& a) { return cmd_show(a, *o); }; });
  }
  {
    auto o = std::make_shared<list_args>();
    auto* sub = cli.add_subcommand("list", "queue views, newest first");
    sub->add_option("--state", o->state, "only this state");
    sub->add_flag("--open", o->q.open_only, "every state but closed");
    sub->add_option("--owner", o->owner, "only this owner");
    sub->add_option("--customer", o->customer, "only this customer");
    sub->add_option("--level", o->level, "only this escalation level")->check(CLI::Range(1, 3));
    sub->add_flag("--breached", o->q.breached_only, "only tickets with a breached SLA");
    sub->add_option("--search", o->q.search, "full-text search (English, 中文)");
    sub->add_option("--limit", o->q.limit, "at most this many (default 50)")->check(CLI::Range(1, 1000));
    sub->add_option("--cursor", o->cursor, "continue after a previous page");
    sub->callback([o, &run] { run = [o](app& a) { return cmd_list(a, *o); }; });
  }
}

}  // namespace plaint::cli
