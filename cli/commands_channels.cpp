// The channels (SPEC §11): `mail ingest` (an MTA's pipe), `webhook
// add|list|remove|deliveries`, `notify run|status`.
#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/output.h"
#include "engine/channels.h"
#include "server/mail.h"
#include "server/outbox.h"

namespace plaint::cli {

using engine::errc;
using engine::make_error;
using engine::Status;

namespace {

// sysexits.h: what an MTA makes of `plaint mail ingest`'s exit.
constexpr int ex_dataerr = 65;   // never deliverable: bounce it
constexpr int ex_tempfail = 75;  // try again later

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

struct mail_options {
  std::string own_address;
  std::size_t max_bytes = 25 * 1024 * 1024;
  std::size_t max_attachment = 10 * 1024 * 1024;
};

Status cmd_mail_ingest(app& a, const mail_options& o) {
  // A message plaint can never take bounces (65); anything else — the
  // database busy or missing, a disk error — is worth another try (75).
  a.map_exit_code([](const engine::Error& e) { return e.code == errc::invalid ? ex_dataerr : ex_tempfail; });
  std::string raw;
  {
    char buf[64 * 1024];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
      raw.append(buf, static_cast<std::size_t>(std::cin.gcount()));
      if (raw.size() > o.max_bytes)
        return make_error(errc::invalid, fmt::format("the message is larger than the {} byte limit (--max-size)",
                                                     o.max_bytes));
    }
  }
  auto m = server::parse_mail(raw);
  PLAINT_TRY(m);
  auto ex = a.executor();
  PLAINT_TRY(ex);
  engine::mail_options opts;
  opts.own_address = o.own_address;
  opts.max_attachment_bytes = o.max_attachment;
  auto out = engine::ingest_mail(**ex, *m, opts);
  PLAINT_TRY(out);
  if (!out->noise.empty()) {
    std::cerr << "plaint: not taken: " << out->noise << "; nothing was written\n";
    if (a.json()) print_json({{"ticket", nullptr}, {"created", false}, {"ignored", out->noise}});
    return {};
  }
  for (const auto& d : out->dropped) std::cerr << "plaint: attachment not kept: " << printable(d) << '\n';
  if (a.json()) {
    engine::json j{{"ticket", out->ticket}, {"created", out->created}};
    if (out->duplicate) j["duplicate"] = true;
    if (!out->event.empty()) j["event"] = out->event;
    if (!out->customer.empty()) j["customer"] = out->customer;
    engine::json files = engine::json::array();
    for (const auto& f : out->attachments) files.push_back(engine::to_json(f));
    j["attachments"] = files;
    print_json(j);
  } else {
    std::cout << out->ticket << '\n';
    if (out->duplicate) std::cerr << "plaint: this message was taken before (ticket " << out->ticket << ")\n";
  }
  return {};
}

struct webhook_options {
  std::string url, events, secret;
};

Status cmd_webhook_add(app& a, const webhook_options& o) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto made = engine::new_webhook(o.url, o.events, o.secret, a.opts().actor, *now);
  PLAINT_TRY(made);
  engine::webhook w = std::move(*made);
  auto s = a.store();
  PLAINT_TRY(s);
  auto tx = (*s)->begin();
  PLAINT_TRY(tx);
  auto id = engine::add_webhook(**tx, w);
  PLAINT_TRY(id);
  PLAINT_TRY((*tx)->commit());
  w.id = *id;
  if (a.json()) {
    auto j = engine::to_json(w);
    if (o.secret.empty()) j["secret"] = w.secret;  // shown once
    print_json(j);
  } else {
    std::cout << w.id << '\n';
    if (o.secret.empty()) std::cerr << "plaint: webhook secret (shown once): " << w.secret << '\n';
  }
  return {};
}

