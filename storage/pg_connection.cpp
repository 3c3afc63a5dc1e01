#include "storage/pg_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace plaint::storage::pg {

using engine::errc;
using engine::Error;

// ---- params -----------------------------------------------------------------

void params::push(std::optional<std::string> v, int format) {
  values_.push_back(std::move(v));
  formats_.push_back(format);
  refresh();
}

void params::set(int i, std::optional<std::string> v, int format) {
  const auto at = static_cast<std::size_t>(i - 1);
  if (values_.size() <= at) {
    values_.resize(at + 1);
    formats_.resize(at + 1, 0);
  }
  values_[at] = std::move(v);
  formats_[at] = format;
  refresh();
}

void params::refresh() {
  // The pointers are rebuilt: a change may have moved the strings.
  pointers_.clear();
  lengths_.clear();
  for (const auto& x : values_) {
    pointers_.push_back(x ? x->data() : nullptr);
    lengths_.push_back(x ? static_cast<int>(x->size()) : 0);
  }
}

params& params::add(std::int64_t v) {
  push(std::to_string(v), 0);
  return *this;
}

params& params::add(std::string_view v) {
  push(std::string(v), 0);
  return *this;
}

params& params::add(const std::optional<std::int64_t>& v) {
  push(v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt, 0);
  return *this;
}

params& params::add(const std::optional<std::string>& v) {
  push(v, 0);
  return *this;
}

params& params::add_null() {
  push(std::nullopt, 0);
  return *this;
}

params& params::add_bytes(std::string_view bytes) {
  push(std::string(bytes), 1);
  return *this;
}

// ---- result -----------------------------------------------------------------

