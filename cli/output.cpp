#include "cli/output.h"

#include <iostream>
#include <utility>

#include <fmt/format.h>

#include "engine/utf8.h"

namespace plaint::cli {

using engine::format_duration;
using engine::format_iso;
using engine::json;

void print_json(const json& j) { std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n'; }

int print_error(const engine::Error& e, bool as_json) {
  if (as_json)
    std::cerr << json{{"error", {{"code", engine::errc_name(e.code)}, {"message", e.message}}}}.dump() << '\n';
  else
    std::cerr << "plaint: " << printable(e.message) << '\n';  // messages quote input
  return engine::exit_code(e.code);
}

namespace {

// Terminal columns of a code point: East Asian wide characters take two.
int columns(char32_t cp) {
  if (cp < 0x1100) return 1;
  if (cp <= 0x115F || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000)
    return 2;
  return 1;
}

// The code point at s[i] and its length in bytes; length 0 where the bytes
// are not well-formed UTF-8.
std::pair<char32_t, std::size_t> decode(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  std::size_t n = 0;
  char32_t cp = 0, min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {0, 0};
  }
  if (i + n > s.size()) return {0, 0};
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0, 0};
  return {cp, n};
}

// Code points that are not controls but still steer a terminal's layout:
// the bidirectional marks and overrides, and the line separators.
bool steers_layout(char32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

// U+2400 + c, the visible symbol of C0 control c (U+2421 for DEL).
void append_symbol(std::string& out, unsigned c) {
  out += "\xE2\x90";
  out += static_cast<char>(0x80 + c);
}

std::size_t width_of(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) w += columns(engine::utf8_next(s, i));
  return w;
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  const std::size_t w = width_of(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string when(const std::optional<engine::timestamp>& t) { return t ? format_iso(*t) : "-"; }

std::string clock_line(const char* label, const std::optional<engine::timestamp>& due,
                       const std::optional<engine::timestamp>& done, bool paused, engine::timestamp now) {
  if (!due) return fmt::format("  {:<16} no target\n", label);
  std::string status;
  if (done)
    status = *done <= *due ? fmt::format("met at {}", format_iso(*done))
                           : fmt::format("met late at {} (by {})", format_iso(*done), format_duration(*done - *due));
  else if (paused)
    status = "paused";
  else if (now <= *due)
    status = fmt::format("{} left", format_duration(*due - now));
  else
    status = fmt::format("OVERDUE by {}", format_duration(now - *due));
  return fmt::format("  {:<16} due {}  {}\n", label, format_iso(*due), status);
}

}  // namespace

std::string printable(std::string_view s, bool multiline, std::size_t indent) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto [cp, n] = decode(s, i);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (cp == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {  // CR LF is one line feed
      ++i;
      continue;
    }
    if (cp == '\n' || cp == '\t' || (cp == '\r' && !multiline)) {
      if (!multiline)
        out += ' ';
      else if (cp == '\t')
        out += '\t';
      else
        out.append(1, '\n').append(indent, ' ');
    } else if (cp < 0x20) {
      append_symbol(out, static_cast<unsigned>(cp));
    } else if (cp == 0x7F) {
      append_symbol(out, 0x21);
    } else if ((cp >= 0x80 && cp <= 0x9F) || steers_layout(cp)) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
    } else {
      out.append(s, i, n);
    }
    i += n;
  }
  return out;
}

std::string clip(std::string_view s, std::size_t width) {
  const std::string flat = printable(s);
  if (width == 0 || width_of(flat) <= width) return flat;
  std::string out;
  std::size_t w = 0;
  for (std::size_t i = 0; i < flat.size();) {
    const std::size_t start = i;
    const auto cw = static_cast<std::size_t>(columns(engine::utf8_next(flat, i)));
    if (w + cw > width - 1) break;
    out.append(flat, start, i - start);
    w += cw;
  }
  return out + "…";
}

std::string ticket_page(const engine::ticket& t, const std::vector<engine::event_record>& history,
                        std::int64_t earlier, engine::timestamp now) {
  const auto sla = engine::sla_of(t, now);
  std::string out;
  auto p = [](std::string_view text) { return printable(text); };
  out += fmt::format("#{}  {}  [{}]  {}  level {}{}\n", t.id, p(t.workflow), p(t.state), p(t.priority), t.level,
                     sla.breached() ? "  BREACHED" : "");
  out += fmt::format("subject      {}\n", p(t.subject));
  if (!t.description.empty()) out += fmt::format("description  {}\n", printable(t.description, true, 13));
  out += fmt::format("customer     {} ({})    channel {}    category {}\n", p(t.customer), p(t.tier), p(t.channel),
                     p(t.category));
  out += fmt::format("owner        {}    hand-offs {}    reopened {}    version {}\n",
                     t.owner.empty() ? "(unassigned)" : p(t.owner), t.handoff_count, t.reopen_count, t.version);
  out += fmt::format("opened       {} ({} ago)    updated {}\n", format_iso(t.created_at),
                     format_duration(now - t.created_at), format_iso(t.updated_at));
  if (!t.resolution_code.empty() || t.csat)
    out += fmt::format("resolution   {}{}{}\n", t.resolution_code.empty() ? "-" : p(t.resolution_code),
                       t.root_cause.empty() ? "" : "    root cause " + p(t.root_cause),
                       t.csat ? fmt::format("    csat {}/5", *t.csat) : "");
  out += "SLA\n";
  const bool done = t.closed_at.has_value();
  out += clock_line("first response", t.first_response_due, t.first_response_at ? t.first_response_at
                                                                                 : (done ? t.closed_at : std::nullopt),
                    false, now);
  out += clock_line("resolution", t.resolution_due, t.resolved_at ? t.resolved_at : (done ? t.closed_at : std::nullopt),
                    sla.paused, now);
  if (t.follow_up_due) out += fmt::format("  {:<16} due {}\n", "follow-up", when(t.follow_up_due));
  if (earlier > 0)
    out += fmt::format("history (the newest {} events; {} earlier not shown: plaint show {} --all)\n", history.size(),
                       earlier, t.id);
  else
    out += "history\n";
  for (const auto& e : history) {
    out += fmt::format("  {:>4}  {}  {:<12} {:<16} {} -> {}\n", e.seq, format_iso(e.at), clip(e.actor, 12),
                       p(e.event), e.from_state.empty() ? "(new)" : p(e.from_state), p(e.to_state));
    if (auto note = e.payload.find("note"); note != e.payload.end() && note->is_string())
      out += fmt::format("        “{}”\n", clip(note->get<std::string>(), 100));
  }
  return out;
}

std::string ticket_table(const std::vector<engine::ticket>& tickets, engine::timestamp now) {
  if (tickets.empty()) return "no tickets\n";
  std::string out = fmt::format("{:>6}  {:<18} {:<3} {:<3} {:<14} {:<14} {:<8} {}\n", "id", "state", "pri", "lvl",
                                "owner", "customer", "age", "subject");
  for (const auto& t : tickets) {
    const bool breached = engine::sla_of(t, now).breached();
    out += fmt::format("{:>6}  {:<18} {:<3} {:<3} {} {} {:<8} {}{}\n", t.id, printable(t.state), t.priority, t.level,
                       pad(clip(t.owner.empty() ? "-" : t.owner, 14), 14), pad(clip(t.customer, 14), 14),
                       format_duration(now - t.created_at), breached ? "! " : "", clip(t.subject, 60));
  }
  return out;
}

}  // namespace plaint::cli
