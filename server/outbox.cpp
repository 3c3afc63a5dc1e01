#include "server/outbox.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

namespace plaint::server {

namespace {

using engine::errc;
using engine::make_error;

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What one transfer needs beside its handle: a header or recipient list
// and the buffer for the error.
struct curl_lists {
  curl_slist* list = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  curl_lists() = default;
  curl_lists(const curl_lists&) = delete;
  curl_lists& operator=(const curl_lists&) = delete;
  ~curl_lists() { curl_slist_free_all(list); }
};

struct curl_handle : curl_lists {
  CURL* h = curl_easy_init();
  ~curl_handle() {
    if (h) curl_easy_cleanup(h);
  }
};

std::string base64(std::string_view bytes, bool wrap) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  if (!wrap) return out;
  std::string lines;
  for (std::size_t i = 0; i < out.size(); i += 76) lines += out.substr(i, 76) + "\r\n";
  return lines;
}

bool ascii_printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// A header value: as it is when plain ASCII, else RFC 2047 base64 words
// (each whole characters, short enough for a line).
std::string header_text(std::string_view text) {
  if (ascii_printable(text)) return std::string(text);
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = std::min<std::size_t>(45, text.size() - i);
    while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) --n;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(i, n), false) + "?=";
    i += n;
  }
  return out;
}

std::string rfc5322_date(engine::timestamp at) {
  static const char* days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01 was a Thursday
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::string iso = engine::format_iso(at);  // 2026-12-04T02:23:29Z
  const int year = std::stoi(iso.substr(0, 4));
  const int month = std::stoi(iso.substr(5, 2));
  const int day = std::stoi(iso.substr(8, 2));
  const std::int64_t days_since = at >= 0 ? at / 86400 : (at - 86399) / 86400;
  return fmt::format("{}, {:02d} {} {} {} +0000", days[((days_since % 7) + 7) % 7], day, months[month - 1], year,
                     iso.substr(11, 8));
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string("plaint.invalid") : std::string(address.substr(at + 1));
}

std::string kind_title(std::string_view kind, std::string_view lang) {
  const bool zh = lang == "zh";
  if (kind == "sla_warning") return zh ? "SLA 即将超时" : "SLA at risk";
  if (kind == "sla_breach") return zh ? "SLA 已超时" : "SLA breached";
  return std::string(kind);
}

// The mail of one notification in one language ("en" or "zh").
std::pair<std::string, std::string> notification_text(const engine::outbox_item& o, const engine::ticket& t,
                                                      const std::string& message, std::string_view lang) {
  const std::string subject = fmt::format("[plaint #{}] {}: {}", t.id, kind_title(o.kind, lang), t.subject);
  if (lang == "zh")
    return {subject, fmt::format("{}：{}\n\n工单 #{}（{}，{} 级，{}）\n主题：{}\n客户：{}\n负责人：{}\n\n详情：{}\n\n-- \nplaint\n",
                                 kind_title(o.kind, lang), t.subject, t.id, t.priority, t.level, t.state, t.subject,
                                 t.customer, t.owner.empty() ? "（无）" : t.owner, message)};
  return {subject, fmt::format("{}\n\nTicket #{} ({}, level {}, {})\nSubject: {}\nCustomer: {}\nOwner: {}\n\n-- \nplaint\n",
                               message, t.id, t.priority, t.level, t.state, t.subject, t.customer,
                               t.owner.empty() ? "(nobody)" : t.owner)};
}

struct upload {
  std::string_view data;
  std::size_t at = 0;
};

size_t read_upload(char* buf, size_t size, size_t n, void* user) {
  auto& u = *static_cast<upload*>(user);
  const std::size_t take = std::min(size * n, u.data.size() - u.at);
  std::memcpy(buf, u.data.data() + u.at, take);
  u.at += take;
  return take;
}

