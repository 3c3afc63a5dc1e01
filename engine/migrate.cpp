#include "engine/migrate.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>

namespace plaint::engine {

namespace {

// A file of the move's own, removed however the move ends.
struct scratch_file {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               fmt::format("plaint-migrate-{}.jsonl", static_cast<long>(::getpid()));
  ~scratch_file() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

// The policy, people, tokens, webhooks, notifications, attachments and
// pending deliveries, in `to`'s open transaction.
Status copy_the_rest(store& from, store_transaction& to, migrate_counts& n) {
  for (const char* key : {"policy", "policy_name", "policy_history"}) {
    auto v = from.get_setting(key);
    PLAINT_TRY(v);
    if (*v) PLAINT_TRY(to.put_setting(key, **v));
  }
  auto people = from.list_people();
  PLAINT_TRY(people);
  for (const auto& p : *people) PLAINT_TRY(to.put_person(p));
  n.people = static_cast<std::int64_t>(people->size());
  auto tokens = from.list_tokens();
  PLAINT_TRY(tokens);
  for (const auto& t : *tokens) PLAINT_TRY(to.put_token(t));
  n.tokens = static_cast<std::int64_t>(tokens->size());
  auto hooks = from.list_webhooks();
  PLAINT_TRY(hooks);
  for (const auto& h : *hooks) {
    auto id = to.put_webhook(h);
    PLAINT_TRY(id);
  }
  n.webhooks = static_cast<std::int64_t>(hooks->size());
  auto pending = from.list_outbox("", "", "pending", max_pending_deliveries);
  PLAINT_TRY(pending);
  for (auto o : *pending) {
    o.claimed_until.reset();
    PLAINT_TRY(to.add_outbox(o));
  }
  n.deliveries = static_cast<std::int64_t>(pending->size());
  std::optional<Error> failed;
  auto ok = [&failed](const auto& r) {
    if (!r) failed = r.error();
    return static_cast<bool>(r);
  };
  PLAINT_TRY(from.scan_tickets([&](const ticket& t) {
    auto notes = from.ticket_notifications(t.id);
    auto files = from.ticket_attachments(t.id);
    if (!ok(notes) || !ok(files)) return false;
    for (const auto& x : *notes) {
      if (!ok(to.add_notification(x))) return false;
      ++n.notifications;
    }
    for (const auto& listed : *files) {
      auto full = from.get_attachment(listed.id);
      if (!ok(full)) return false;
      if (!*full) continue;  // removed meanwhile
      if (!ok(to.add_attachment(**full))) return false;
      ++n.attachments;
    }
    return true;
  }));
  if (failed) return *failed;
  return {};
}

}  // namespace

Result<migrate_counts> migrate_database(store& from, store& to, const workflow_registry& workflows,
                                        const std::function<void(std::int64_t, std::int64_t)>& progress) {
  migrate_counts n;
  // Checked before anything is written.
  auto pending = from.list_outbox("", "", "pending", max_pending_deliveries);
  PLAINT_TRY(pending);
  if (static_cast<int>(pending->size()) >= max_pending_deliveries)
    return make_error(errc::invalid, fmt::format("the source has {} or more deliveries pending; deliver them first "
                                                 "(plaint notify run --once) and move the desk then",
                                                 max_pending_deliveries));
  scratch_file file;
  {
    std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(errc::internal, fmt::format("cannot write the scratch file {}", file.path.string()));
    auto exported = export_jsonl(from, out);
    PLAINT_TRY(exported);
    n.records = *exported;
  }
  const std::int64_t total = n.records.customers + n.records.tickets + n.records.events + n.records.timers +
                             n.records.customer_changes;
  std::ifstream in(file.path, std::ios::binary);
  // One transaction: the records and the rest commit together or not at all.
  auto imported = import_jsonl(
      to, workflows, in,
      [&](std::int64_t lines) {
        if (progress) progress(lines, total);
      },
      [&](store_transaction& tx) { return copy_the_rest(from, tx, n); });
  PLAINT_TRY(imported);
  if (progress) progress(total, total);
  return n;
}

}  // namespace plaint::engine
