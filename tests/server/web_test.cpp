// The web desk over plain HTTP, as a browser and as an attacker would speak
// to it: signing in and out, session cookies, CSRF, roles, the directory of
// people, and the static pages with their security headers.
#include <doctest/doctest.h>

#include "engine/audit.h"
#include "engine/people.h"
#include "tests/raw_db.h"
#include "tests/server/raw_socket.h"
#include "tests/server/server_fixture.h"

using namespace plaint::testing;

namespace {

// A desk with a directory: li.na (agent, L1), wang.fang (supervisor, L2)
// and an admin, each with a password.
struct web_desk : server_desk {
  web_desk() : server_desk(false) {
    person("li.na", "李娜", "agent", "L1");
    person("wang.fang", "王芳", "supervisor", "L2");
    person("boss", "Admin", "admin", "L3");
    start();
  }
  void person(const std::string& id, const std::string& name, const std::string& role, const std::string& team) {
    auto r = plaint({"user", "add", "--id", id, "--name", name, "--role", role, "--team", team,
                     "--email", id + "@desk.example"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    auto p = plaint({"user", "password", id}, "pw-" + id + "-2026\n");
    REQUIRE_MESSAGE(p.code == 0, p.err);
  }

  // Signs in through the form; the cookie's value, "" on failure.
  std::string sign_in(const std::string& id, const std::string& password, http_response* out = nullptr) {
    http_client c(port());
    auto r = c.request("POST", "/signin", "username=" + id + "&password=" + password,
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
    if (out) *out = r;
    const std::string set = r.header("set-cookie");
    const std::string prefix = "plaint_session=";
    if (r.status != 303 || set.rfind(prefix, 0) != 0) return "";
    return set.substr(prefix.size(), set.find(';') - prefix.size());
  }
  std::string sign_in(const std::string& id) { return sign_in(id, "pw-" + id + "-2026"); }

  static header_list cookie(const std::string& value, header_list more = {}) {
    more.emplace_back("Cookie", "plaint_lang=en; plaint_session=" + value);
    return more;
  }
  json me(const std::string& session) {
    auto r = http->request("GET", "/api/v1/me", "", cookie(session));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json();
  }
};

}  // namespace

TEST_CASE("signing in sets an HttpOnly SameSite=Strict cookie that works like a token, and stores no password") {
  web_desk d;
  http_response r;
  const std::string session = d.sign_in("li.na", "pw-li.na-2026", &r);
  REQUIRE(!session.empty());
  CHECK(r.header("location") == "/");
  const std::string set = r.header("set-cookie");
  CHECK(set.find("HttpOnly") != std::string::npos);
  CHECK(set.find("SameSite=Strict") != std::string::npos);
  CHECK(set.find("Path=/") != std::string::npos);
  CHECK(set.find("Secure") == std::string::npos);  // plain HTTP here; --secure-cookies adds it

  const json me = d.me(session);
  CHECK(me["id"] == "li.na");
  CHECK(me["name"] == "李娜");
  CHECK(me["role"] == "agent");
  CHECK(me["team"] == "L1");
  CHECK(me["csrf"].get<std::string>().size() == 32);

  // Passwords and cookies are stored only as hashes.
  raw_db db(d.db);
  CHECK(db.text("SELECT password_hash FROM people WHERE id = 'li.na'").rfind("$argon2id$", 0) == 0);
  CHECK(db.integer("SELECT count(*) FROM people WHERE password_hash LIKE '%pw-li.na%'") == 0);
  CHECK(db.integer("SELECT count(*) FROM sessions WHERE id = '" + plaint::engine::sha256_hex(session) + "'") == 1);
  CHECK(db.integer("SELECT count(*) FROM sessions WHERE id = '" + session + "'") == 0);

  // A wrong password, an unknown person and a garbled form all fail alike.
  http_response bad;
  CHECK(d.sign_in("li.na", "wrong-password", &bad).empty());
  CHECK(bad.status == 303);
  CHECK(bad.header("location") == "/signin?error=failed");
  CHECK(d.sign_in("nobody", "whatever-pw").empty());
  CHECK(d.sign_in("li.na", "%zz").empty());

  // `next` returns to a local page only.
  http_client c(d.port());
  auto next = c.request("POST", "/signin", "username=li.na&password=pw-li.na-2026&next=%2F%23%2Fticket%2F1", {});
  CHECK(next.header("location") == "/#/ticket/1");
  auto away = c.request("POST", "/signin", "username=li.na&password=pw-li.na-2026&next=%2F%2Fevil.example", {});
  CHECK(away.header("location") == "/");
}

TEST_CASE("a state-changing request with the cookie needs the CSRF token and this site's origin") {
  web_desk d;
  const std::string session = d.sign_in("li.na");
  const std::string csrf = d.me(session)["csrf"];
  const std::string body = json{{"id", "c-web"}, {"name", "Web Customer"}}.dump();

  auto none = d.http->request("POST", "/api/v1/customers", body, web_desk::cookie(session));
  CHECK(none.status == 403);
  CHECK(error_code(none) == "forbidden");
  auto wrong = d.http->request("POST", "/api/v1/customers", body,
                               web_desk::cookie(session, {{"X-CSRF-Token", std::string(32, '0')}}));
  CHECK(wrong.status == 403);
  // A page of another site that somehow holds the token is still refused.
  auto cross = d.http->request("POST", "/api/v1/customers", body,
                               web_desk::cookie(session, {{"X-CSRF-Token", csrf}, {"Origin", "https://evil.example"}}));
  CHECK(cross.status == 403);
  CHECK(d.plaint({"--json", "export"}).out.find("c-web") == std::string::npos);

  auto ok = d.http->request("POST", "/api/v1/customers", body,
                            web_desk::cookie(session, {{"X-CSRF-Token", csrf}, {"Origin", "http://127.0.0.1"}}));
  CHECK_MESSAGE(ok.status == 201, ok.body);
  // Reads need no token; bearer requests never do.
  CHECK(d.http->request("GET", "/api/v1/customers/c-web", "", web_desk::cookie(session)).status == 200);
  CHECK(d.post("/api/v1/customers", d.ann, json{{"id", "c-bearer"}, {"name", "B"}}).status == 201);

  // A cross-site sign-in form is refused before any password is checked.
  http_client c(d.port());
  auto forged = c.request("POST", "/signin", "username=li.na&password=pw-li.na-2026",
                          {{"Origin", "https://evil.example"}});
  CHECK(forged.status == 403);

  // Signing out ends the session on the server, not only in the browser.
  auto out = d.http->request("POST", "/signout", "", web_desk::cookie(session, {{"X-CSRF-Token", csrf}}));
  CHECK(out.status == 204);
  CHECK(out.header("set-cookie").find("Max-Age=0") != std::string::npos);
  CHECK(d.http->request("GET", "/api/v1/me", "", web_desk::cookie(session)).status == 401);
}

TEST_CASE("an expired session, a disabled person and a forged cookie get 401, a disabled person's token and stream stop") {
  web_desk d;
  // An expired session, written as the server would have written it.
  const std::string expired(64, 'a');
  {
    raw_db db(d.db);
    REQUIRE(db.exec("INSERT INTO sessions VALUES ('" + plaint::engine::sha256_hex(expired) +
                    "', 'li.na', 'csrf', 1, 2)") == "");
  }
  auto r = d.http->request("GET", "/api/v1/me", "", web_desk::cookie(expired));
  CHECK(r.status == 401);
  CHECK(error_message(r) == "the session is not valid");
  CHECK(d.http->request("GET", "/api/v1/me", "", web_desk::cookie(std::string(64, 'b'))).status == 401);
  CHECK(d.http->request("GET", "/api/v1/me", "", web_desk::cookie("<script>")).status == 401);

  const std::string session = d.sign_in("li.na");
  REQUIRE(!session.empty());
  const std::string token = d.token("li.na", "agent");
  CHECK(d.get("/api/v1/me", token).status == 200);

  // A live stream opened with the cookie.
  const int fd = raw_connect(d.port());
  send_all(fd, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nCookie: plaint_session=" + session + "\r\n\r\n");
  char buf[256];
  REQUIRE(::recv(fd, buf, sizeof buf, 0) > 0);
  CHECK(std::string(buf, 12) == "HTTP/1.1 200");

  auto off = d.plaint({"user", "disable", "li.na"});
  REQUIRE_MESSAGE(off.code == 0, off.err);
  CHECK(d.http->request("GET", "/api/v1/me", "", web_desk::cookie(session)).status == 401);
  CHECK(d.get("/api/v1/me", token).status == 401);
  CHECK(closed_by_peer(fd, 5s));
  ::close(fd);
  CHECK(d.sign_in("li.na").empty());
  CHECK(d.plaint({"token", "create", "--name", "li.na", "--role", "agent"}).code == 4);
  // Tokens of names outside the directory keep working (scripts).
  CHECK(d.get("/api/v1/me", d.ann).status == 200);
}

TEST_CASE("one person holds at most 20 sessions, signing in again ends the oldest") {
  web_desk d;
  std::vector<std::string> sessions;
  for (int i = 0; i < plaint::engine::max_sessions_per_person + 2; ++i) sessions.push_back(d.sign_in("li.na"));
  raw_db db(d.db);
  CHECK(db.integer("SELECT count(*) FROM sessions WHERE person = 'li.na'") == plaint::engine::max_sessions_per_person);
  int live = 0;
  for (const auto& s : sessions) live += d.http->request("GET", "/api/v1/me", "", web_desk::cookie(s)).status == 200;
  CHECK(live == plaint::engine::max_sessions_per_person);
  // The session just made is never the one ended (ties in a second are in no order).
  CHECK(d.http->request("GET", "/api/v1/me", "", web_desk::cookie(sessions.back())).status == 200);
}

TEST_CASE("failed sign-ins are slowed down per account") {
  web_desk d;
  for (int i = 0; i < 5; ++i) CHECK(d.sign_in("wang.fang", "guess-" + std::to_string(i)).empty());
  http_response r;
  CHECK(d.sign_in("wang.fang", "guess-5", &r).empty());
  CHECK(r.header("location") == "/signin?error=failed");
  // Now the account waits, even for the right password.
  CHECK(d.sign_in("wang.fang", "pw-wang.fang-2026", &r).empty());
  CHECK(r.header("location").rfind("/signin?error=wait&seconds=", 0) == 0);
  // Another account from the same address is not held up by it.
  CHECK(!d.sign_in("li.na").empty());
}

TEST_CASE("roles: the server refuses what a role may not do, whichever way it is asked") {
  web_desk d;
  const std::string agent = d.sign_in("li.na");
  const std::string csrf = d.me(agent)["csrf"];
  CHECK(d.http->request("GET", "/api/v1/escalations", "", web_desk::cookie(agent)).status == 403);
  CHECK(d.http->request("GET", "/api/v1/reports/kpi", "", web_desk::cookie(agent)).status == 403);
  auto add = d.http->request("POST", "/api/v1/users", json{{"id", "x"}, {"name", "X"}, {"role", "admin"}}.dump(),
                             web_desk::cookie(agent, {{"X-CSRF-Token", csrf}}));
  CHECK(add.status == 403);
  const std::string sup = d.sign_in("wang.fang");
  CHECK(d.http->request("GET", "/api/v1/escalations", "", web_desk::cookie(sup)).status == 200);

  // The directory: any signed-in person reads it (the owner picker); an
  // admin changes it, and a password is never shown.
  auto people = d.http->request("GET", "/api/v1/users", "", web_desk::cookie(agent));
  REQUIRE(people.status == 200);
  CHECK(people.json().size() == 3);
  CHECK(people.body.find("argon2") == std::string::npos);
  auto made = d.post("/api/v1/users", d.root,
                     json{{"id", "zhao.lei"}, {"name", "赵磊"}, {"role", "agent"}, {"team", "L2"},
                          {"password", "pw-zhao.lei-2026"}});
  CHECK_MESSAGE(made.status == 201, made.body);
  CHECK(!d.sign_in("zhao.lei").empty());
  CHECK(d.post("/api/v1/users", d.root, json{{"id", "bad id"}, {"name", "X"}, {"role", "agent"}}).status == 400);
  CHECK(d.post("/api/v1/users", d.root, json{{"id", "x"}, {"name", "X"}, {"role", "king"}}).status == 400);
  CHECK(d.post("/api/v1/users", d.root, json{{"id", "y"}, {"name", "Y"}, {"role", "agent"}, {"password", "short"}})
            .status == 400);
  CHECK(d.post("/api/v1/users", d.root, json{{"id", "zhao.lei"}, {"disabled", true}}).status == 200);
  CHECK(d.sign_in("zhao.lei").empty());
}

TEST_CASE("owners must be people of the directory once it has anyone") {
  web_desk d;
  const auto t = d.open("Parcel lost");
  const std::string path = "/api/v1/tickets/" + std::to_string(t["id"].get<int>()) + "/events";
  auto ghost = d.post(path, d.ann, json{{"event", "triage"}, {"fields", {{"owner", "ghost"}}}});
  CHECK(ghost.status == 422);
  CHECK(error_message(ghost) == "owner 'ghost' is not a person in the directory");
  auto ok = d.post(path, d.ann, json{{"event", "triage"}, {"fields", {{"owner", "li.na"}}}});
  CHECK_MESSAGE(ok.status == 200, ok.body);
  CHECK(d.plaint({"user", "disable", "wang.fang"}).code == 0);
  auto gone = d.post(path, d.sue, json{{"event", "assign"}, {"fields", {{"owner", "wang.fang"}}}});
  CHECK(gone.status == 422);
  CHECK(error_message(gone) == "owner 'wang.fang' is disabled");
}

TEST_CASE("the pages: security headers, hashed assets cached for a year, nothing outside the web folder") {
  web_desk d;
  http_client c(d.port());
  auto page = c.request("GET", "/");
  REQUIRE(page.status == 200);
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  const std::string csp = page.header("content-security-policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(page.header("x-content-type-options") == "nosniff");
  CHECK(page.body.find("{{ASSETS}}") == std::string::npos);
  const auto at = page.body.find("/assets/");
  REQUIRE(at != std::string::npos);
  const std::string prefix = page.body.substr(at, page.body.find('/', at + 8) - at);  // /assets/<hash>

  auto js = c.request("GET", prefix + "/app.js");
  REQUIRE(js.status == 200);
  CHECK(js.header("content-type") == "text/javascript; charset=utf-8");
  CHECK(js.header("cache-control") == "public, max-age=31536000, immutable");
  const std::string etag = js.header("etag");
  CHECK(c.request("GET", prefix + "/app.js", "", {{"If-None-Match", etag}}).status == 304);
  CHECK(c.request("GET", "/assets/0000000000000000/app.js").status == 404);
  CHECK(c.request("GET", prefix + "/..%2Fapi.cpp").status == 404);
  CHECK(c.request("GET", prefix + "/%2E%2E").status == 404);
  CHECK(c.request("GET", prefix + "/index.html").status == 404);
  // The page loads one script: every module joined (server/web_bundle.h).
  CHECK(page.body.find(prefix + "/app.bundle.js") != std::string::npos);
  CHECK(page.body.find("plaint-boot") == std::string::npos);  // nobody signed in
  auto bundle = c.request("GET", prefix + "/app.bundle.js");
  REQUIRE(bundle.status == 200);
  CHECK(bundle.header("content-type") == "text/javascript; charset=utf-8");
  CHECK(bundle.header("cache-control") == "public, max-age=31536000, immutable");
  CHECK(bundle.body.find("// ---- queue.js\n") != std::string::npos);
  CHECK(bundle.body.find("\nimport ") == std::string::npos);
  CHECK(c.request("GET", prefix + "/app.bundle.js", "", {{"If-None-Match", bundle.header("etag")}}).status == 304);
  CHECK(c.request("GET", prefix + "/signin.bundle.js").status == 200);
  CHECK(c.request("GET", prefix + "/nothing.bundle.js").status == 404);

  auto signin = c.request("GET", "/signin");
  REQUIRE(signin.status == 200);
  CHECK(signin.body.find("name=\"username\"") != std::string::npos);
  CHECK(signin.body.find("name=\"password\"") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/me").status == 401);
}

TEST_CASE("the desk's page carries who is signed in as data that no name can break out of") {
  web_desk d;
  d.person("odd", "</script><img src=x onerror=alert(1)> & Co", "agent", "L1");
  const std::string session = d.sign_in("odd");
  REQUIRE(!session.empty());
  http_client c(d.port());
  auto page = c.request("GET", "/", "", web_desk::cookie(session));
  REQUIRE(page.status == 200);
  CHECK(page.header("cache-control") == "no-cache");
  const std::string open = "<script type=\"application/json\" id=\"plaint-boot\">";
  const auto at = page.body.find(open);
  REQUIRE(at != std::string::npos);
  const auto end = page.body.find("</script>", at);
  REQUIRE(end != std::string::npos);
  const std::string data = page.body.substr(at + open.size(), end - at - open.size());
  CHECK(data.find('<') == std::string::npos);
  CHECK(data.find('>') == std::string::npos);
  CHECK(data.find('&') == std::string::npos);
  const json boot = json::parse(data);
  CHECK(boot["me"] == d.me(session));  // the same as GET /api/v1/me, CSRF token included
  CHECK(boot["me"]["name"] == "</script><img src=x onerror=alert(1)> & Co");

  // A cookie that names no session: the page, without anyone in it.
  auto stale = c.request("GET", "/", "", web_desk::cookie(std::string(64, 'a')));
  REQUIRE(stale.status == 200);
  CHECK(stale.body.find("plaint-boot") == std::string::npos);
}

TEST_CASE("the pages' own routes: me, workflows, the SLA preview and KPI series") {
  web_desk d;
  auto me = d.http->request("GET", "/api/v1/me", "", d.auth(d.sue, {{"Accept-Language", "zh-CN,zh;q=0.9"}}));
  REQUIRE(me.status == 200);
  CHECK(me.json()["lang"] == "zh");
  CHECK(!me.json().contains("csrf"));  // a bearer token needs none

  auto wf = d.get("/api/v1/workflows", d.ann);
  REQUIRE(wf.status == 200);
  bool triage = false;
  for (const auto& w : wf.json())
    if (w["name"] == "complaint")
      for (const auto& row : w["table"]) triage = triage || (row["event"] == "triage" && row["fields"].get<std::string>().find("owner!") != std::string::npos);
  CHECK(triage);

  auto preview = d.get("/api/v1/sla/preview?customer=wang&priority=P1", d.ann);
  REQUIRE_MESSAGE(preview.status == 200, preview.body);
  CHECK(preview.json()["tier"] == "platinum");
  CHECK(preview.json()["first_response_seconds"] == 1800);  // P1 1 h, platinum 50 %
  CHECK(d.get("/api/v1/sla/preview?priority=P9", d.ann).status == 400);
  CHECK(d.get("/api/v1/sla/preview?customer=nobody", d.ann).status == 404);

  auto series = d.get("/api/v1/reports/kpi/series?step=week", d.sue);
  REQUIRE_MESSAGE(series.status == 200, series.body);
  CHECK(series.json()["points"].size() == 5);  // 30 days in weeks
  CHECK(d.get("/api/v1/reports/kpi/series?step=day&from=2020-01-01T00:00:00Z", d.sue).status == 400);
  CHECK(d.get("/api/v1/reports/kpi/series?step=hour", d.sue).status == 400);
  CHECK(d.get("/api/v1/reports/kpi/series", d.ann).status == 403);

  auto t = d.open("Late parcel");
  auto ticket = d.get("/api/v1/tickets/" + std::to_string(t["id"].get<int>()), d.ann);
  REQUIRE(ticket.status == 200);
  CHECK(ticket.json()["clock"]["working_now"] == true);  // the default calendar is 24x7
  CHECK(ticket.json()["clock"]["first_response_business_left"].get<std::int64_t>() > 0);
}
