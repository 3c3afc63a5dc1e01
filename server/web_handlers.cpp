// The web desk (docs/web.md): its static pages, signing in and out, and the
// API routes the pages need beyond SPEC §6 (me, users, workflows, the SLA
// preview, KPI series).
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "engine/kpi.h"
#include "engine/people.h"
#include "engine/sla.h"
#include "server/api_util.h"
#include "server/handlers.h"
#include "server/signin_guard.h"
#include "server/web_assets.h"
#include "server/web_bundle.h"

namespace plaint::server {

using namespace detail;
using engine::errc;
using engine::json;
using engine::make_error;

namespace {

// What every page and asset is sent with: nothing from another origin, no
// inline script, no framing.
constexpr const char* content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void secure_headers(response& r) {
  r.headers.emplace_back("Content-Security-Policy", content_security_policy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  r.headers.emplace_back("X-Frame-Options", "DENY");
}

std::string_view content_type_of(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// A file name of server/web: letters, digits, '.', '-' and '_' only, so no
// path ever leaves the directory.
bool plain_file_name(std::string_view name) {
  if (name.empty() || name.size() > 100 || name.front() == '.') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_'))
      return false;
  return true;
}

// The hash part of asset URLs, and one file's text: built in, or from
// --web-dir (read on every request, so an edit shows on reload).
std::string assets_hash(const api& a) { return a.web().web_dir.empty() ? std::string(builtin_web_hash()) : "dev"; }

std::optional<std::string> web_file_text(const api& a, std::string_view name) {
  if (!plain_file_name(name)) return std::nullopt;
  if (!a.web().web_dir.empty()) {
    std::ifstream in(a.web().web_dir + "/" + std::string(name), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  for (const auto& f : builtin_web_files())
    if (f.name == name) return std::string(f.text);
  return std::nullopt;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// `app.bundle.js` is app.js with every module it imports, in one file
// (web_bundle.h): built once from the built-in files, or on every request
// from --web-dir.
constexpr std::string_view bundle_suffix = ".bundle.js";

engine::Result<std::optional<std::string>> bundle_text(const api& a, std::string_view name) {
  const std::string entry = std::string(name.substr(0, name.size() - bundle_suffix.size())) + ".js";
  auto read = [&a](std::string_view file) { return web_file_text(a, file); };
  if (!a.web().web_dir.empty()) {
    auto made = bundle_modules(entry, read);
    if (!made && made.error().code == errc::not_found) return std::optional<std::string>();
    PLAINT_TRY(made);
    return std::optional<std::string>(std::move(*made));
  }
  static std::mutex m;
  static std::map<std::string, engine::Result<std::string>, std::less<>> built;
  std::lock_guard lock(m);
  auto it = built.find(entry);
  if (it == built.end()) it = built.emplace(entry, bundle_modules(entry, read)).first;
  if (!it->second && it->second.error().code == errc::not_found) return std::optional<std::string>();
  PLAINT_TRY(it->second);
  return std::optional<std::string>(*it->second);
}

// An HTML page with {{ASSETS}} replaced by /assets/<hash>, and {{BOOT}} by
// `boot` (empty when the page has no such place).
void send_page(api& a, call& c, std::string_view name, std::string_view boot = {}) {
  auto text = web_file_text(a, name);
  if (!text) return c.respond(api::error_response({errc::not_found, fmt::format("there is no page {}", name)}));
  replace_all(*text, "{{ASSETS}}", "/assets/" + assets_hash(a));
  replace_all(*text, "{{BOOT}}", boot);
  response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(*text);
  r.headers.emplace_back("Cache-Control", "no-cache");
  secure_headers(r);
  c.respond(std::move(r));
}

response redirect(const std::string& location) {
  response r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string session_cookie_header(const api& a, std::string_view value, std::int64_t max_age) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", session_cookie, value, max_age,
                     a.web().secure_cookies ? "; Secure" : "");
}

std::string cookie_of(const request& req, std::string_view name) {
  return std::string(cookie_value(req.header("cookie"), name));
}

// A local path to return to after signing in; anything else is "/".
std::string local_next(const std::string& next) {
  if (next.empty() || next.front() != '/' || next.size() > 2000) return "/";
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";  // //host is another site
  for (char c : next)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return "/";
  return next;
}

std::string url_encode(std::string_view s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A hash to check unknown names against, so that a sign-in as nobody takes
// as long as one with a wrong password (no probing for who exists).
const std::string& decoy_hash() {
  static const std::string h = [] {
    auto made = engine::hash_password("plaint-decoy-password");
    return made ? *made : std::string();
  }();
  return h;
}

std::string language_of(const request& req) {
  const std::string chosen = cookie_of(req, "plaint_lang");
  if (chosen == "zh" || chosen == "en") return chosen;
  const std::string& accept = req.header("accept-language");
  // The first language listed decides ("zh-CN,zh;q=0.9,en;q=0.8" → zh).
  return accept.size() >= 2 && (accept[0] == 'z' || accept[0] == 'Z') && (accept[1] == 'h' || accept[1] == 'H')
             ? "zh"
             : "en";
}

// GET /api/v1/me's body: the person, their role, the page's language and,
// for a browser session, its CSRF token.
engine::Result<json> me_json(engine::store& s, const engine::token_identity& who, const request& req) {
  auto p = s.find_person(who.name);
  PLAINT_TRY(p);
  json j{{"id", who.name},
         {"name", *p ? (*p)->name : who.name},
         {"email", *p ? (*p)->email : ""},
         {"role", who.role},
         {"team", *p ? (*p)->team : ""},
         {"lang", language_of(req)}};
  if (!who.csrf.empty()) j["csrf"] = who.csrf;
  return j;
}

}  // namespace

namespace handlers {

// The desk's page carries who is signed in, so that its first request is
// for tickets rather than for /api/v1/me: a JSON data block, which no
// browser runs, with <, > and & escaped so that no text can end it.
void page_index(api& a, call& c) {
  std::string boot;
  if (!cookie_value(c.req.header("cookie"), session_cookie).empty()) {
    auto who = a.authenticate(c.req);
    auto s = a.readers().acquire();
    if (who && s) {
      if (auto j = me_json(**s, *who, c.req)) {
        std::string data = json{{"me", *j}}.dump();
        replace_all(data, "<", "\\u003c");
        replace_all(data, ">", "\\u003e");
        replace_all(data, "&", "\\u0026");
        boot = "<script type=\"application/json\" id=\"plaint-boot\">" + data + "</script>";
      }
    }
  }
  send_page(a, c, "index.html", boot);
}
void page_signin(api& a, call& c) { send_page(a, c, "signin.html"); }

void asset(api& a, call& c) {
  const std::string& hash = c.params.at(0);
  const std::string& name = c.params.at(1);
  const std::string current = assets_hash(a);
  std::optional<std::string> text;
  if (hash == current && name.find(".html") == std::string::npos) {
    text = web_file_text(a, name);
    if (!text && name.size() > bundle_suffix.size() &&
        std::string_view(name).substr(name.size() - bundle_suffix.size()) == bundle_suffix) {
      auto made = bundle_text(a, name);
      if (!made) return c.respond(api::error_response(made.error()));
      text = std::move(*made);
    }
  }
  if (!text) return c.respond(api::error_response({errc::not_found, fmt::format("there is no asset {}", name)}));
  const std::string etag = fmt::format("\"{}-{}\"", current, name);
  response r;
  const bool dev = !a.web().web_dir.empty();
  r.headers.emplace_back("Cache-Control", dev ? "no-cache" : "public, max-age=31536000, immutable");
  r.headers.emplace_back("ETag", etag);
  secure_headers(r);
  if (!dev && c.req.header("if-none-match") == etag) {
    r.status = 304;
    r.content_type.clear();
    return c.respond(std::move(r));
  }
  r.content_type = std::string(content_type_of(name));
  r.body = std::move(*text);
  c.respond(std::move(r));
}

// POST /signin (a form): runs on the read pool (api::blocking), as the
// password check costs tens of milliseconds by design.
void signin(api& a, call& c) {
  auto form = parse_pairs(c.req.body, "the sign-in form");
  if (!form) return c.respond(redirect("/signin?error=failed"));
  const std::string username = (*form)["username"];
  const std::string password = (*form)["password"];
  const std::string next = local_next((*form)["next"]);
  const std::string retry = next == "/" ? "" : "&next=" + url_encode(next);
  const std::string address = c.req.peer.empty() ? "unknown" : c.req.peer;
  const auto clock_now = std::chrono::steady_clock::now();
  if (auto wait = a.guard().wait(username, address, clock_now); wait > 0) {
    a.stats().dropped("signin_throttled");
    return c.respond(redirect(fmt::format("/signin?error=wait&seconds={}{}", wait, retry)));
  }
  auto failed = [&] {
    a.guard().failed(username, address, clock_now);
    c.respond(redirect("/signin?error=failed" + retry));
  };
  if (username.empty() || username.size() > engine::max_person_id_bytes || password.empty() ||
      password.size() > engine::max_password_bytes)
    return failed();
  std::optional<engine::person> who;
  {
    auto s = a.readers().acquire();
    if (!s) return c.respond(api::error_response(s.error()));
    auto found = (**s).find_person(username);
    if (!found) return c.respond(api::error_response(found.error()));
    who = std::move(*found);
  }
  const bool usable = who && !who->disabled && !who->password_hash.empty();
  const bool match = engine::verify_password(usable ? who->password_hash : decoy_hash(), password);
  if (!usable || !match) return failed();
  a.guard().succeeded(username);

  auto issued = engine::issue_session(username, c.now, a.web().session_lifetime);
  if (!issued) return c.respond(api::error_response(issued.error()));
  auto record = issued->record;
  const std::string cookie = session_cookie_header(a, issued->cookie, a.web().session_lifetime);
  const engine::timestamp now = c.now;
  a.writes().submit_task(
      [record, now](engine::store_transaction& tx) -> engine::Result<json> {
        // The person is read again inside the write: one disabled since
        // the password was checked gets no session.
        auto p = tx.find_person(record.person);
        PLAINT_TRY(p);
        if (!*p || (*p)->disabled) return make_error(errc::forbidden, "this person may not sign in");
        PLAINT_TRY(tx.prune_sessions(now, 100));
        // Room is made first, so the new session is never the one ended.
        PLAINT_TRY(tx.trim_sessions_of(record.person, engine::max_sessions_per_person - 1));
        PLAINT_TRY(tx.put_session(record));
        return json::object();
      },
      [respond = c.respond, cookie, next, retry](engine::Result<json> r) {
        if (!r && r.error().code == errc::forbidden) return respond(redirect("/signin?error=failed" + retry));
        if (!r) return respond(api::error_response(r.error()));
        response out = redirect(next);
        out.headers.emplace_back("Set-Cookie", cookie);
        respond(std::move(out));
      });
}

void signout(api& a, call& c) {
  const std::string cookie = cookie_of(c.req, session_cookie);
  const std::string cleared = session_cookie_header(a, "", 0);
  if (cookie.empty()) {
    response r;
    r.status = 204;
    r.headers.emplace_back("Set-Cookie", cleared);
    return c.respond(std::move(r));
  }
  const std::string id = engine::session_id_of(cookie);
  a.writes().submit_task(
      [id](engine::store_transaction& tx) -> engine::Result<json> {
        PLAINT_TRY(tx.delete_session(id));
        return json::object();
      },
      [respond = c.respond, cleared](engine::Result<json> r) {
        if (!r) return respond(api::error_response(r.error()));
        response out;
        out.status = 204;
        out.content_type.clear();
        out.headers.emplace_back("Set-Cookie", cleared);
        respond(std::move(out));
      });
}

void me(api& a, call& c) {
  auto s = a.readers().acquire();
  if (!s) return c.respond(api::error_response(s.error()));
  auto j = me_json(**s, c.who, c.req);
  if (!j) return c.respond(api::error_response(j.error()));
  response r = api::json_response(200, *j);
  r.headers.emplace_back("Cache-Control", "no-store");
  c.respond(std::move(r));
}

void list_people(api& a, call& c) {
  auto s = a.readers().acquire();
  if (!s) return c.respond(api::error_response(s.error()));
  auto all = (**s).list_people();
  if (!all) return c.respond(api::error_response(all.error()));
  json arr = json::array();
  for (const auto& p : *all) arr.push_back(engine::to_json(p));
  c.respond(api::json_response(200, arr));
}

// POST /api/v1/users (admin): adds a person or changes one; fields not
// sent are kept. Runs on the read pool (api::blocking) when it sets a
// password.
void put_person(api& a, call& c) {
  auto b = body::parse(c.req.body, {"id", "name", "email", "role", "team", "lang", "disabled", "password"});
  if (!b) return c.respond(api::error_response(b.error()));
  const std::string id = b->str("id", true);
  auto name = b->opt_str("name");
  auto email = b->opt_str("email");
  auto role = b->opt_str("role");
  auto team = b->opt_str("team");
  auto lang = b->opt_str("lang");
  auto password = b->opt_str("password");
  auto disabled = b->opt_bool("disabled");
  if (!b->status()) return c.respond(api::error_response(b->status().error()));
  std::string hash;
  if (password) {
    auto h = engine::hash_password(*password);
    if (!h) return c.respond(api::error_response(h.error()));
    hash = std::move(*h);
  }
  const engine::timestamp now = c.now;
  a.writes().submit_task(
      [=](engine::store_transaction& tx) -> engine::Result<json> {
        auto found = tx.find_person(id);
        PLAINT_TRY(found);
        engine::person p = found->value_or(engine::person{});
        const bool created = !*found;
        p.id = id;
        if (name) p.name = *name;
        if (email) p.email = *email;
        if (role) p.role = *role;
        if (team) p.team = *team;
        if (lang) p.lang = *lang;
        if (disabled) p.disabled = *disabled;
        if (!hash.empty()) p.password_hash = hash;
        if (created) p.created_at = now;
        p.updated_at = now;
        PLAINT_TRY(engine::check_person(p));
        PLAINT_TRY(tx.put_person(p));
        if (!hash.empty()) PLAINT_TRY(tx.delete_sessions_of(p.id));
        if (p.disabled) PLAINT_TRY(engine::disable_person(tx, p, now));
        json j = engine::to_json(p);
        j["created"] = created;
        return j;
      },
      [respond = c.respond](engine::Result<json> r) {
        if (!r) return respond(api::error_response(r.error()));
        const bool created = (*r)["created"].get<bool>();
        r->erase("created");
        respond(api::json_response(created ? 201 : 200, *r));
      });
}

void workflows(api& a, call& c) {
  json arr = json::array();
  for (const engine::workflow* wf : a.workflows().all()) {
    json table = json::array();
    for (const auto& row : wf->table())
      table.push_back({{"from", row.from}, {"event", row.event}, {"to", row.to}, {"fields", row.fields}});
    arr.push_back({{"name", wf->name()}, {"initial", wf->initial_state()}, {"states", wf->states()}, {"table", table}});
  }
  c.respond(api::json_response(200, arr));
}

// What a ticket opened now would get: the targets for its priority and the
// customer's tier, and the due instants under the calendar.
void sla_preview(api& a, call& c) {
  auto arg = [&](const char* key, const char* fallback) {
    auto it = c.query.find(key);
    return it == c.query.end() || it->second.empty() ? std::string(fallback) : it->second;
  };
  const std::string priority = arg("priority", "P3");
  const std::string workflow = arg("workflow", "complaint");
  const std::string customer = arg("customer", "");
  if (priority != "P1" && priority != "P2" && priority != "P3" && priority != "P4")
    return c.respond(api::error_response({errc::invalid, fmt::format("priority '{}' is not one of: P1, P2, P3, P4", priority)}));
  if (!a.workflows().find(workflow))
    return c.respond(api::error_response({errc::invalid, fmt::format("workflow '{}' does not exist", workflow)}));
  std::string tier = "standard";
  if (!customer.empty()) {
    auto s = a.readers().acquire();
    if (!s) return c.respond(api::error_response(s.error()));
    auto cu = (**s).get_customer(customer);
    if (!cu) return c.respond(api::error_response(cu.error()));
    tier = cu->tier;
  }
  const auto policy = a.writes().policy();
  const engine::sla_targets& t = policy->targets_for(priority, tier);
  auto due = [&](std::int64_t seconds) -> json {
    if (seconds <= 0) return nullptr;
    return engine::format_iso(policy->add(c.now, seconds));
  };
  c.respond(api::json_response(200, {{"tier", tier},
                                     {"priority", priority},
                                     {"first_response_seconds", t.first_response},
                                     {"resolution_seconds", t.resolution},
                                     {"first_response_due", due(t.first_response)},
                                     {"resolution_due", due(t.resolution)}}));
}

// The KPI figures of each day or week of the period, for charts.
void kpi_series(api& a, call& c) {
  auto period = report_period(c.query, c.now);
  if (!period) return c.respond(api::error_response(period.error()));
  auto it = c.query.find("step");
  const std::string step = it == c.query.end() || it->second.empty() ? "week" : it->second;
  if (step != "day" && step != "week")
    return c.respond(api::error_response({errc::invalid, fmt::format("step '{}' is not one of: day, week", step)}));
  const std::int64_t width = step == "day" ? 86400 : 7 * 86400;
  const auto [from, to] = *period;
  constexpr std::int64_t max_points = 120;
  if (to <= from) return c.respond(api::error_response({errc::invalid, "to must be later than from"}));
  if ((to - from + width - 1) / width > max_points)
    return c.respond(api::error_response(
        {errc::invalid, fmt::format("the period holds more than {} {}s; choose a shorter period or a longer step",
                                    max_points, step)}));
  auto s = a.readers().acquire();
  if (!s) return c.respond(api::error_response(s.error()));
  const auto policy = a.writes().policy();
  json points = json::array();
  for (engine::timestamp start = from; start < to; start += width) {
    engine::kpi_query q;
    q.from = start;
    q.to = std::min(start + width, to);
    auto report = engine::compute_kpis(**s, *policy, q);
    if (!report) return c.respond(api::error_response(report.error()));
    const json& o = (*report)["overall"];
    points.push_back({{"from", engine::format_iso(q.from)},
                      {"to", engine::format_iso(q.to)},
                      {"opened", o["opened"]},
                      {"resolved", o["resolved"]},
                      {"closed", o["closed"]},
                      {"on_time_rate", o["on_time_rate"]},
                      {"first_response_p50", o["first_response_seconds"]["p50"]},
                      {"resolution_p50", o["resolution_seconds"]["p50"]},
                      {"escalation_rate", o["escalation_rate"]},
                      {"csat_mean", o["csat"]["mean"]}});
  }
  c.respond(api::json_response(200, {{"from", engine::format_iso(from)},
                                     {"to", engine::format_iso(to)},
                                     {"step", step},
                                     {"points", std::move(points)}}));
}

}  // namespace handlers

}  // namespace plaint::server
