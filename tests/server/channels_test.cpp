// Notifications out, against real receivers on loopback: a webhook receiver
// that answers 500 before 200, goes away and comes back; two `notify run`
// processes on one outbox; and a real SMTP server (aiosmtpd) receiving the
// breach mail of a seconds-level policy, whose reply threads back in.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "tests/server/hook_receiver.h"
#include "tests/server/server_fixture.h"

using namespace plaint::testing;
using namespace std::chrono_literals;

namespace {

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  crypto_auth_hmacsha256_final(&st, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

// A real SMTP server (tests/server/smtp_sink.py, aiosmtpd) saving each
// message it accepts as DIR/<n>.eml.
class smtp_sink {
 public:
  // `options`: --tls CERT KEY (STARTTLS required), --auth USER PASSWORD.
  explicit smtp_sink(std::string dir, std::vector<std::string> options = {}) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    std::vector<std::string> args{"python3", std::string(PLAINT_SOURCE_DIR) + "/tests/server/smtp_sink.py", dir_};
    args.insert(args.end(), options.begin(), options.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Debian's interpreter, which has python3-aiosmtpd.
      ::execv("/usr/bin/python3", argv.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && !std::filesystem::exists(dir_ + "/port"))
      std::this_thread::sleep_for(20ms);
    std::ifstream in(dir_ + "/port");
    const bool started = static_cast<bool>(in >> port_);
    REQUIRE_MESSAGE(started, "the SMTP server (python3-aiosmtpd) did not start");
  }
  ~smtp_sink() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // The messages received so far, in order.
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (int n = 1; std::filesystem::exists(dir_ + "/" + std::to_string(n) + ".eml"); ++n) {
      std::ifstream in(dir_ + "/" + std::to_string(n) + ".eml", std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      out.push_back(text.str());
    }
    return out;
  }
  // "tls=yes login=desk": how message `n` came in.
  std::string session(int n) const {
    std::ifstream in(dir_ + "/" + std::to_string(n) + ".session");
    std::string line;
    std::getline(in, line);
    return line;
  }
  std::string recipients(int n) const {
    std::ifstream in(dir_ + "/" + std::to_string(n) + ".rcpt");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string header_of(const std::string& message, const std::string& name) {
  const std::string mail = "\n" + message;
  const auto at = mail.find("\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto end = mail.find('\r', at + 1);
  return mail.substr(at + name.size() + 3, end - at - name.size() - 3);
}

// The webhook of a desk: added through the API by the admin.
json add_hook(server_desk& d, const std::string& url, const std::string& events, const std::string& secret) {
  auto r = d.post("/api/v1/webhooks", d.root, json{{"url", url}, {"events", events}, {"secret", secret}});
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(!r.json().contains("secret"));  // it was given, so it is not shown back
  return r.json();
}

json deliveries(server_desk& d, std::int64_t hook) {
  auto r = d.get("/api/v1/webhooks/" + std::to_string(hook) + "/deliveries", d.root);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json();
}

// The worker records an outcome just after the receiver has it: poll for
// what the test expects, for as long as a slow (sanitised) build needs.
template <typename Fn>
bool eventually(Fn&& done) {
  for (const auto until = std::chrono::steady_clock::now() + 20s; !done();) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a webhook delivery is signed, retried after two 500s and recorded once as delivered") {
  REQUIRE(sodium_init() >= 0);
  hook_receiver receiver({500, 500});
  server_desk d(false);
  d.start({"--retry-base", "1"});
  const std::string secret = "a-secret-of-some-length";
  const json hook = add_hook(d, receiver.url(), "comment,escalate", secret);
  CHECK(hook["events"] == json::array({"comment", "escalate"}));
  const json t = d.open("the lid is cracked");  // `open` is not among the events: no delivery
  const json after = d.fire(t["id"], d.ann, json{{"event", "comment"}, {"note", "called the customer"}});

  REQUIRE_MESSAGE(receiver.wait_for(3, 20s), "deliveries received: " << receiver.hits().size());
  std::this_thread::sleep_for(300ms);
  const auto hits = receiver.hits();
  REQUIRE(hits.size() == 3);  // 500, 500, 200: and no fourth
  for (const auto& h : hits) {
    CHECK(h.headers.at("content-type") == "application/json");
    CHECK(h.headers.at("x-plaint-delivery") == hits[0].headers.at("x-plaint-delivery"));  // one delivery, retried
    CHECK(h.headers.at("x-plaint-signature") == "sha256=" + hmac_hex(secret, h.body));
    CHECK(!h.headers.at("x-plaint-timestamp").empty());
    const json body = json::parse(h.body);
    CHECK(body["event"] == "comment");
    CHECK(body["ticket"] == t["id"]);
    CHECK(body["from"] == "intake");
    CHECK(body["to"] == "intake");
    CHECK(body["actor"] == "ann");
    CHECK(body["version"] == after["version"]);
    CHECK(body["seq"].is_number());
    CHECK(body["at"].is_string());
    CHECK(body["summary"]["subject"] == "the lid is cracked");
  }

  json rows;
  eventually([&] {
    rows = deliveries(d, hook["id"]);
    return rows.size() == 1 && rows[0]["state"] == "delivered";
  });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["state"] == "delivered");
  CHECK(rows[0]["attempts"] == 3);
  auto status = d.get("/api/v1/notifications/status", d.sue);
  REQUIRE(status.status == 200);
  CHECK(status.json()["counts"] == json::array({{{"channel", "webhook"}, {"state", "delivered"}, {"count", 1},
                                                  {"oldest", rows[0]["created_at"]}}}));
  CHECK(d.get("/api/v1/notifications/status", d.ann).status == 403);
  CHECK(d.get("/api/v1/webhooks", d.sue).status == 403);

  // Removed: later events owe it nothing.
  auto removed = d.http->request("DELETE", "/api/v1/webhooks/" + std::to_string(hook["id"].get<long>()), "",
                                 server_desk::auth(d.root));
  REQUIRE_MESSAGE(removed.status == 200, removed.body);
  d.fire(t["id"], d.ann, json{{"event", "comment"}, {"note", "again"}});
  CHECK(deliveries(d, hook["id"]).size() == 1);
}

TEST_CASE("bad webhooks are refused with a sentence and nothing is written") {
  server_desk d;
  auto bad = [&](const json& body) {
    auto r = d.post("/api/v1/webhooks", d.root, body);
    CHECK(r.status == 400);
    return error_message(r);
  };
  CHECK(bad(json{{"url", "ftp://example.org/x"}}) == "webhook URL 'ftp://example.org/x' is not an http:// or https:// URL");
  CHECK(bad(json{{"url", "http://x.example/ a"}}).find("is not an http") != std::string::npos);
  CHECK(bad(json{{"url", "http://x.example/"}, {"events", "comment,DROP TABLE"}}) ==
        "'DROP TABLE' is not an event name (lower-case letters and _)");
  CHECK(bad(json{{"url", "http://x.example/"}, {"secret", "short"}}) == "a webhook secret must be 16 to 200 characters");
  CHECK(bad(json{{"url", 5}}) == "field 'url' must be a string");
  CHECK(bad(json{{"url", "http://x.example/"}, {"extra", 1}}) == "unknown field 'extra'");
  auto list = d.get("/api/v1/webhooks", d.root);
  REQUIRE(list.status == 200);
  CHECK(list.json().empty());
  // A secret plaint makes is shown once, in the answer.
  auto made = d.post("/api/v1/webhooks", d.root, json{{"url", "http://x.example/"}});
  REQUIRE(made.status == 201);
  CHECK(made.json()["secret"].get<std::string>().size() == 64);
  CHECK(d.get("/api/v1/webhooks", d.root).body.find(made.json()["secret"].get<std::string>()) == std::string::npos);

  // Every transition writes a row per live webhook: at most 20 of them.
  for (int i = 1; i < 20; ++i) REQUIRE(d.post("/api/v1/webhooks", d.root, json{{"url", "http://x.example/"}}).status == 201);
  CHECK(bad(json{{"url", "http://x.example/"}}) == "a desk has at most 20 webhooks; remove one first");
  CHECK(d.get("/api/v1/webhooks", d.root).json().size() == 20);
  // Unknown ids and states.
  CHECK(d.http->request("DELETE", "/api/v1/webhooks/999", "", server_desk::auth(d.root)).status == 404);
  CHECK(d.http->request("DELETE", "/api/v1/webhooks/x", "", server_desk::auth(d.root)).status == 404);
  CHECK(d.get("/api/v1/webhooks/1/deliveries?state=lost", d.root).status == 400);
  CHECK(d.get("/api/v1/webhooks/1/deliveries?limit=0", d.root).status == 400);
  CHECK(d.http->request("DELETE", "/api/v1/webhooks/1", "", server_desk::auth(d.sue)).status == 403);
}

TEST_CASE("a receiver that is down gets every delivery once it is back, nothing lost, nothing twice") {
  hook_receiver receiver;
  const int port = receiver.port();
  receiver.stop();  // connections refused from here on
  server_desk d(false);
  d.start({"--retry-base", "1"});
  const json hook = add_hook(d, "http://127.0.0.1:" + std::to_string(port) + "/hook", "", "0123456789abcdef");
  const json t = d.open("noisy fridge");
  for (int i = 0; i < 4; ++i) d.fire(t["id"], d.ann, json{{"event", "comment"}, {"note", "note " + std::to_string(i)}});
  // open + 4 comments, each tried and failed at least once while it is down.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  json rows;
  for (;;) {
    rows = deliveries(d, hook["id"]);
    bool all_tried = rows.size() == 5;
    for (const auto& r : rows) all_tried = all_tried && r["attempts"].get<int>() >= 1;
    if (all_tried || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(rows.size() == 5);
  for (const auto& r : rows) {
    CHECK(r["state"] == "pending");
    CHECK(r["last_error"].get<std::string>().find("POST http://127.0.0.1:") != std::string::npos);
  }
  receiver.listen();  // back, on the same port
  REQUIRE(receiver.wait_for(5, 20s));
  std::this_thread::sleep_for(500ms);
  std::set<std::string> ids;
  for (const auto& h : receiver.hits()) ids.insert(h.headers.at("x-plaint-delivery"));
  CHECK(receiver.hits().size() == 5);
  CHECK(ids.size() == 5);
  json rows_after;
  eventually([&] {
    rows_after = deliveries(d, hook["id"]);
    bool all = true;
    for (const auto& r : rows_after) all = all && r["state"] == "delivered";
    return all;
  });
  for (const auto& r : rows_after) CHECK(r["state"] == "delivered");
}

TEST_CASE("two notify run processes on one outbox deliver each row exactly once") {
  hook_receiver receiver;
  server_desk d(false);  // no server: the desk runs `plaint notify run` from cron
  auto added = d.plaint({"--json", "webhook", "add", "--url", receiver.url(), "--secret", "0123456789abcdef"});
  REQUIRE_MESSAGE(added.code == 0, added.err);
  auto opened = d.plaint({"open", "--customer", "acme", "--subject", "many notes"});
  REQUIRE(opened.code == 0);
  for (int i = 0; i < 40; ++i) REQUIRE(d.plaint({"event", "1", "comment", "--note", std::to_string(i)}).code == 0);
  auto one = std::async(std::launch::async, [&] { return d.plaint({"--json", "notify", "run", "--once"}); });
  auto two = std::async(std::launch::async, [&] { return d.plaint({"--json", "notify", "run", "--once"}); });
  const auto a = one.get(), b = two.get();
  REQUIRE_MESSAGE(a.code == 0, a.err);
  REQUIRE_MESSAGE(b.code == 0, b.err);
  CHECK(a.json()["delivered"].get<int>() + b.json()["delivered"].get<int>() == 41);
  const auto hits = receiver.hits();
  std::set<std::string> ids;
  for (const auto& h : hits) ids.insert(h.headers.at("x-plaint-delivery"));
  CHECK(hits.size() == 41);
  CHECK(ids.size() == 41);
  auto status = d.plaint({"--json", "notify", "status"});
  REQUIRE(status.code == 0);
  CHECK(status.json()["counts"] == json::array({{{"channel", "webhook"}, {"state", "delivered"}, {"count", 41},
                                                  {"oldest", status.json()["counts"][0]["oldest"]}}}));
  auto listed = d.plaint({"--json", "webhook", "deliveries", "1", "--state", "delivered", "--limit", "1000"});
  REQUIRE(listed.code == 0);
  CHECK(listed.json().size() == 41);
}

TEST_CASE("an SLA warning and breach reach the team leads through a real SMTP server, and a reply threads back") {
  server_desk d(false);
  smtp_sink sink(d.dir.file("smtp"));
  // lead2 reads Chinese: the breach mail to lead2 is written in it.
  for (const auto& [id, team, lang] :
       {std::tuple{"lead1", "L1", "en"}, std::tuple{"lead2", "L2", "zh"}})
    REQUIRE(d.plaint({"user", "add", "--id", id, "--name", std::string("Lead ") + team, "--email",
                      std::string(id) + "@desk.example", "--role", "supervisor", "--team", team, "--lang", lang})
                .code == 0);
  d.load_fast_p1_policy();  // P1: first response due 3 s after intake, a warning at half of it
  d.start({"--smtp", sink.url(), "--mail-from", "support@desk.example", "--retry-base", "1"});
  const json t = d.open("冰箱不制冷", "wang", json{{"priority", "P1"}});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (sink.messages().size() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  const auto mails = sink.messages();
  REQUIRE(mails.size() == 2);
  const std::string id = std::to_string(t["id"].get<long>());
  // Nobody owns it: the warning goes to the lead of level 1, the breach
  // (which raises it to level 2) to the lead of level 2.
  CHECK(sink.recipients(1) == "lead1@desk.example\n");
  CHECK(sink.recipients(2) == "lead2@desk.example\n");
  CHECK(header_of(mails[0], "Subject").find("=?UTF-8?B?") == 0);  // Chinese subject, RFC 2047
  auto decoded_subject = [&](const std::string& m) {
    std::string out;
    std::string h = header_of(m, "Subject");
    for (std::size_t at = 0; (at = h.find("=?UTF-8?B?", at)) != std::string::npos;) {
      const auto end = h.find("?=", at + 10);
      const std::string b64 = h.substr(at + 10, end - at - 10);
      std::string bin(b64.size(), '\0');
      std::size_t len = 0;
      REQUIRE(sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), b64.c_str(), b64.size(),
                                nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) == 0);
      out += bin.substr(0, len);
      at = end + 2;
    }
    return out;
  };
  CHECK(decoded_subject(mails[0]) == "[plaint #" + std::to_string(t["id"].get<long>()) + "] SLA at risk: 冰箱不制冷");
  CHECK(decoded_subject(mails[1]) == "[plaint #" + std::to_string(t["id"].get<long>()) + "] SLA 已超时: 冰箱不制冷");
  for (const auto& m : mails) {
    CHECK(header_of(m, "From") == "plaint <support@desk.example>");
    CHECK(header_of(m, "Auto-Submitted") == "auto-generated");
    CHECK(header_of(m, "Message-ID").find("<plaint." + id + ".") == 0);
  }
  // The mail plaint sent is recorded; a customer's reply naming it is a
  // comment on the ticket, whatever its subject.
  const std::string reply = "From: Wang Fang <wang@customer.example>\nSubject: Re: your message\nMessage-ID: "
                            "<reply-1@customer.example>\nIn-Reply-To: " +
                            header_of(mails[1], "Message-ID") + "\nContent-Type: text/plain; charset=utf-8\n\n还是不制冷。\n";
  auto r = d.plaint({"--json", "mail", "ingest", "--own-address", "support@desk.example"}, reply);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.json()["ticket"] == t["id"]);
  CHECK(r.json()["event"] == "comment");
  const json after = d.ticket(t["id"]);
  CHECK(after["history"].back()["payload"]["note"] == "还是不制冷。");
  auto status = d.get("/api/v1/notifications/status", d.sue);
  eventually([&] {
    status = d.get("/api/v1/notifications/status", d.sue);
    return status.status == 200 && status.json()["counts"].size() == 1 && status.json()["counts"][0]["count"] == 2;
  });
  REQUIRE(status.status == 200);
  CHECK(status.json()["counts"][0]["channel"] == "email");
  CHECK(status.json()["counts"][0]["state"] == "delivered");
  CHECK(status.json()["counts"][0]["count"] == 2);
}

TEST_CASE("an attachment is listed with its ticket and served only as a download, to signed-in users") {
  server_desk d;
  std::ifstream in(std::string(PLAINT_SOURCE_DIR) + "/tests/data/mail/multipart-attachment.eml", std::ios::binary);
  std::stringstream raw;
  raw << in.rdbuf();
  auto r = d.plaint({"--json", "mail", "ingest"}, raw.str());
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const std::string id = std::to_string(r.json()["ticket"].get<long>());
  const json t = d.ticket(std::stol(id));
  REQUIRE(t["attachments"].size() == 3);
  const json pdf = t["attachments"][1];
  CHECK(pdf["name"] == "receipt.pdf");
  const std::string path = "/api/v1/tickets/" + id + "/attachments/" + std::to_string(pdf["id"].get<long>());
  auto file = d.get(path, d.ann);
  REQUIRE(file.status == 200);
  CHECK(file.header("content-type") == "application/octet-stream");
  CHECK(file.header("content-disposition") == "attachment; filename=\"receipt.pdf\"; filename*=UTF-8''receipt.pdf");
  CHECK(file.header("x-content-type-options") == "nosniff");
  CHECK(file.header("x-plaint-content-type") == "application/pdf");
  CHECK(file.body.size() == 613);
  CHECK(file.body.rfind("%PDF", 0) == 0);
  auto chinese = d.get("/api/v1/tickets/" + id + "/attachments/" + std::to_string(t["attachments"][2]["id"].get<long>()),
                       d.ann);
  CHECK(chinese.header("content-disposition") ==
        "attachment; filename=\"______.txt\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8.txt");
  CHECK(d.http->request("GET", path).status == 401);
  CHECK(d.get("/api/v1/tickets/999/attachments/" + std::to_string(pdf["id"].get<long>()), d.ann).status == 404);
  CHECK(d.get("/api/v1/tickets/" + id + "/attachments/x", d.ann).status == 404);
}

TEST_CASE("notification mail goes over STARTTLS with a login, checked against the desk's CA, and never in clear") {
  server_desk d(false);
  // A certificate for 127.0.0.1, made for this run.
  const std::string cert = d.dir.file("smtp-cert.pem"), key = d.dir.file("smtp-key.pem");
  const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
                           "subjectAltName=IP:127.0.0.1 -keyout '" + key + "' -out '" + cert + "' 2>/dev/null";
  REQUIRE_MESSAGE(std::system(make.c_str()) == 0, "openssl could not make a test certificate");
  std::ofstream(d.dir.file("password")) << "s3cret pass\n";
  std::ofstream(d.dir.file("wrong")) << "guess\n";
  REQUIRE(d.plaint({"user", "add", "--id", "lead1", "--name", "Lead One", "--email", "lead1@desk.example", "--role",
                    "supervisor", "--team", "L1"})
              .code == 0);
  // A P1 opened Monday 08:00 and ticked at noon: warning and breach notices
  // for the team lead, in the outbox.
  REQUIRE(d.plaint({"--now", "2026-11-23T08:00:00Z", "open", "--customer", "acme", "--subject", "no heating",
                    "--priority", "P1"})
              .code == 0);
  REQUIRE(d.plaint({"--now", "2026-11-23T12:00:00Z", "tick"}).code == 0);
  auto pending = d.plaint({"--json", "notify", "status"});
  REQUIRE(pending.code == 0);
  REQUIRE(pending.json()["counts"].size() == 1);
  const int mails = pending.json()["counts"][0]["count"].get<int>();
  REQUIRE(mails >= 1);
  auto send = [&](smtp_sink& sink, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--json", "--now", "2026-11-23T12:00:00Z", "notify", "run", "--once",
                                  "--smtp", sink.url(), "--mail-from", "support@desk.example"};
    args.insert(args.end(), extra.begin(), extra.end());
    return d.plaint(args);
  };

  SUBCASE("the right login over STARTTLS: delivered") {
    smtp_sink sink(d.dir.file("smtp"), {"--tls", cert, key, "--auth", "desk", "s3cret pass"});
    auto r = send(sink, {"--smtp-user", "desk", "--smtp-password-file", d.dir.file("password"), "--smtp-ca", cert});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.json()["delivered"] == mails);
    REQUIRE(sink.messages().size() == static_cast<std::size_t>(mails));
    CHECK(sink.session(1) == "tls=yes login=desk");
    CHECK(sink.recipients(1) == "lead1@desk.example\n");
  }
  SUBCASE("a wrong password: nothing sent, retried later with the server's answer") {
    smtp_sink sink(d.dir.file("smtp"), {"--tls", cert, key, "--auth", "desk", "s3cret pass"});
    auto r = send(sink, {"--smtp-user", "desk", "--smtp-password-file", d.dir.file("wrong"), "--smtp-ca", cert});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.json()["delivered"] == 0);
    CHECK(r.json()["retried"] == mails);
    CHECK(sink.messages().empty());
    auto rows = d.plaint({"--json", "notify", "status"});
    CHECK(rows.json()["counts"][0]["state"] == "pending");
  }
  SUBCASE("a certificate the desk's CA does not vouch for: nothing sent") {
    smtp_sink sink(d.dir.file("smtp"), {"--tls", cert, key, "--auth", "desk", "s3cret pass"});
    auto r = send(sink, {"--smtp-user", "desk", "--smtp-password-file", d.dir.file("password")});  // system CAs
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.json()["delivered"] == 0);
    CHECK(sink.messages().empty());
  }
  SUBCASE("a server without TLS gets no password, and no mail when TLS is required") {
    smtp_sink sink(d.dir.file("smtp"));
    auto r = send(sink, {"--smtp-user", "desk", "--smtp-password-file", d.dir.file("password")});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.json()["delivered"] == 0);
    CHECK(sink.messages().empty());
    auto clear = send(sink, {"--smtp-require-tls"});
    REQUIRE(clear.code == 0);
    CHECK(clear.json()["delivered"] == 0);
    CHECK(sink.messages().empty());
  }
  SUBCASE("a CA file that cannot be read is refused before anything is tried") {
    smtp_sink sink(d.dir.file("smtp"));
    auto r = send(sink, {"--smtp-ca", d.dir.file("missing.pem")});
    CHECK(r.code == 2);
    CHECK(r.err.find("cannot read the CA file") != std::string::npos);
  }
}