Status cmd_webhook_list(app& a) {
  auto s = a.store();
  PLAINT_TRY(s);
  auto all = (*s)->list_webhooks();
  PLAINT_TRY(all);
  if (a.json()) {
    engine::json arr = engine::json::array();
    for (const auto& w : *all) arr.push_back(engine::to_json(w));
    print_json(arr);
    return {};
  }
  for (const auto& w : *all) {
    std::string events;
    for (const auto& e : w.events) events += (events.empty() ? "" : ",") + e;
    std::cout << fmt::format("{:<5} {:<8} {:<30} {}\n", w.id, w.removed_at ? "removed" : "live",
                             events.empty() ? "(every event)" : events, printable(w.url));
  }
  return {};
}

Status cmd_webhook_remove(app& a, std::int64_t id) {
  auto now = a.now();
  PLAINT_TRY(now);
  auto s = a.store();
  PLAINT_TRY(s);
  auto found = (*s)->find_webhook(id);
  PLAINT_TRY(found);
  if (!*found || (*found)->removed_at) return make_error(errc::not_found, fmt::format("webhook {} does not exist", id));
  auto tx = (*s)->begin();
  PLAINT_TRY(tx);
  engine::webhook w = **found;
  w.removed_at = *now;
  PLAINT_TRY((*tx)->put_webhook(w));
  PLAINT_TRY((*tx)->commit());
  if (a.json())
    print_json(engine::to_json(w));
  else
    std::cout << fmt::format("removed webhook {} ({})\n", id, printable(w.url));
  return {};
}

void print_outbox(app& a, const std::vector<engine::outbox_item>& rows) {
  if (a.json()) {
    engine::json arr = engine::json::array();
    for (const auto& o : rows) arr.push_back(engine::to_json(o));
    print_json(arr);
    return;
  }
  for (const auto& o : rows)
    std::cout << fmt::format("{:<7} {:<8} {:<10} ticket {:<7} {:<18} {:<16} tries {:<3} {}\n", o.id, o.channel,
                             o.state, o.ticket,
                             o.events == 1 ? printable(o.kind)
                                           : fmt::format("{} events", o.events),
                             printable(o.target), o.attempts,
                             o.last_error.empty() ? "" : printable(o.last_error));
}

Status cmd_webhook_deliveries(app& a, std::int64_t id, const std::string& state, int limit) {
  auto s = a.store();
  PLAINT_TRY(s);
  auto rows = (*s)->list_outbox("webhook", id > 0 ? std::to_string(id) : "", state, limit);
  PLAINT_TRY(rows);
  print_outbox(a, *rows);
  return {};
}

Status cmd_notify_status(app& a, int limit) {
  auto s = a.store();
  PLAINT_TRY(s);
  auto counts = (*s)->count_outbox();
  PLAINT_TRY(counts);
  auto failed = (*s)->list_outbox("", "", "failed", limit);
  PLAINT_TRY(failed);
  auto now = a.now();
  PLAINT_TRY(now);
  if (a.json()) {
    print_json(engine::outbox_status_json(*counts, *failed));
    return {};
  }
  if (counts->empty()) std::cout << "the outbox is empty\n";
  for (const auto& x : *counts)
    std::cout << fmt::format("{:<8} {:<10} {:>8}{}\n", x.channel, x.state, x.count,
                             x.state == "pending" && x.oldest
                                 ? fmt::format("  oldest queued {} s ago", std::max<std::int64_t>(0, *now - *x.oldest))
                                 : "");
  if (!failed->empty()) {
    std::cout << "\nfailed (newest first):\n";
    print_outbox(a, *failed);
  }
  return {};
}

struct notify_options {
  bool once = false;
  delivery_options delivery;
};

volatile std::sig_atomic_t notify_stop = 0;

