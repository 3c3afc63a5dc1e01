// Embedding plaint: a program that keeps its own complaint desk in a SQLite
// file, without the command line or the server. Built against the installed
// CMake package (examples/embed/CMakeLists.txt: find_package(plaint)).
//
// The API it uses, all of it in the installed headers:
//   storage::sqlite_store::open(path) / ->migrate()   open (and create) a desk
//   engine::executor(store, workflows::builtin_workflows(), clock)
//     .put_customer(...), .open(request), .apply(event_request)
//                                        every change, committed on return
//   store.get_ticket(id), store.list_tickets(query)    read tickets back
//   engine::verify_audit(store)                        check the hash chain
//
//   plaint_embed [DB]    (default ./embed-demo.db)
#include <iostream>

#include "engine/audit.h"
#include "engine/executor.h"
#include "storage/sqlite_store.h"
#include "workflows/registry.h"

using namespace plaint;

static void check(const engine::Status& s) {
  if (!s) {
    std::cerr << "embed: " << s.error().message << '\n';
    std::exit(static_cast<int>(s.error().code));
  }
}

int main(int argc, char** argv) {
  auto store = storage::sqlite_store::open(argc > 1 ? argv[1] : "embed-demo.db");
  if (!store) check(store.error());
  check((*store)->migrate());

  engine::system_clock clock;
  engine::executor desk(**store, workflows::builtin_workflows(), clock);

  engine::customer c;
  c.id = "cust-embed";
  c.name = "王小明";
  c.tier = "gold";
  auto saved = desk.put_customer(engine::customer_update::whole(c, "embed"));
  if (!saved) check(saved.error());

  engine::open_request req;
  req.customer = c.id;
  req.subject = "洗衣机漏水 — washing machine leaks";
  req.category = "product_quality";
  req.priority = "P2";
  req.actor = "embed";
  auto opened = desk.open(req);
  if (!opened) check(opened.error());
  const auto id = opened->ticket_after.id;

  auto fire = [&](const char* event, engine::field_map fields, const char* note = "") {
    engine::event_request r;
    r.ticket = id;
    r.event = event;
    r.fields = std::move(fields);
    r.note = note;
    r.actor = "embed";
    auto done = desk.apply(r);
    if (!done) check(done.error());
    std::cout << "#" << id << " " << event << " -> " << done->ticket_after.state << " (version "
              << done->ticket_after.version << ")\n";
  };
  fire("triage", {{"owner", "li.na"}});
  fire("start", {});
  fire("resolve", {{"resolution_code", "replaced_part"}}, "更换了进水阀 / replaced the inlet valve");
  fire("follow_up_done", {{"csat", "5"}});

  // Read back: the ticket, and the desk's queue of closed tickets.
  auto t = (*store)->get_ticket(id);
  if (!t) check(t.error());
  std::cout << "#" << t->id << " " << t->state << ", csat " << t->csat.value_or(0) << ", owner " << t->owner << '\n';
  engine::ticket_query closed;
  closed.state = "closed";
  auto page = (*store)->list_tickets(closed);
  if (!page) check(page.error());
  std::cout << page->tickets.size() << " closed ticket(s) on the desk\n";

  auto report = engine::verify_audit(**store);
  if (!report) check(report.error());
  std::cout << report->message << '\n';
  return report->ok ? 0 : 1;
}