size_t discard(char*, size_t size, size_t n, void* user) {
  auto& seen = *static_cast<std::size_t*>(user);
  seen += size * n;
  return seen > 64 * 1024 ? 0 : size * n;  // a receiver's answer is not read past 64 KiB
}

}  // namespace

std::string webhook_signature(std::string_view secret, std::string_view body) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  crypto_auth_hmacsha256_final(&st, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

std::string compose_mail(const std::string& from, const std::vector<std::string>& to, const std::string& subject,
                         const std::string& text, const std::string& message_id, engine::timestamp at) {
  std::string to_line;
  for (const auto& t : to) to_line += (to_line.empty() ? "" : ", ") + t;
  std::string normalized;  // CRLF line ends in the body before encoding
  for (char c : text) {
    if (c == '\n') normalized += '\r';
    normalized += c;
  }
  return fmt::format(
      "From: plaint <{}>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}>\r\nAuto-Submitted: auto-generated\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
      from, to_line, header_text(subject), rfc5322_date(at), message_id, base64(normalized, true));
}

write_runner direct_writes(engine::store& s) {
  return [&s](const write_work& work) -> engine::Status {
    auto tx = s.begin();
    PLAINT_TRY(tx);
    PLAINT_TRY(work(**tx));
    return (*tx)->commit();
  };
}

outbox_worker::outbox_worker(engine::store& reads, write_runner writes, const engine::clock& c,
                             delivery_settings settings)
    : store_(reads),
      writes_(std::move(writes)),
      http_(nullptr, [](void* h) {
        if (h) curl_easy_cleanup(static_cast<CURL*>(h));
      }),
      clock_(c),
      settings_(std::move(settings)) {
  init_curl();
  http_.reset(curl_easy_init());
  jitter_state_ = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1u;
}

outbox_worker::~outbox_worker() = default;

// Without SMTP, mail waits in the outbox; webhooks go on.
std::string_view outbox_worker::channel() const { return settings_.smtp_url.empty() ? "webhook" : ""; }

engine::Result<std::optional<engine::timestamp>> outbox_worker::next_due() { return store_.next_outbox_due(channel()); }

engine::Result<std::int64_t> outbox_worker::prune() {
  std::int64_t pruned = 0;
  const engine::timestamp before = clock_.now() - settings_.retention;
  PLAINT_TRY(writes_([&](engine::store_transaction& tx) -> engine::Status {
    auto n = tx.prune_outbox(before, 1000);
    PLAINT_TRY(n);
    pruned = *n;
    return {};
  }));
  return pruned;
}

engine::Result<outbox_worker::round> outbox_worker::run_once(const std::atomic<bool>* cancel) {
  const engine::timestamp now = clock_.now();
  // Nothing due (read without a write transaction): no round.
  auto due = store_.next_outbox_due(channel());
  PLAINT_TRY(due);
  if (!*due || **due > now) return round{};
  std::vector<engine::outbox_item> claimed;
  PLAINT_TRY(writes_([&](engine::store_transaction& tx) -> engine::Status {
    auto rows = tx.claim_outbox(now, now + settings_.hold.count(), settings_.batch, channel());
    PLAINT_TRY(rows);
    claimed = std::move(*rows);
    return {};
  }));
  if (claimed.empty()) return round{};
  // The rows that record the round: updates by id, new rows (id 0) for
  // refused events split off; and the Message-IDs of mail sent.
  std::vector<engine::outbox_item> outcomes;
  std::vector<std::pair<engine::outbox_item, std::vector<std::string>>> mailed;
  round r;
  auto count = [&r](const engine::outbox_item& o, int n) {
    if (o.state == "delivered") r.delivered += n;
    else if (o.state == "failed") r.failed += n;
    else r.retried += n;
  };
  for (auto& o : claimed) {
    if (cancel && cancel->load()) break;
    // xorshift64: jitter for the retry schedule.
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 7;
    jitter_state_ ^= jitter_state_ << 17;
    const double jitter = static_cast<double>(jitter_state_ % 10000) / 10000.0;
    engine::Status sent;
    if (o.channel == "webhook") {
      auto attempt = deliver_webhook(o, cancel);
      if (attempt) {
        for (auto& row : engine::after_webhook_attempt(o, *attempt, clock_.now(), settings_.retry_period, jitter,
                                                       settings_.retry_base)) {
          if (!(attempt->cancelled && row.state == "pending" && row.attempts == o.attempts)) count(row, row.events);
          outcomes.push_back(std::move(row));
        }
        continue;
      }
      sent = attempt.error();
    }
    std::vector<std::string> message_ids;
    if (o.channel == "email") sent = deliver_email(o, message_ids);
    else if (o.channel != "webhook")
      sent = make_error(errc::not_found, fmt::format("outbox row {} has an unknown channel '{}'", o.id, o.channel));
    // A target that names nobody (no address, a removed webhook) will not
    // get better by waiting: failed at once.
    const bool hopeless = !sent && sent.error().code == errc::not_found;
    auto after = engine::after_attempt(o, sent.ok(), sent ? std::string() : sent.error().message, clock_.now(),
                                       hopeless ? 0 : settings_.retry_period, jitter, settings_.retry_base);
    count(after, after.events);
    if (!message_ids.empty()) mailed.emplace_back(after, std::move(message_ids));
    outcomes.push_back(std::move(after));
  }
  PLAINT_TRY(writes_([&](engine::store_transaction& tx) -> engine::Status {
    for (const auto& o : outcomes) PLAINT_TRY(o.id ? tx.update_outbox(o) : tx.add_outbox(o));
    // Mail sent (a part of it, when one language went and another did
    // not: the retry sends both again) is remembered for replies.
    for (const auto& [o, message_ids] : mailed)
      for (const auto& id : message_ids) {
        auto linked = tx.put_mail_link({id, o.ticket, "out", o.event_seq, now});
        if (!linked && linked.error().code != errc::conflict) return linked.error();
      }
    return {};
  }));
  return r;
}

engine::Result<engine::webhook_attempt> outbox_worker::deliver_webhook(const engine::outbox_item& o,
                                                                       const std::atomic<bool>* cancel) {
  std::int64_t id = 0;
  try {
    id = std::stoll(o.target);
  } catch (...) {
    return make_error(errc::not_found, fmt::format("outbox row {} names no webhook", o.id));
  }
  auto hook = store_.find_webhook(id);
  PLAINT_TRY(hook);
  if (!*hook || (*hook)->removed_at) return make_error(errc::not_found, fmt::format("webhook {} was removed", id));
  const engine::webhook& w = **hook;
  const std::int64_t last = std::max(o.last_seq, o.event_seq);
  // The events of the row, as logged (one transaction's: a bounded few).
  std::vector<engine::event_record> events;
  PLAINT_TRY(store_.scan_events(o.event_seq - 1, [&](const engine::event_record& e) {
    if (e.seq > last) return false;
    if (engine::webhook_wants(w, e.event)) events.push_back(e);
    return e.seq < last;
  }));
  if (events.empty() || events.front().seq != o.event_seq)
    return make_error(errc::not_found, fmt::format("event {} of outbox row {} is not in the log", o.event_seq, o.id));
  engine::webhook_attempt a;
  // Each body carries the ticket as it is now: read once per ticket.
  std::map<engine::ticket_id, engine::ticket> tickets;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (cancel && cancel->load()) {
      a.stopped_at = e.seq;
      a.left = static_cast<int>(events.size() - i);
      a.cancelled = true;
      break;
    }
    auto t = tickets.find(e.ticket);
    if (t == tickets.end()) {
      auto read = store_.get_ticket(e.ticket);
      PLAINT_TRY(read);
      t = tickets.emplace(e.ticket, std::move(*read)).first;
    }
    bool reached = false;
    engine::Status posted = post_event(w, fmt::format("{}-{}", w.id, e.seq), e.event,
                                       engine::webhook_body(e, t->second).dump(), reached);
    if (posted) {
      ++a.delivered;
    } else if (reached) {
      a.refused.emplace_back(e.seq, posted.error().message);
    } else {
      // Not reached: the rest would not be either; they wait together.
      a.stopped_at = e.seq;
      a.left = static_cast<int>(events.size() - i);
      a.error = posted.error().message;
      break;
    }
  }
  return a;
}