Status cmd_notify_run(app& a, const notify_options& o) {
  auto d = delivery_settings_of(o.delivery);
  PLAINT_TRY(d);
  PLAINT_TRY(a.now());  // makes the clock the worker reads
  auto s = a.store();
  PLAINT_TRY(s);
  server::outbox_worker worker(**s, server::direct_writes(**s), a.clock(), *d);
  std::signal(SIGINT, [](int) { notify_stop = 1; });
  std::signal(SIGTERM, [](int) { notify_stop = 1; });
  std::int64_t delivered = 0, retried = 0, failed = 0;
  auto pruned = std::chrono::steady_clock::time_point{};
  while (!notify_stop) {
    if (std::chrono::steady_clock::now() - pruned >= std::chrono::minutes(1)) {
      PLAINT_TRY(worker.prune());
      pruned = std::chrono::steady_clock::now();
    }
    auto r = worker.run_once();
    PLAINT_TRY(r);
    delivered += r->delivered;
    retried += r->retried;
    failed += r->failed;
    if (r->attempted() > 0) continue;
    if (o.once) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (a.json())
    print_json({{"delivered", delivered}, {"retried", retried}, {"failed", failed}});
  else
    std::cout << fmt::format("delivered {}, to retry {}, failed {}\n", delivered, retried, failed);
  return {};
}

}  // namespace

