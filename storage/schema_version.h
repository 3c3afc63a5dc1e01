// The schema version this build reads and writes, one number for every back
// end: the SQLite and PostgreSQL migrations both end at it.
#pragma once

namespace plaint::storage {

inline constexpr int current_schema = 16;

}  // namespace plaint::storage