engine::Status outbox_worker::post_event(const engine::webhook& w, const std::string& delivery,
                                         const std::string& event, const std::string& body, bool& reached) {
  reached = false;
  CURL* h = static_cast<CURL*>(http_.get());
  if (!h) return make_error(errc::internal, "cannot start an HTTP client");
  curl_easy_reset(h);  // options of the last delivery go; its connections stay
  curl_lists c;
  const std::string headers[] = {
      "Content-Type: application/json",
      "User-Agent: plaint",
      "X-Plaint-Delivery: " + delivery,
      "X-Plaint-Event: " + event,
      fmt::format("X-Plaint-Timestamp: {}", clock_.now()),
      "X-Plaint-Signature: sha256=" + webhook_signature(w.secret, body),
      "Expect:",
  };
  for (const auto& line : headers) c.list = curl_slist_append(c.list, line.c_str());
  std::size_t answered = 0;
  curl_easy_setopt(h, CURLOPT_URL, w.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, c.list);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answered);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c.error);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status >= 200))
    return make_error(errc::unavailable,
                      fmt::format("POST {}: {}", w.url, c.error[0] ? c.error : curl_easy_strerror(rc)));
  reached = true;
  if (status < 200 || status > 299)
    return make_error(errc::unavailable, fmt::format("POST {}: the receiver answered {}", w.url, status));
  return {};
}

