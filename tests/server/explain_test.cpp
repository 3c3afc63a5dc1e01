// GET /api/v1/tickets/{id}/sla and POST /api/v1/reports/whatif over real HTTP.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "tests/server/server_fixture.h"

using plaint::testing::error_code;
using plaint::testing::error_message;
using plaint::testing::server_desk;
using json = nlohmann::json;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const std::string default_policy = slurp(std::string(PLAINT_SOURCE_DIR) + "/workflows/policy.toml");

std::string replaced(std::string text, const std::string& what, const std::string& with) {
  const auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  return text.replace(at, what.size(), with);
}

}  // namespace

TEST_CASE("GET /tickets/{id}/sla explains the clocks as plaint sla explain --json does") {
  server_desk d;
  const auto t = d.open("late parcel");
  const auto id = t["id"].get<std::int64_t>();
  d.fire(id, d.ann, {{"event", "triage"}, {"fields", {{"owner", "ann"}}}});
  auto r = d.get("/api/v1/tickets/" + std::to_string(id) + "/sla", d.ann);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  const json x = r.json();
  CHECK(x["ticket"] == id);
  CHECK(x["check"]["matches"] == true);
  REQUIRE(x["clocks"].size() == 2);
  CHECK(x["clocks"][0]["clock"] == "first_response");
  CHECK(x["clocks"][0]["row"] == "P3/gold");
  CHECK(x["clocks"][0]["target_seconds"] == 6 * 3600);
  CHECK(x["clocks"][0]["due_at"] == t["sla"]["first_response_due"]);
  CHECK(x["clocks"][0]["policy"]["name"] == "built-in default");
  CHECK(x["clocks"][1]["due_at"] == t["sla"]["resolution_due"]);

  CHECK(d.get("/api/v1/tickets/999/sla", d.ann).status == 404);
  CHECK(d.get("/api/v1/tickets/x'--/sla", d.ann).status == 404);
  CHECK(d.http->request("GET", "/api/v1/tickets/" + std::to_string(id) + "/sla", "", {}).status == 401);
}

TEST_CASE("POST /reports/whatif: supervisors only, the policy TOML in the body, figures side by side") {
  server_desk d;
  const auto quick = d.open("answered in 5 minutes")["id"].get<std::int64_t>();
  d.fire(quick, d.ann, {{"event", "triage"}, {"fields", {{"owner", "ann"}}}});
  d.fire(quick, d.ann, {{"event", "start"}});
  // The proposed policy: itself, and one without gold targets for P3.
  // Up to the end of the decade, so that a ticket opened in this second is in.
  auto same = d.post("/api/v1/reports/whatif?by=tier&from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z", d.sue, default_policy, {{"Content-Type", "application/toml"}});
  REQUIRE_MESSAGE(same.status == 200, same.body);
  const json s = same.json();
  CHECK(s["tickets"] == 1);  // (before the second ticket below)
  CHECK(s["by"] == "tier");
  CHECK(s["changed"]["count"] == 0);
  CHECK(s["overall"]["in_force"] == s["overall"]["proposed"]);
  REQUIRE(s["groups"].size() == 1);
  CHECK(s["groups"][0]["key"] == "gold");
  CHECK(s["note"].get<std::string>().find("acted differently") != std::string::npos);

  // A P3 gold first response of one second breaches a ticket nobody
  // answered: counted, listed only when examples are asked for.
  d.open("nobody answers");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const std::string tight = replaced(default_policy, "[targets.P3.gold]\nfirst_response = \"6h\"",
                                     "[targets.P3.gold]\nfirst_response = \"1s\"");
  auto none = d.post("/api/v1/reports/whatif?examples=0&from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z", d.sue,
                     tight);
  REQUIRE_MESSAGE(none.status == 200, none.body);
  CHECK(none.json()["changed"]["count"].get<int>() >= 1);
  CHECK(none.json()["changed"]["tickets"].empty());
  CHECK(d.get("/healthz", d.sue).status == 200);

  CHECK(d.post("/api/v1/reports/whatif", d.ann, default_policy).status == 403);
  CHECK(d.http->request("POST", "/api/v1/reports/whatif", default_policy, {}).status == 401);
}

TEST_CASE("POST /reports/whatif refuses what is not a policy, naming the line, and writes nothing") {
  server_desk d;
  d.open("a ticket");
  const json before = d.ticket(1);
  auto bad = d.post("/api/v1/reports/whatif", d.sue,
                    replaced(default_policy, "time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\""));
  CHECK(bad.status == 400);
  CHECK(error_message(bad).find("the proposed policy line") != std::string::npos);
  CHECK(error_message(bad).find("Mars/Olympus") != std::string::npos);
  auto empty = d.post("/api/v1/reports/whatif", d.sue, std::string("  \n"));
  CHECK(empty.status == 400);
  CHECK(error_message(empty) == "the request body must be the proposed policy, as TOML");
  auto utf8 = d.post("/api/v1/reports/whatif", d.sue, std::string("# \xff\xfe\n") + default_policy);
  CHECK(utf8.status == 400);
  CHECK(error_message(utf8) == "the proposed policy is not valid UTF-8 text");
  auto json_body = d.post("/api/v1/reports/whatif", d.sue, json{{"policy", "x"}});
  CHECK(json_body.status == 400);
  auto sql = d.post("/api/v1/reports/whatif?by=tier%27%3B%20DROP%20TABLE%20tickets%3B--", d.sue, default_policy);
  CHECK(sql.status == 400);
  CHECK(d.post("/api/v1/reports/whatif?from=tomorrow", d.sue, default_policy).status == 400);
  CHECK(d.post("/api/v1/reports/whatif?examples=100000", d.sue, default_policy).status == 400);
  CHECK(d.post("/api/v1/reports/whatif?colour=red", d.sue, default_policy).status == 400);
  auto big = d.post("/api/v1/reports/whatif", d.sue, default_policy + "#" + std::string(1100 * 1024, 'x') + "\n");
  CHECK(big.status == 413);
  // Nothing changed: the same ticket, the same version, the same history.
  const json after = d.ticket(1);
  CHECK(after["version"] == before["version"]);
  CHECK(after["history"] == before["history"]);
  CHECK(d.plaint({"audit", "verify"}).code == 0);
}
