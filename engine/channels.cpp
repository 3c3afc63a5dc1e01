#include "engine/channels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "engine/audit.h"
#include "engine/customers.h"
#include "engine/tokens.h"
#include "engine/utf8.h"

namespace plaint::engine {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : lower(address.substr(at + 1));
}

// The longest prefix of `text` of at most `max_bytes` that ends on a
// character boundary.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

std::string human_size(std::size_t bytes) {
  if (bytes >= 1024 * 1024) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  if (bytes >= 1024) return fmt::format("{:.1f} KB", static_cast<double>(bytes) / 1024.0);
  return fmt::format("{} bytes", bytes);
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (end == text.size()) break;
    at = end + 1;
  }
  return out;
}

}  // namespace

// ---- mail in ----------------------------------------------------------------

std::string noise_reason(const inbound_mail& m, std::string_view own_address) {
  if (m.delivery_report || m.null_return_path || starts_with(m.from_address, "mailer-daemon@") ||
      starts_with(m.from_address, "postmaster@"))
    return "a bounce (a delivery report or a message with an empty Return-Path)";
  if (!m.auto_submitted.empty() && m.auto_submitted != "no")
    return fmt::format("an automatic message (Auto-Submitted: {})", m.auto_submitted);
  if (m.autoreply_header) return "an auto-reply (X-Autoreply)";
  if (m.precedence == "bulk" || m.precedence == "list" || m.precedence == "junk")
    return fmt::format("bulk mail (Precedence: {})", m.precedence);
  if (m.list_message) return "mailing-list mail (List-Id or List-Unsubscribe)";
  if (!own_address.empty() && lower(m.from_address) == lower(own_address))
    return fmt::format("a message from plaint's own address {}, which would loop", own_address);
  return {};
}

std::string trim_quoted(std::string_view text) {
  static const std::regex original(R"(^\s*-{2,}\s*(original message|ursprüngliche nachricht|原始邮件)\s*-{2,}\s*$)",
                                   std::regex::icase);
  static const std::regex attribution(R"(^\s*(on\s.+\swrote:|.+写道[:：]?)\s*$)", std::regex::icase);
  static const std::regex outlook_from(R"(^\s*(from|发件人)\s*[:：].*)", std::regex::icase);
  static const std::regex outlook_sent(R"(^\s*(sent|date|发送时间)\s*[:：].*)", std::regex::icase);
  const auto lines = lines_of(text);
  std::vector<std::string_view> kept;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string line(lines[i]);
    if (line == "-- " || line == "--") break;  // the signature
    if (std::regex_match(line, original)) break;
    if (std::regex_match(line, outlook_from) && i + 1 < lines.size() &&
        std::regex_match(std::string(lines[i + 1]), outlook_sent))
      break;
    if (std::regex_match(line, attribution)) {
      // An attribution counts only when quoted text follows it.
      std::size_t j = i + 1;
      while (j < lines.size() && trim(lines[j]).empty()) ++j;
      if (j == lines.size() || starts_with(lines[j], ">")) break;
    }
    if (starts_with(line, ">")) continue;
    kept.push_back(lines[i]);
  }
  std::string out;
  for (const auto& l : kept) {
    out.append(l);
    out.push_back('\n');
  }
  const std::string_view left = trim(out);
  if (left.empty()) return std::string(trim(text));
  return std::string(left);
}

std::optional<ticket_id> reply_ticket(store_transaction& tx, const inbound_mail& m, std::string_view own_address) {
  static const std::regex tag(R"(\[plaint #([0-9]{1,18})\])", std::regex::icase);
  static const std::regex own_id(R"(^plaint\.([0-9]{1,18})\.[0-9]+\.[0-9]+(?:-[a-z]+)?@(.+)$)");
  std::smatch hit;
  if (std::regex_search(m.subject, hit, tag)) return std::stoll(hit[1].str());
  const std::string own_domain = domain_of(own_address);
  for (const auto& ref : m.references) {
    auto link = tx.find_mail_link(ref);
    if (link && *link && (*link)->direction == "out") return (*link)->ticket;
    if (std::regex_match(ref, hit, own_id) && (own_domain.empty() || lower(hit[2].str()) == own_domain))
      return std::stoll(hit[1].str());
  }
  return std::nullopt;
}

