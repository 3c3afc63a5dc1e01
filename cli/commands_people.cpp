// The directory of people: user add, list, disable, password. A person
// signs in to the web desk and owns tickets; once anyone is in the
// directory, owners must be people in it (engine/people.h).
#include <termios.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/people.h"
#include "engine/time.h"

namespace plaint::cli {

using engine::errc;
using engine::make_error;
using engine::Status;

namespace {

struct person_options {
  std::string id, name, email, role, team, lang;
};

Status cmd_user_add(app& a, const person_options& o) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto tx = (*s)->begin();
  PLAINT_TRY(tx);
  auto found = (*tx)->find_person(o.id);
  PLAINT_TRY(found);
  // Adding an id that exists updates it: name, e-mail, role and team as
  // given; the password and whether it is disabled are kept.
  engine::person p = found->value_or(engine::person{});
  const bool created = !*found;
  p.id = o.id;
  p.name = o.name;
  p.email = o.email;
  p.role = o.role;
  p.team = o.team;
  p.lang = o.lang;
  if (created) p.created_at = *now;
  p.updated_at = *now;
  PLAINT_TRY(engine::check_person(p));
  PLAINT_TRY((*tx)->put_person(p));
  PLAINT_TRY((*tx)->commit());
  if (a.json())
    print_json(engine::to_json(p));
  else
    std::cout << fmt::format("{} {} ({}, {}{})\n", created ? "added" : "updated", p.id, printable(p.name), p.role,
                             p.team.empty() ? "" : ", " + p.team);
  return {};
}

Status cmd_user_list(app& a) {
  auto s = a.store();
  PLAINT_TRY(s);
  auto all = (*s)->list_people();
  PLAINT_TRY(all);
  if (a.json()) {
    engine::json arr = engine::json::array();
    for (const auto& p : *all) arr.push_back(engine::to_json(p));
    print_json(arr);
    return {};
  }
  for (const auto& p : *all)
    std::cout << fmt::format("{:<20} {:<10} {:<3} {:<9} {:<8} {}  {}\n", printable(p.id), p.role,
                             p.team.empty() ? "-" : p.team, p.disabled ? "disabled" : "active",
                             p.password_hash.empty() ? "no-pass" : "password", printable(p.name), printable(p.email));
  return {};
}

// Runs `change` on the stored person `id` inside one write transaction and
// saves them; `not_found` when there is no such person.
Status change_person(app& a, const std::string& id, const std::function<Status(engine::store_transaction&, engine::person&, engine::timestamp)>& change) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto tx = (*s)->begin();
  PLAINT_TRY(tx);
  auto found = (*tx)->find_person(id);
  PLAINT_TRY(found);
  if (!*found) return make_error(errc::not_found, fmt::format("person '{}' does not exist", id));
  PLAINT_TRY(change(**tx, **found, *now));
  return (*tx)->commit();
}

Status cmd_user_disable(app& a, const std::string& id) {
  int ended = 0;
  PLAINT_TRY(change_person(a, id, [&](engine::store_transaction& tx, engine::person& p, engine::timestamp now) -> Status {
    auto n = engine::disable_person(tx, p, now);
    PLAINT_TRY(n);
    ended = *n;
    return {};
  }));
  if (a.json())
    print_json({{"disabled", id}, {"sessions_ended", ended}});
  else
    std::cout << fmt::format("disabled {}; {} session{} ended, tokens named {} revoked\n", printable(id), ended,
                             ended == 1 ? "" : "s", printable(id));
  return {};
}

// One line from the terminal with echo off, or from stdin when it is not a
// terminal (scripts: `printf '%s\n' "$pw" | plaint user password li.na`).
engine::Result<std::string> read_password(const std::string& prompt) {
  std::string line;
  if (::isatty(STDIN_FILENO)) {
    termios old{};
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    std::cerr << prompt << std::flush;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    std::getline(std::cin, line);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << '\n';
  } else {
    std::getline(std::cin, line);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return make_error(errc::invalid, "no password was given");
  return line;
}

Status cmd_user_password(app& a, const std::string& id) {
  {
    auto st = a.store();
    PLAINT_TRY(st);
    auto known = (*st)->find_person(id);
    PLAINT_TRY(known);
    if (!*known) return make_error(errc::not_found, fmt::format("person '{}' does not exist", id));
  }
  auto password = read_password(fmt::format("password for {}: ", id));
  PLAINT_TRY(password);
  if (::isatty(STDIN_FILENO)) {
    auto again = read_password("again: ");
    PLAINT_TRY(again);
    if (*again != *password) return make_error(errc::invalid, "the two passwords differ; nothing was changed");
  }
  // Hashed before the write lock is taken: Argon2id takes tens of milliseconds.
  auto hash = engine::hash_password(*password);
  PLAINT_TRY(hash);
  int ended = 0;
  PLAINT_TRY(change_person(a, id, [&](engine::store_transaction& tx, engine::person& p, engine::timestamp now) -> Status {
    p.password_hash = std::move(*hash);
    p.updated_at = now;
    PLAINT_TRY(tx.put_person(p));
    // A new password ends the sessions signed in with the old one.
    auto n = tx.delete_sessions_of(id);
    PLAINT_TRY(n);
    ended = *n;
    return {};
  }));
  if (a.json())
    print_json({{"password_set", id}, {"sessions_ended", ended}});
  else
    std::cout << fmt::format("password set for {}\n", printable(id));
  return {};
}

}  // namespace

void add_people_commands(CLI::App& cli, handler& run) {
  auto* user = cli.add_subcommand("user", "the directory of people who sign in and own tickets");
  user->require_subcommand(1);
  {
    auto o = std::make_shared<person_options>();
    auto* sub = user->add_subcommand("add", "add a person, or update one with this id");
    sub->add_option("--id", o->id, "the sign-in name, also the owner and actor name")->required();
    sub->add_option("--name", o->name, "the name shown")->required();
    sub->add_option("--email", o->email, "e-mail address");
    sub->add_option("--role", o->role, "agent|supervisor|admin")->required();
    sub->add_option("--team", o->team, "L1|L2|L3");
    sub->add_option("--lang", o->lang, "en|zh: the language of the mail plaint sends them (default en)");
    sub->callback([o, &run] { run = [o](app& a) { return cmd_user_add(a, *o); }; });
  }
  user->add_subcommand("list", "every person; never a password hash")->callback([&run] { run = cmd_user_list; });
  {
    auto id = std::make_shared<std::string>();
    auto* sub = user->add_subcommand("disable", "stop a person: sessions ended, tokens and ownership refused");
    sub->add_option("id", *id, "the person's id")->required();
    sub->callback([id, &run] { run = [id](app& a) { return cmd_user_disable(a, *id); }; });
  }
  {
    auto id = std::make_shared<std::string>();
    auto* sub = user->add_subcommand("password", "set a password (from the terminal, or one line on stdin)");
    sub->add_option("id", *id, "the person's id")->required();
    sub->callback([id, &run] { run = [id](app& a) { return cmd_user_password(a, *id); }; });
  }
}

}  // namespace plaint::cli
