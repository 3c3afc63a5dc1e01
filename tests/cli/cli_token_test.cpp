// `plaint token create|list|revoke` as a user runs them: the secret is shown
// once, listings never show secrets, hashes or salts.
#include <doctest/doctest.h>

#include <map>
#include <regex>

#include "tests/cli/cli_fixture.h"

using plaint::testing::cli_desk;

namespace {

const std::regex token_shape("plt_([0-9a-f]{16})_([0-9a-f]{64})");

// Creates a token and returns its text.
std::string create(const cli_desk& d, const std::string& name, const std::string& role) {
  auto r = d.plaint({"token", "create", "--name", name, "--role", role});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  std::string text = r.out;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string list_json(const cli_desk& d) {
  auto r = d.plaint({"--json", "token", "list"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return r.out;
}

// Each token's revoked_at by id, from `token list --json`.
std::map<std::string, nlohmann::json> revoked_at(const cli_desk& d) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& t : nlohmann::json::parse(list_json(d))) out[t["id"]] = t["revoked_at"];
  return out;
}

std::string id_of(const std::string& token) { return token.substr(4, 16); }

}  // namespace

TEST_CASE("token create prints the token once, alone on stdout") {
  cli_desk d;
  auto r = d.plaint({"token", "create", "--name", "ann", "--role", "supervisor"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  REQUIRE(r.out.size() == 86);
  CHECK(r.out.back() == '\n');
  std::smatch m;
  const std::string text = r.out.substr(0, 85);
  REQUIRE(std::regex_match(text, m, token_shape));
  CHECK(r.err == "token " + m[1].str() + " for ann (supervisor) created; it is shown only this once\n");
  CHECK(create(d, "ann", "supervisor") != text);
}

TEST_CASE("token create --json gives id, name, role, token and created_at") {
  cli_desk d;
  auto r = d.plaint({"--json", "token", "create", "--name", "李娜", "--role", "admin"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.err.empty());
  auto j = r.json();
  CHECK(j.size() == 5);
  CHECK(j["name"] == "李娜");
  CHECK(j["role"] == "admin");
  CHECK(j["created_at"] == d.now);
  const std::string text = j["token"];
  std::smatch m;
  REQUIRE(std::regex_match(text, m, token_shape));
  CHECK(j["id"] == m[1].str());
}

TEST_CASE("token list shows every token without its secret, hash or salt") {
  cli_desk d;
  const auto ann = create(d, "ann", "agent");
  d.now = "2026-11-23T09:00:00Z";
  const auto bob = create(d, "bob", "admin");
  const std::string ann_id = id_of(ann), bob_id = id_of(bob);

  auto text = d.plaint({"token", "list"});
  REQUIRE(text.code == 0);
  CHECK(text.out == ann_id + "  agent       created 2026-11-23T08:00:00Z  live                          ann\n" +
                        bob_id + "  admin       created 2026-11-23T09:00:00Z  live                          bob\n");

  auto r = d.plaint({"--json", "token", "list"});
  REQUIRE(r.code == 0);
  auto j = r.json();
  REQUIRE(j.size() == 2);
  CHECK(j[0] == nlohmann::json{{"id", ann_id}, {"name", "ann"}, {"role", "agent"},
                               {"created_at", "2026-11-23T08:00:00Z"}, {"revoked_at", nullptr}});
  CHECK(j[1]["id"] == bob_id);
  for (const auto& out : {text.out, r.out}) {
    CHECK(out.find(ann.substr(21)) == std::string::npos);
    CHECK(out.find(bob.substr(21)) == std::string::npos);
    CHECK(out.find("hash") == std::string::npos);
    CHECK(out.find("salt") == std::string::npos);
  }
}

TEST_CASE("token revoke revokes by name or by id, and says when nothing was live") {
  cli_desk d;
  const auto ann1 = create(d, "ann", "agent");
  const auto ann2 = create(d, "ann", "supervisor");
  const auto bob = create(d, "bob", "agent");
  d.now = "2026-11-24T10:00:00Z";

  SUBCASE("by name") {
    auto r = d.plaint({"token", "revoke", "ann"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.out == "revoked 2 tokens of 'ann'\n");
    auto revoked = revoked_at(d);
    CHECK(revoked[id_of(ann1)] == "2026-11-24T10:00:00Z");
    CHECK(revoked[id_of(ann2)] == "2026-11-24T10:00:00Z");
    CHECK(revoked[id_of(bob)] == nullptr);
    auto again = d.plaint({"token", "revoke", "ann"});
    CHECK(again.code == 3);
    CHECK(again.out.empty());
    CHECK(again.err == "plaint: no live token is named or has id 'ann'\n");
  }
  SUBCASE("by id, with --json") {
    auto r = d.plaint({"--json", "token", "revoke", id_of(bob)});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.json() == nlohmann::json{{"revoked", 1}});
    auto revoked = revoked_at(d);
    CHECK(revoked[id_of(ann1)] == nullptr);
    CHECK(revoked[id_of(ann2)] == nullptr);
    CHECK(revoked[id_of(bob)] == "2026-11-24T10:00:00Z");
    auto text = d.plaint({"token", "list"});
    CHECK(text.out.find("revoked 2026-11-24T10:00:00Z  bob\n") != std::string::npos);
  }
}

TEST_CASE("token commands refuse bad input and write nothing") {
  cli_desk d;
  create(d, "ann", "agent");
  const auto before = list_json(d);
  auto check_refused = [&](std::vector<std::string> args, int code, const std::string& err) {
    auto r = d.plaint(args);
    CHECK(r.code == code);
    CHECK(r.out.empty());
    if (!err.empty()) CHECK(r.err == err);
    CHECK(list_json(d) == before);
  };
  check_refused({"token", "create", "--name", "eve", "--role", "root"}, 2,
                "plaint: role 'root' is not one of: agent, supervisor, admin\n");
  check_refused({"token", "create", "--name", "", "--role", "agent"}, 2, "plaint: token name is required\n");
  check_refused({"token", "create", "--name", "eve"}, 2, "");
  check_refused({"token", "create", "--role", "agent"}, 2, "");
  check_refused({"token", "revoke", "nobody"}, 3, "plaint: no live token is named or has id 'nobody'\n");
  check_refused({"token", "revoke"}, 2, "");
  auto j = d.plaint({"--json", "token", "revoke", "nobody"});
  CHECK(j.code == 3);
  CHECK(j.error_json()["error"]["code"] == "not_found");
}