result::result(pg_result* r) : r_(r) {}
result::result(result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
result& result::operator=(result&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}
result::~result() {
  if (r_) PQclear(r_);
}

int result::rows() const { return r_ ? PQntuples(r_) : 0; }
int result::columns() const { return r_ ? PQnfields(r_) : 0; }
bool result::null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

std::string_view result::view(int row, int col) const {
  return std::string_view(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::string result::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::int64_t result::integer(int row, int col) const {
  if (null(row, col)) return 0;
  const char* v = PQgetvalue(r_, row, col);
  std::int64_t out = 0;
  std::from_chars(v, v + PQgetlength(r_, row, col), out);
  return out;
}

std::optional<std::int64_t> result::opt_integer(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return integer(row, col);
}

std::optional<std::string> result::opt_text(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return text(row, col);
}

bool result::boolean(int row, int col) const { return !null(row, col) && PQgetvalue(r_, row, col)[0] == 't'; }

std::string result::bytes(int row, int col) const {
  if (null(row, col)) return {};
  std::size_t n = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (!raw) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

std::string result::command() const { return r_ ? PQcmdStatus(r_) : ""; }

std::int64_t result::affected() const {
  const char* n = r_ ? PQcmdTuples(r_) : "";
  std::int64_t out = 0;
  std::from_chars(n, n + std::strlen(n), out);
  return out;
}

// ---- connection -------------------------------------------------------------

namespace {

// The engine's code for a SQLSTATE (PostgreSQL's appendix A).
errc code_of(std::string_view state) {
  if (state.empty()) return errc::unavailable;  // no answer: the connection is gone
  const std::string_view cls = state.substr(0, 2);
  if (state == "23505" || state == "40001" || state == "40P01") return errc::conflict;
  if (cls == "23" || cls == "22") return errc::invalid;
  if (cls == "08" || cls == "53" || cls == "57" || state == "55P03") return errc::unavailable;
  return errc::internal;
}

// The first line of libpq's message, without its "ERROR:  " prefix.
std::string first_line(const char* message) {
  std::string m = message ? message : "";
  const auto nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  for (const char* prefix : {"ERROR:  ", "FATAL:  "})
    if (m.rfind(prefix, 0) == 0) m.erase(0, std::strlen(prefix));
  return m.empty() ? std::string("no answer from the server") : m;
}

}  // namespace

engine::Result<std::unique_ptr<connection>> connection::open(const std::string& url, std::chrono::seconds timeout) {
  std::unique_ptr<connection> c(new connection(url, timeout));
  PLAINT_TRY(c->connect());
  return c;
}

connection::~connection() {
  if (conn_) PQfinish(conn_);
}

engine::Status connection::connect() {
  if (conn_) PQfinish(conn_);
  prepared_.clear();
  const std::string timeout = std::to_string(std::max<std::int64_t>(1, timeout_.count()));
  const char* keys[] = {"dbname", "connect_timeout", "client_encoding", "application_name", nullptr};
  const char* values[] = {url_.c_str(), timeout.c_str(), "UTF8", "plaint", nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);  // dbname holds the URL; the rest apply unless it says otherwise
  if (!conn_) return Error{errc::unavailable, "cannot connect to PostgreSQL: out of memory"};
  if (PQstatus(conn_) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    return Error{errc::unavailable, fmt::format("cannot connect to PostgreSQL: {}", first_line(PQerrorMessage(conn_)))};
  }
  // Notices ("relation … already exists, skipping") are not errors and are
  // nobody's business on stderr.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  return {};
}

engine::Status connection::reconnect() { return connect(); }

engine::Result<std::optional<std::int64_t>> connection::wait_notification(std::chrono::milliseconds timeout) {
  auto drain = [this] {
    std::optional<std::int64_t> highest;
    while (PGnotify* n = PQnotifies(conn_)) {
      std::int64_t v = 0;
      const char* text = n->extra ? n->extra : "";
      std::from_chars(text, text + std::strlen(text), v);
      highest = std::max(highest.value_or(0), v);
      PQfreemem(n);
    }
    return highest;
  };
  auto lost = [this] {
    return Error{errc::unavailable, fmt::format("lost the connection to PostgreSQL: {}", first_line(PQerrorMessage(conn_)))};
  };
  if (!ok()) return lost();
  if (auto heard = drain()) return heard;
  pollfd fd{PQsocket(conn_), POLLIN, 0};
  const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) return lost();
  if (ready <= 0) return std::optional<std::int64_t>();
  if (!PQconsumeInput(conn_) || !ok()) return lost();
  return drain();
}

bool connection::ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

int connection::server_version() const { return conn_ ? PQserverVersion(conn_) : 0; }

std::string connection::describe() const {
  if (!conn_) return "postgresql (not connected)";
  const int v = PQserverVersion(conn_);
  return fmt::format("postgresql {}.{}, {}@{}:{}/{}", v / 10000, v % 100, PQuser(conn_), PQhost(conn_), PQport(conn_),
                     PQdb(conn_));
}

engine::Error connection::failure(pg_result* r, std::string_view what) const {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* message = r ? PQresultErrorMessage(r) : nullptr;
  if (!message || !*message) message = PQerrorMessage(conn_);
  return Error{code_of(state ? state : ""), fmt::format("{}: {}", what, first_line(message))};
}

engine::Result<result> connection::checked(result r, std::string_view what) const {
  pg_result* raw = r.get();
  const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure(raw, what);
  return r;
}

engine::Result<result> connection::exec(std::string_view sql, std::string_view what) {
  if (!ok()) return Error{errc::unavailable, fmt::format("{}: the connection to PostgreSQL is lost", what)};
  const std::string text(sql);
  return checked(result(PQexec(conn_, text.c_str())), what);
}

engine::Result<result> connection::run(const std::string& name, const std::string& sql, const params& p,
                                       std::string_view what) {
  if (!ok()) return Error{errc::unavailable, fmt::format("{}: the connection to PostgreSQL is lost", what)};
  if (name.empty()) {  // planned for these parameters, every time
    return checked(result(PQexecParams(conn_, sql.c_str(), p.size(), nullptr, p.values(), p.lengths(), p.formats(), 0)),
                   what);
  }
  if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
    result prep(PQprepare(conn_, name.c_str(), sql.c_str(), p.size(), nullptr));
    pg_result* raw = prep.get();
    if (!raw || PQresultStatus(raw) != PGRES_COMMAND_OK) return failure(raw, what);
    prepared_.push_back(name);
  }
  return checked(result(PQexecPrepared(conn_, name.c_str(), p.size(), p.values(), p.lengths(), p.formats(), 0)),
                 what);
}

}  // namespace plaint::storage::pg
