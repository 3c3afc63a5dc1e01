// A read bounded by a deadline stops with `unavailable`, and the connection
// serves the next read once the bound is lifted.
#include <doctest/doctest.h>

#include "tests/storage/store_fixture.h"

using namespace plaint;
using namespace plaint::testing;

TEST_CASE("a read past its deadline stops with unavailable, lifting the bound reads again") {
  store_fixture f;
  {
    raw_db db(f.path);
    // Rows enough that reading them all takes many thousand SQLite steps.
    REQUIRE(db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
                    "INSERT INTO customers (id, name, created_at, updated_at) SELECT 'c' || i, 'C', 0, 0 FROM n")
                .empty());
  }
  f.store->set_deadline(std::chrono::steady_clock::now() + std::chrono::hours(1));
  auto all = f.store->list_customers();
  REQUIRE(all.ok());
  CHECK(all->size() == 5000);

  f.store->set_deadline(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
  auto late = f.store->list_customers();
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == engine::errc::unavailable);
  CHECK(late.error().message.find("--read-timeout") != std::string::npos);

  f.store->set_deadline(std::nullopt);
  auto again = f.store->list_customers();
  REQUIRE(again.ok());
  CHECK(again->size() == 5000);
}