engine::Status outbox_worker::deliver_email(const engine::outbox_item& o, std::vector<std::string>& message_ids) {
  auto people = store_.list_people();
  PLAINT_TRY(people);
  auto t = store_.get_ticket(o.ticket);
  PLAINT_TRY(t);
  // Recipients by language: one mail per language, each in its own.
  std::map<std::string, std::vector<std::string>> to;
  std::set<std::string> seen;
  auto add = [&](const engine::person& p) {
    if (p.disabled || p.email.empty() || !seen.insert(p.email).second) return;
    to[p.lang == "zh" ? "zh" : "en"].push_back(p.email);
  };
  std::string who = o.target;
  if (o.target.rfind("owner:", 0) == 0) {
    const std::string owner = o.target.substr(6);
    for (const auto& p : *people)
      if (p.id == owner) add(p);
  } else if (o.target == "team_lead") {
    const std::string team = fmt::format("L{}", t->level);
    for (const auto& p : *people)
      if (p.role == "supervisor" && p.team == team) add(p);
    if (to.empty())  // no lead of that level in the directory: every supervisor
      for (const auto& p : *people)
        if (p.role == "supervisor") add(p);
    who = "the team lead of level " + std::to_string(t->level);
  } else if (o.target == "supervisor") {
    for (const auto& p : *people)
      if (p.role == "supervisor") add(p);
  }
  if (to.empty())
    return make_error(errc::not_found, fmt::format("no active person with an email address is {}", who));

  const auto payload = engine::json::parse(o.payload, nullptr, false);
  const std::string message = payload.is_object() ? payload.value("message", "") : "";
  const std::string domain = domain_of(settings_.mail_from);
  for (const auto& [lang, addresses] : to) {
    const auto [subject, text] = notification_text(o, *t, message, lang);
    // The first language keeps the plain id; another one is told apart by it.
    const std::string id = message_ids.empty() ? fmt::format("plaint.{}.{}.{}@{}", o.ticket, o.event_seq, o.id, domain)
                                               : fmt::format("plaint.{}.{}.{}-{}@{}", o.ticket, o.event_seq, o.id, lang, domain);
    const std::string mail = compose_mail(settings_.mail_from, addresses, subject, text, id, clock_.now());
    PLAINT_TRY(send_mail(addresses, mail));
    message_ids.push_back(id);
  }
  return {};
}