std::string clean_file_name(std::string_view name) {
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string out;
  for (unsigned char c : name)
    if (c >= 0x20 && c != 0x7F) out.push_back(static_cast<char>(c));
  if (!valid_utf8(out)) out.clear();
  out = std::string(utf8_prefix(trim(out), 200));
  while (!out.empty() && out.front() == '.') out.erase(0, 1);  // no hidden files
  return out.empty() ? std::string("attachment") : out;
}

Result<ingest_outcome> ingest_mail(executor& ex, const inbound_mail& m, const mail_options& o) {
  ingest_outcome out;
  out.noise = noise_reason(m, o.own_address);
  if (!out.noise.empty()) return out;

  const std::string address = lower(trim(m.from_address));
  if (address.empty() || address.find('@') == std::string::npos || address.size() > max_id_bytes ||
      !valid_utf8(address))
    return make_error(errc::invalid, "the message has no usable sender address (From)");
  const std::string_view body = trim(m.text);
  const std::string_view subject_in = trim(m.subject);
  if (body.empty() && subject_in.empty() && m.attachments.empty())
    return make_error(errc::invalid, "the message has no subject, no text and no attachment");
  std::string message_id = m.message_id;
  if (message_id.empty() || message_id.size() > 900) {
    if (m.fingerprint.empty()) return make_error(errc::invalid, "the message has no Message-ID and no fingerprint");
    message_id = "sha256." + m.fingerprint + "@no-message-id.plaint";
  }

  // Attachments over the limits are not kept; the text says so.
  std::vector<const mail_attachment*> kept;
  for (const auto& a : m.attachments) {
    const std::string name = clean_file_name(a.name);
    if (a.data.size() > o.max_attachment_bytes)
      out.dropped.push_back(fmt::format("{} ({}, over the {} limit)", name, human_size(a.data.size()),
                                        human_size(o.max_attachment_bytes)));
    else if (kept.size() >= o.max_attachments)
      out.dropped.push_back(fmt::format("{} (more than {} attachments)", name, o.max_attachments));
    else
      kept.push_back(&a);
  }
  auto with_notes = [&](std::string text) {
    // Longer text than a ticket holds is cut at a character; the rest stays
    // in the attachment `message.txt`.
    if (!out.dropped.empty()) {
      text += "\n\n[not kept: ";
      for (std::size_t i = 0; i < out.dropped.size(); ++i) text += (i ? "; " : "") + out.dropped[i];
      text += "]";
    }
    return text;
  };

  const timestamp now = ex.time_source().now();
  store& s = ex.storage();
  auto tx = s.begin();
  PLAINT_TRY(tx);
  auto seen = (*tx)->find_mail_link(message_id);
  PLAINT_TRY(seen);
  if (*seen) {
    out.duplicate = true;
    out.ticket = (*seen)->ticket;
    return out;
  }

  // The customer: by address, else a new one named after the sender.
  auto by_email = (*tx)->find_customer_by_email(address);
  PLAINT_TRY(by_email);
  if (*by_email) {
    out.customer = (*by_email)->id;
  } else {
    auto by_id = (*tx)->find_customer(address);
    PLAINT_TRY(by_id);
    out.customer = address;
    if (!*by_id) {
      customer_update u;
      u.id = address;
      const std::string_view name = trim(m.from_name);
      u.name = std::string(name.empty() || !valid_utf8(name) ? address.substr(0, address.find('@')) :
                           utf8_prefix(name, max_subject_bytes));
      u.tier = "standard";
      u.email = address;
      u.actor = "mail";
      PLAINT_TRY(check_customer_update(u));
      auto made = put_customer_in(**tx, u, now);
      PLAINT_TRY(made);
      out.new_customer = true;
    }
  }

  const std::string actor = "mail:" + std::string(utf8_prefix(address, max_id_bytes - 5));
  std::string full_text(body);
  bool text_cut = false;
  std::optional<ticket> target;
  if (auto named = reply_ticket(**tx, m, o.own_address)) {
    auto t = (*tx)->find_ticket(*named);
    PLAINT_TRY(t);
    if (*t && (*t)->state != "closed") target = std::move(**t);
  }

  transition_result done;
  if (target) {
    std::string note = trim_quoted(full_text);
    if (note.size() > max_text_bytes - 512) {
      note = std::string(utf8_prefix(note, max_text_bytes - 512)) + "\n[… the whole message is attached as message.txt]";
      text_cut = true;
    }
    note = with_notes(note.empty() ? std::string("(the reply has no text)") : note);
    event_request r;
    r.ticket = target->id;
    const workflow* wf = ex.workflows().find(target->workflow);
    r.event = wf && target->state == "awaiting_customer" ? "customer_replied" : "comment";
    r.note = note;
    r.actor = actor;
    auto applied = ex.apply_within(**tx, r);
    PLAINT_TRY(applied);
    done = std::move(*applied);
    out.event = r.event;
  } else {
    open_request r;
    r.customer = out.customer;
    r.subject = std::string(utf8_prefix(subject_in.empty() ? std::string_view("(no subject)") : subject_in,
                                        max_subject_bytes));
    std::string description(full_text);
    if (description.size() > max_text_bytes - 512) {
      description = std::string(utf8_prefix(description, max_text_bytes - 512)) +
                    "\n[… the whole message is attached as message.txt]";
      text_cut = true;
    }
    r.description = with_notes(description);
    r.channel = "email";
    r.actor = actor;
    auto opened = ex.open_within(**tx, r);
    PLAINT_TRY(opened);
    done = std::move(*opened);
    out.created = true;
    out.event = "open";
  }
  out.ticket = done.ticket_after.id;
  const std::int64_t seq = done.event.seq;

  PLAINT_TRY((*tx)->put_mail_link({message_id, out.ticket, "in", seq, now}));
  auto keep = [&](std::string name, std::string type, const std::string& data) -> Status {
    attachment a;
    a.ticket = out.ticket;
    a.event_seq = seq;
    a.name = std::move(name);
    a.content_type = std::move(type);
    a.size = static_cast<std::int64_t>(data.size());
    a.sha256 = sha256_hex(data);
    a.data = data;
    a.at = now;
    auto id = (*tx)->add_attachment(a);
    PLAINT_TRY(id);
    a.id = *id;
    a.data.clear();
    out.attachments.push_back(std::move(a));
    return {};
  };
  if (text_cut) PLAINT_TRY(keep("message.txt", "text/plain; charset=utf-8", full_text));
  for (const auto* a : kept) {
    std::string type = lower(trim(a->content_type));
    if (type.empty() || type.size() > 200 || !valid_utf8(type)) type = "application/octet-stream";
    PLAINT_TRY(keep(clean_file_name(a->name), type, a->data));
  }
  PLAINT_TRY((*tx)->commit());
  return out;
}

