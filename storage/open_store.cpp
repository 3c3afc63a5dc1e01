#include "storage/open_store.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "storage/pg_store.h"
#include "storage/sqlite_store.h"

namespace plaint::storage {

bool is_postgresql_url(std::string_view where) {
  return where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0;
}

std::string printable_location(std::string_view where) {
  if (!is_postgresql_url(where)) return std::string(where);
  const auto scheme = where.find("://") + 3;
  std::string_view rest = where.substr(scheme);
  rest = rest.substr(0, rest.find('?'));
  const auto at = rest.rfind('@', rest.find('/'));
  if (at == std::string_view::npos) return std::string(where.substr(0, scheme)) + std::string(rest);
  const std::string_view user = rest.substr(0, std::min(rest.find(':'), at));
  return std::string(where.substr(0, scheme)) + std::string(user) + std::string(rest.substr(at));
}

engine::Status require_existing(const std::string& where) {
  if (is_postgresql_url(where)) return {};
  std::error_code ec;
  if (std::filesystem::exists(where, ec) || ec) return {};  // an error to look is the open's to report
  return engine::Error{engine::errc::not_found,
                       fmt::format("database {} does not exist; run plaint init to create it", where)};
}

engine::Result<std::unique_ptr<engine::store>> open_store(const std::string& where,
                                                          std::chrono::milliseconds busy_timeout) {
  if (is_postgresql_url(where)) {
    auto s = pg_store::open(where);
    PLAINT_TRY(s);
    return std::unique_ptr<engine::store>(std::move(*s));
  }
  auto s = sqlite_store::open(where, busy_timeout);
  PLAINT_TRY(s);
  return std::unique_ptr<engine::store>(std::move(*s));
}

engine::Result<std::unique_ptr<engine::commit_feed>> open_commit_feed(const std::string& where) {
  if (!is_postgresql_url(where)) return std::unique_ptr<engine::commit_feed>();
  auto f = pg_commit_feed::open(where);
  PLAINT_TRY(f);
  return std::unique_ptr<engine::commit_feed>(std::move(*f));
}

}  // namespace plaint::storage
