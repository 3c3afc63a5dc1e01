#include "server/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <iterator>
#include <random>

#include <fmt/format.h>

#include "engine/time.h"

namespace plaint::server {

namespace {

const char* level_name(log_level l) {
  switch (l) {
    case log_level::error: return "error";
    case log_level::warn: return "warn";
    case log_level::info: return "info";
    case log_level::debug: return "debug";
  }
  return "info";
}

std::string now_iso_ms() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::string iso = engine::format_iso(ms / 1000);  // ...T08:00:00Z
  iso.pop_back();
  return fmt::format("{}.{:03}Z", iso, ms % 1000);
}

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

// One write(2): lines from several threads never interleave (a pipe takes
// up to PIPE_BUF bytes atomically; journald reads whole lines).
void write_line(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr gone: the log is best effort
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void logger::write(log_level l, std::string_view msg, const engine::json& fields) const {
  if (!enabled(l)) return;
  engine::json line{{"time", now_iso_ms()}, {"level", level_name(l)}, {"msg", msg}};
  for (const auto& [k, v] : fields.items()) line[k] = v;
  std::string text = line.dump(-1, ' ', false, engine::json::error_handler_t::replace);
  text += '\n';
  write_line(fd_, text);
}

void logger::request(const request_line& r) const {
  if (!enabled(log_level::info)) return;
  std::string text;
  text.reserve(256);
  text += "{\"time\":\"";
  text += now_iso_ms();
  text += "\",\"level\":\"info\",\"msg\":\"request\",\"method\":";
  engine::append_json_string(text, r.method);
  text += ",\"route\":";
  engine::append_json_string(text, r.route);
  fmt::format_to(std::back_inserter(text), ",\"status\":{},\"duration_ms\":{},\"actor\":", r.status,
                 std::round(r.duration_ms * 100) / 100);
  if (r.actor.empty())
    text += "null";
  else
    engine::append_json_string(text, r.actor);
  text += ",\"ticket\":";
  text += r.ticket ? std::to_string(*r.ticket) : std::string("null");
  text += ",\"request_id\":";
  engine::append_json_string(text, r.request_id);
  text += "}\n";
  write_line(fd_, text);
}

std::optional<log_level> parse_log_level(std::string_view text) {
  for (auto l : {log_level::error, log_level::warn, log_level::info, log_level::debug})
    if (text == level_name(l)) return l;
  return std::nullopt;
}

std::string request_id_for(const std::string& offered) {
  if (!offered.empty() && offered.size() <= 64) {
    bool ok = true;
    for (const char c : offered) ok = ok && id_char(c);
    if (ok) return offered;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

}  // namespace plaint::server