// ---- out --------------------------------------------------------------------

std::int64_t retry_delay(int attempts, double jitter, std::int64_t retry_base) {
  const int n = std::clamp(attempts, 1, 20);
  const double base = std::min(static_cast<double>(std::max<std::int64_t>(retry_base, 1)) * std::pow(2.0, n - 1), 3600.0);
  const double spread = 0.8 + 0.4 * std::clamp(jitter, 0.0, 1.0);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(base * spread)));
}

bool webhook_wants(const webhook& w, std::string_view event) {
  if (w.events.empty()) return true;
  return std::find(w.events.begin(), w.events.end(), event) != w.events.end();
}

json webhook_body(const event_record& e, const ticket& t) {
  return json{{"seq", e.seq},
              {"ticket", e.ticket},
              {"event", e.event},
              {"from", e.from_state.empty() ? json(nullptr) : json(e.from_state)},
              {"to", e.to_state},
              {"at", format_iso(e.at)},
              {"actor", e.actor},
              {"version", e.version},
              {"summary",
               {{"id", t.id},
                {"state", t.state},
                {"priority", t.priority},
                {"level", t.level},
                {"owner", t.owner.empty() ? json(nullptr) : json(t.owner)},
                {"customer", t.customer},
                {"category", t.category},
                {"subject", t.subject}}}};
}