void add_delivery_options(CLI::App* sub, delivery_options& d) {
  d.smtp = env_or("PLAINT_SMTP", "");
  d.mail_from = env_or("PLAINT_MAIL_FROM", "");
  sub->add_option("--smtp", d.smtp,
                  "notification mail: smtp://host:port (STARTTLS when offered) or smtps://… (default $PLAINT_SMTP; "
                  "none: mail waits in the outbox)");
  sub->add_option("--smtp-user", d.smtp_user, "SMTP user name");
  sub->add_option("--smtp-password-file", d.smtp_password_file, "a file whose first line is the SMTP password");
  sub->add_option("--smtp-ca", d.smtp_ca, "CA certificates (PEM) that the SMTP server's certificate must chain to "
                                          "(default: the system's)");
  sub->add_flag("--smtp-require-tls", d.smtp_require_tls,
                "send no mail in clear: the SMTP server must take STARTTLS (always so with --smtp-user)");
  sub->add_option("--mail-from", d.mail_from, "plaint's own address: From of its mail (default $PLAINT_MAIL_FROM)");
  sub->add_option("--retry-period", d.retry_period,
                  "seconds a delivery is retried before it is marked failed (default 86400)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{30} * 86400));
  sub->add_option("--retry-base", d.retry_base,
                  "seconds before the first retry; each later wait doubles, up to an hour (default 30)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600}));
}

engine::Result<server::delivery_settings> delivery_settings_of(const delivery_options& o) {
  server::delivery_settings d;
  d.smtp_url = o.smtp;
  d.smtp_user = o.smtp_user;
  if (!o.smtp_password_file.empty()) {
    std::ifstream in(o.smtp_password_file);
    if (!in) return make_error(errc::invalid, fmt::format("cannot read the SMTP password file {}", o.smtp_password_file));
    std::getline(in, d.smtp_password);
  }
  d.smtp_ca = o.smtp_ca;
  // A password never crosses the network in clear.
  d.smtp_require_tls = o.smtp_require_tls || !o.smtp_user.empty();
  if (!d.smtp_ca.empty() && !std::ifstream(d.smtp_ca))
    return make_error(errc::invalid, fmt::format("cannot read the CA file {}", d.smtp_ca));
  d.mail_from = o.mail_from;
  d.retry_period = o.retry_period;
  d.retry_base = o.retry_base;
  if (!d.smtp_url.empty() && d.mail_from.find('@') == std::string::npos)
    return make_error(errc::invalid, "--smtp needs --mail-from, plaint's own address");
  if (!d.smtp_url.empty() && d.smtp_url.rfind("smtp://", 0) != 0 && d.smtp_url.rfind("smtps://", 0) != 0)
    return make_error(errc::invalid, fmt::format("--smtp '{}' is not an smtp:// or smtps:// URL", d.smtp_url));
  return d;
}

void add_channel_commands(CLI::App& cli, handler& run) {
  {
    auto* mail = cli.add_subcommand("mail", "complaints that arrive by email");
    mail->require_subcommand(1);
    auto o = std::make_shared<mail_options>();
    o->own_address = env_or("PLAINT_MAIL_FROM", "");
    auto* sub = mail->add_subcommand(
        "ingest", "take one RFC 5322 message from stdin (an MTA pipe): exit 0 taken or ignored, 65 never "
                  "takeable, 75 try again later");
    sub->add_option("--own-address", o->own_address,
                    "plaint's own address: mail from it is a loop (default $PLAINT_MAIL_FROM)");
    sub->add_option("--max-size", o->max_bytes, "largest message taken, in bytes (default 25 MiB)")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
    sub->add_option("--max-attachment", o->max_attachment, "largest attachment kept, in bytes (default 10 MiB)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30));
    sub->callback([o, &run] { run = [o](app& a) { return cmd_mail_ingest(a, *o); }; });
  }
  {
    auto* hook = cli.add_subcommand("webhook", "HTTP receivers of ticket events, signed with a secret");
    hook->require_subcommand(1);
    auto o = std::make_shared<webhook_options>();
    auto* add = hook->add_subcommand("add", "add a receiver; prints its id");
    add->add_option("--url", o->url, "http:// or https:// URL events are POSTed to")->required();
    add->add_option("--events", o->events, "comma-separated events (default: every event)");
    add->add_option("--secret", o->secret, "HMAC-SHA256 key (default: a random one, printed once)");
    add->callback([o, &run] { run = [o](app& a) { return cmd_webhook_add(a, *o); }; });
    hook->add_subcommand("list", "every webhook; never its secret")->callback([&run] { run = cmd_webhook_list; });
    auto id = std::make_shared<std::int64_t>(0);
    auto* remove = hook->add_subcommand("remove", "stop sending to a webhook (its deliveries stay listed)");
    remove->add_option("ID", *id, "webhook id")->required();
    remove->callback([id, &run] { run = [id](app& a) { return cmd_webhook_remove(a, *id); }; });
    auto did = std::make_shared<std::int64_t>(0);
    auto state = std::make_shared<std::string>();
    auto limit = std::make_shared<int>(50);
    auto* deliveries = hook->add_subcommand("deliveries", "deliveries, newest first");
    deliveries->add_option("ID", *did, "only this webhook's");
    deliveries->add_option("--state", *state, "pending, delivered or failed")
        ->check(CLI::IsMember({"pending", "delivered", "failed"}));
    deliveries->add_option("--limit", *limit, "at most this many (default 50)")->check(CLI::Range(1, 1000));
    deliveries->callback([did, state, limit, &run] {
      run = [did, state, limit](app& a) { return cmd_webhook_deliveries(a, *did, *state, *limit); };
    });
  }
  {
    auto* notify = cli.add_subcommand("notify", "the outbox: notification mail and webhook deliveries");
    notify->require_subcommand(1);
    auto o = std::make_shared<notify_options>();
    auto* runner = notify->add_subcommand("run", "deliver what is due, until stopped (--once: until nothing is due)");
    runner->add_flag("--once", o->once, "stop when nothing is due");
    add_delivery_options(runner, o->delivery);
    runner->callback([o, &run] { run = [o](app& a) { return cmd_notify_run(a, *o); }; });
    auto limit = std::make_shared<int>(20);
    auto* status = notify->add_subcommand("status", "pending, delivered and failed deliveries; the failed ones listed");
    status->add_option("--limit", *limit, "failed ones listed (default 20)")->check(CLI::Range(1, 1000));
    status->callback([limit, &run] { run = [limit](app& a) { return cmd_notify_status(a, *limit); }; });
  }
}

}  // namespace plaint::cli
