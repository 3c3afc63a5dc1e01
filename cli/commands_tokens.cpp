// Commands for the HTTP API's bearer tokens: token create, list, revoke.
// A token's secret is printed once, by create; nothing prints a hash or salt.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/time.h"
#include "engine/tokens.h"

namespace plaint::cli {

using engine::errc;
using engine::format_iso;
using engine::make_error;
using engine::Status;

namespace {

engine::json token_json(const engine::api_token& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", t.role},
          {"created_at", format_iso(t.created_at)},
          {"revoked_at", t.revoked_at ? engine::json(format_iso(*t.revoked_at)) : engine::json()}};
}

Status cmd_token_create(app& a, const std::string& name, const std::string& role) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto issued = engine::issue_token(name, role, *now);
  PLAINT_TRY(issued);
  auto s = a.store();
  PLAINT_TRY(s);
  {
    auto tx = (*s)->begin();
    PLAINT_TRY(tx);
    // A token named after a person is theirs; a disabled person gets none.
    auto owner = (*tx)->find_person(name);
    PLAINT_TRY(owner);
    if (*owner && (*owner)->disabled)
      return make_error(errc::not_allowed, fmt::format("person '{}' is disabled; no token is made for them", name));
    PLAINT_TRY((*tx)->put_token(issued->record));
    PLAINT_TRY((*tx)->commit());
  }
  const engine::api_token& t = issued->record;
  if (a.json()) {
    print_json({{"id", t.id},
                {"name", t.name},
                {"role", t.role},
                {"token", issued->text},
                {"created_at", format_iso(t.created_at)}});
  } else {
    std::cout << issued->text << '\n';
    std::cerr << fmt::format("token {} for {} ({}) created; it is shown only this once\n", t.id,
                             printable(t.name), t.role);
  }
  return {};
}

Status cmd_token_list(app& a) {
  auto s = a.store();
  PLAINT_TRY(s);
  auto all = (*s)->list_tokens();
  PLAINT_TRY(all);
  if (a.json()) {
    engine::json arr = engine::json::array();
    for (const auto& t : *all) arr.push_back(token_json(t));
    print_json(arr);
  } else {
    for (const auto& t : *all)
      std::cout << fmt::format("{}  {:<10}  created {}  {:<28}  {}\n", t.id, t.role, format_iso(t.created_at),
                               t.revoked_at ? "revoked " + format_iso(*t.revoked_at) : std::string("live"), printable(t.name));
  }
  return {};
}

Status cmd_token_revoke(app& a, const std::string& name_or_id) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto tx = (*s)->begin();
  PLAINT_TRY(tx);
  auto n = (*tx)->revoke_tokens(name_or_id, *now);
  PLAINT_TRY(n);
  if (*n == 0)
    return make_error(errc::not_found, fmt::format("no live token is named or has id '{}'", name_or_id));
  PLAINT_TRY((*tx)->commit());
  if (a.json())
    print_json({{"revoked", *n}});
  else
    std::cout << fmt::format("revoked {} token{} of '{}'\n", *n, *n == 1 ? "" : "s", printable(name_or_id));
  return {};
}

}  // namespace

void add_token_commands(CLI::App& cli, handler& run) {
  auto* token = cli.add_subcommand("token", "bearer tokens for the HTTP API");
  token->require_subcommand(1);
  {
    auto name = std::make_shared<std::string>();
    auto role = std::make_shared<std::string>();
    auto* sub = token->add_subcommand("create", "make a token; its text is printed once and stored hashed");
    sub->add_option("--name", *name, "who acts with it (the API's actor)")->required();
    sub->add_option("--role", *role, "agent|supervisor|admin")->required();
    sub->callback([name, role, &run] { run = [name, role](app& a) { return cmd_token_create(a, *name, *role); }; });
  }
  token->add_subcommand("list", "every token, revoked ones included; never the secrets")->callback([&run] {
    run = cmd_token_list;
  });
  {
    auto which = std::make_shared<std::string>();
    auto* sub = token->add_subcommand("revoke", "revoke the live tokens with this name or id");
    sub->add_option("name_or_id", *which, "a token's name or id")->required();
    sub->callback([which, &run] { run = [which](app& a) { return cmd_token_revoke(a, *which); }; });
  }
}

}  // namespace plaint::cli