Status queue_webhooks(store_transaction& tx, const event_record& e, const ticket& t, timestamp now) {
  auto hooks = tx.live_webhooks();
  PLAINT_TRY(hooks);
  auto& owed = tx.owed_deliveries();
  for (const auto& w : **hooks) {
    if (!webhook_wants(w, e.event)) continue;
    auto it = std::find_if(owed.begin(), owed.end(), [&](const owed_delivery& d) { return d.hook == w.id; });
    if (it == owed.end()) {
      owed.push_back(owed_delivery{w.id, t.id, e.event, e.seq, e.seq, 1, now});
    } else {
      it->last_seq = e.seq;
      ++it->events;
    }
  }
  return {};
}

// Defined here, beside what it writes: the webhook deliveries the
// transaction owes, one outbox row per webhook (their bodies are built
// when they are delivered, from the events), then the back end's commit.
Status store_transaction::commit() {
  for (const auto& d : owed_) {
    outbox_item o;
    o.channel = "webhook";
    o.ticket = d.ticket;
    o.event_seq = d.first_seq;
    o.last_seq = d.last_seq;
    o.events = d.events;
    o.target = std::to_string(d.hook);
    o.kind = d.kind;
    o.payload = "{}";
    o.created_at = d.at;
    o.next_at = d.at;
    PLAINT_TRY(add_outbox(o));
  }
  owed_.clear();
  return commit_writes();
}

Status queue_email(store_transaction& tx, const notification& n, const ticket& t, timestamp now,
                   timestamp not_before) {
  outbox_item o;
  o.channel = "email";
  o.ticket = t.id;
  o.event_seq = n.event_seq;
  o.last_seq = n.event_seq;
  o.target = n.recipient;
  o.kind = n.kind;
  // The same document as json{...}.dump(), keys sorted, written directly:
  // every escalation that notifies queues one per recipient.
  std::string& p = o.payload;
  p.reserve(160 + n.message.size() + t.subject.size());
  p += "{\"customer\":";
  append_json_string(p, t.customer);
  p += ",\"level\":" + std::to_string(t.level) + ",\"message\":";
  append_json_string(p, n.message);
  p += ",\"owner\":";
  append_json_string(p, t.owner);
  p += ",\"priority\":";
  append_json_string(p, t.priority);
  p += ",\"state\":";
  append_json_string(p, t.state);
  p += ",\"subject\":";
  append_json_string(p, t.subject);
  p += ",\"ticket\":" + std::to_string(t.id) + "}";
  o.created_at = now;
  o.next_at = std::max(now, not_before);
  return tx.add_outbox(o);
}

outbox_item after_attempt(outbox_item o, bool delivered, std::string error, timestamp now,
                          std::int64_t retry_period, double jitter, std::int64_t retry_base) {
  ++o.attempts;
  o.claimed_until.reset();
  if (delivered) {
    o.state = "delivered";
    o.delivered_at = now;
    o.last_error.clear();
    return o;
  }
  o.last_error = std::string(utf8_prefix(error, 1000));
  const timestamp next = now + retry_delay(o.attempts, jitter, retry_base);
  if (next - o.created_at > retry_period) {
    o.state = "failed";
    o.next_at = now;
  } else {
    o.next_at = next;
  }
  return o;
}

std::vector<outbox_item> after_webhook_attempt(const outbox_item& o, const webhook_attempt& a, timestamp now,
                                               std::int64_t retry_period, double jitter, std::int64_t retry_base) {
  std::vector<outbox_item> rows;
  if (a.delivered > 0 || (a.refused.empty() && a.left == 0)) {
    outbox_item done = after_attempt(o, true, "", now, retry_period, jitter, retry_base);
    done.events = a.delivered;
    rows.push_back(std::move(done));
  }
  // The id of `o` goes to the first row that needs one.
  auto next_row = [&](std::int64_t first, std::int64_t last, int events) {
    outbox_item r = o;
    r.id = rows.empty() ? o.id : 0;
    r.event_seq = first;
    r.last_seq = last;
    r.events = events;
    return r;
  };
  if (a.stopped_at > 0 && a.left > 0) {
    outbox_item rest = next_row(a.stopped_at, o.last_seq, a.left);
    if (a.cancelled) {
      rest.claimed_until.reset();
      rest.next_at = now;
      rows.push_back(std::move(rest));
    } else {
      rows.push_back(after_attempt(std::move(rest), false, a.error, now, retry_period, jitter, retry_base));
    }
  }
  for (const auto& [seq, why] : a.refused)
    rows.push_back(after_attempt(next_row(seq, seq, 1), false, why, now, retry_period, jitter, retry_base));
  return rows;
}

