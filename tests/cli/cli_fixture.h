// A database file in a temp directory and a `plaint` runner bound to it.
#pragma once

#include <doctest/doctest.h>

#include "tests/cli/run.h"
#include "tests/temp_dir.h"

namespace plaint::testing {

struct cli_desk {
  temp_dir dir;
  std::string db = dir.file("plaint.db");
  std::string now = "2026-11-23T08:00:00Z";
  std::string actor = "ann";

  cli_desk() {
    REQUIRE(plaint({"init"}).code == 0);
    REQUIRE(plaint({"customer", "add", "--id", "acme", "--name", "ACME Ltd", "--tier", "gold"}).code == 0);
    REQUIRE(plaint({"customer", "add", "--id", "wang", "--name", "王芳", "--tier", "platinum"}).code == 0);
  }

  run_result plaint(std::vector<std::string> args, const std::string& input = "") const {
    std::vector<std::string> full{"--db", db, "--now", now, "--actor", actor};
    full.insert(full.end(), args.begin(), args.end());
    return run_plaint(full, input);
  }

  // Opens a complaint and returns its id.
  std::string open(const std::string& subject = "late delivery", const std::string& customer = "acme",
                   std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"open", "--customer", customer, "--subject", subject};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = plaint(args);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    std::string id = r.out;
    while (!id.empty() && (id.back() == '\n')) id.pop_back();
    return id;
  }

  void fire_ok(const std::string& id, std::vector<std::string> args) const {
    std::vector<std::string> full{"event", id};
    full.insert(full.end(), args.begin(), args.end());
    auto r = plaint(full);
    REQUIRE_MESSAGE(r.code == 0, r.err);
  }

  nlohmann::json show(const std::string& id) const {
    auto r = plaint({"--json", "show", id});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return r.json();
  }
};

}  // namespace plaint::testing