engine::Status outbox_worker::send_mail(const std::vector<std::string>& to, const std::string& mail) {
  curl_handle c;
  if (!c.h) return make_error(errc::internal, "cannot start an SMTP client");
  for (const auto& r : to) c.list = curl_slist_append(c.list, ("<" + r + ">").c_str());
  upload u{mail};
  const std::string from = "<" + settings_.mail_from + ">";
  curl_easy_setopt(c.h, CURLOPT_URL, settings_.smtp_url.c_str());
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_USE_SSL,
                   settings_.smtp_require_tls || !settings_.smtp_user.empty() ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  if (!settings_.smtp_ca.empty()) curl_easy_setopt(c.h, CURLOPT_CAINFO, settings_.smtp_ca.c_str());
  if (!settings_.smtp_user.empty()) {
    curl_easy_setopt(c.h, CURLOPT_USERNAME, settings_.smtp_user.c_str());
    curl_easy_setopt(c.h, CURLOPT_PASSWORD, settings_.smtp_password.c_str());
  }
  curl_easy_setopt(c.h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c.h, CURLOPT_MAIL_RCPT, c.list);
  curl_easy_setopt(c.h, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c.h, CURLOPT_READDATA, &u);
  curl_easy_setopt(c.h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c.h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.size()));
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, c.error);
  const CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK)
    return make_error(errc::unavailable, fmt::format("SMTP {}: {}", settings_.smtp_url,
                                                     c.error[0] ? c.error : curl_easy_strerror(rc)));
  return {};
}

outbox_runner::outbox_runner(std::unique_ptr<engine::store> reads, write_runner writes, const engine::clock& c,
                             delivery_settings settings, std::chrono::milliseconds poll)
    : store_(std::move(reads)), worker_(*store_, std::move(writes), c, std::move(settings)), poll_(poll) {
  thread_ = std::thread([this] { loop(); });
}

outbox_runner::~outbox_runner() { stop(); }

void outbox_runner::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cancel_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void outbox_runner::loop() {
  // Deliveries yield the CPU to transitions: this thread runs only when no
  // other wants the CPU (SCHED_IDLE; nice 19 where that is refused), so
  // the desk's answers come first and the outbox catches up in the slack.
  // A desk that is never idle for long still delivers: SCHED_IDLE threads
  // get a small share, and a backlog is drained as soon as load eases.
  sched_param idle{};
  if (::sched_setscheduler(static_cast<pid_t>(::syscall(SYS_gettid)), SCHED_IDLE, &idle) != 0)
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
  auto reported = std::chrono::steady_clock::time_point{};
  auto pruned = std::chrono::steady_clock::time_point{};
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    if (std::chrono::steady_clock::now() - pruned >= std::chrono::minutes(1)) {
      (void)worker_.prune();  // a failure is retried in a minute
      pruned = std::chrono::steady_clock::now();
    }
    auto r = worker_.run_once(&cancel_);
    std::chrono::milliseconds wait = poll_;
    if (r) {
      delivered_ += r->delivered;
      if (r->attempted() > 0) wait = std::chrono::milliseconds(0);
    } else if (std::chrono::steady_clock::now() - reported > std::chrono::minutes(1)) {
      std::cerr << "plaint: the outbox could not be delivered: " << r.error().message << std::endl;
      reported = std::chrono::steady_clock::now();
    }
    lock.lock();
    if (wait.count() > 0) cv_.wait_for(lock, wait, [this] { return stop_; });
  }
}

}  // namespace plaint::server