Result<webhook> new_webhook(std::string url, std::string_view events_csv, std::string secret, std::string actor,
                            timestamp now) {
  if (!(starts_with(url, "http://") || starts_with(url, "https://")) || url.size() > 2000 || !valid_utf8(url) ||
      url.find_first_of(" \t\r\n") != std::string::npos)
    return make_error(errc::invalid, fmt::format("webhook URL '{}' is not an http:// or https:// URL",
                                                 std::string(utf8_prefix(url, 200))));
  webhook w;
  w.url = std::move(url);
  std::size_t at = 0;
  while (at <= events_csv.size()) {
    std::size_t end = events_csv.find(',', at);
    if (end == std::string_view::npos) end = events_csv.size();
    const std::string_view e = trim(events_csv.substr(at, end - at));
    at = end + 1;
    if (e.empty()) continue;
    if (e.size() > 64 || e.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string_view::npos)
      return make_error(errc::invalid,
                        fmt::format("'{}' is not an event name (lower-case letters and _)", utf8_prefix(e, 64)));
    if (std::find(w.events.begin(), w.events.end(), e) == w.events.end()) w.events.emplace_back(e);
  }
  if (secret.empty()) {
    auto made = random_hex(32);
    PLAINT_TRY(made);
    secret = std::move(*made);
  }
  if (secret.size() < 16 || secret.size() > 200 || !valid_utf8(secret))
    return make_error(errc::invalid, "a webhook secret must be 16 to 200 characters");
  w.secret = std::move(secret);
  PLAINT_TRY(check_required("actor", actor, max_id_bytes));
  w.created_by = std::move(actor);
  w.created_at = now;
  return w;
}

Result<std::int64_t> add_webhook(store_transaction& tx, const webhook& w) {
  auto live = tx.live_webhooks();
  PLAINT_TRY(live);
  if ((*live)->size() >= max_live_webhooks)
    return make_error(errc::invalid, fmt::format("a desk has at most {} webhooks; remove one first", max_live_webhooks));
  return tx.put_webhook(w);
}

json outbox_status_json(const std::vector<outbox_count>& counts, const std::vector<outbox_item>& failed) {
  json c = json::array();
  for (const auto& x : counts)
    c.push_back({{"channel", x.channel},
                 {"state", x.state},
                 {"count", x.count},
                 {"oldest", x.oldest ? json(format_iso(*x.oldest)) : json(nullptr)}});
  json f = json::array();
  for (const auto& o : failed) f.push_back(to_json(o));
  return json{{"counts", std::move(c)}, {"failed", std::move(f)}};
}

json to_json(const outbox_item& o) {
  json j{{"id", o.id},
         {"channel", o.channel},
         {"ticket", o.ticket},
         {"event_seq", o.event_seq},
         {"last_seq", o.last_seq},
         {"events", o.events},
         {"target", o.target},
         {"kind", o.kind},
         {"state", o.state},
         {"attempts", o.attempts},
         {"created_at", format_iso(o.created_at)},
         {"next_at", format_iso(o.next_at)},
         {"last_error", o.last_error.empty() ? json(nullptr) : json(o.last_error)},
         {"delivered_at", o.delivered_at ? json(format_iso(*o.delivered_at)) : json(nullptr)}};
  return j;
}

json to_json(const webhook& w) {
  return json{{"id", w.id},
              {"url", w.url},
              {"events", w.events},
              {"created_by", w.created_by},
              {"created_at", format_iso(w.created_at)},
              {"removed_at", w.removed_at ? json(format_iso(*w.removed_at)) : json(nullptr)}};
}

json to_json(const attachment& a) {
  return json{{"id", a.id},
              {"ticket", a.ticket},
              {"event_seq", a.event_seq},
              {"name", a.name},
              {"content_type", a.content_type},
              {"size", a.size},
              {"sha256", a.sha256},
              {"at", format_iso(a.at)}};
}

}  // namespace plaint::engine
