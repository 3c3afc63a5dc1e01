// A store that forwards every call to a real one, except where a test makes
// begin() or append_event() fail: storage failures a real SQLite file cannot
// be made to produce on cue (a lock timeout in the middle of a transaction,
// as a multi-node back end would report it). Counts begin() calls.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "engine/store.h"

namespace plaint::testing {

class faulty_store final : public engine::store {
 public:
  explicit faulty_store(engine::store& real) : real_(real) {}

  // Asked before each forwarded call (begin() with its 1-based number); an
  // error fails the call without reaching the real store.
  std::function<std::optional<engine::Error>(int)> on_begin;
  std::function<std::optional<engine::Error>(const engine::event_record&)> on_append;
  int begins = 0;
  // When set, scan_period_figures hands over every ticket ever logged (a
  // walk of the whole table, the reference a report's period scan must
  // agree with: compute_kpis keeps only the tickets that touch the period).
  bool periods_by_full_walk = false;

  // Every event appended to ticket `id` fails with `e`.
  void fail_appends_to(engine::ticket_id id, engine::Error e) {
    on_append = [id, e](const engine::event_record& ev) -> std::optional<engine::Error> {
      if (ev.ticket == id) return e;
      return std::nullopt;
    };
  }

  engine::Result<std::unique_ptr<engine::store_transaction>> begin() override {
    ++begins;
    if (on_begin)
      if (auto e = on_begin(begins)) return *e;
    auto tx = real_.begin();
    PLAINT_TRY(tx);
    return std::unique_ptr<engine::store_transaction>(std::make_unique<transaction>(*this, std::move(*tx)));
  }

  engine::Status migrate() override { return real_.migrate(); }
  std::string describe() const override { return real_.describe(); }
  engine::Result<engine::ticket> get_ticket(engine::ticket_id id) override { return real_.get_ticket(id); }
  engine::Result<engine::customer> get_customer(std::string_view id) override { return real_.get_customer(id); }
  engine::Result<std::vector<engine::customer>> list_customers() override { return real_.list_customers(); }
  engine::Result<engine::ticket_page> list_tickets(const engine::ticket_query& q) override {
    return real_.list_tickets(q);
  }
  engine::Result<std::vector<engine::event_record>> ticket_events(engine::ticket_id id) override {
    return real_.ticket_events(id);
  }
  engine::Result<engine::event_page> ticket_history(engine::ticket_id id, std::optional<std::int64_t> before,
                                                    int limit) override {
    return real_.ticket_history(id, before, limit);
  }
  engine::Result<std::vector<engine::customer_change>> customer_history(std::string_view id, int limit) override {
    return real_.customer_history(id, limit);
  }
  engine::Status scan_customer_changes(const std::function<bool(const engine::customer_change&)>& fn) override {
    return real_.scan_customer_changes(fn);
  }
  engine::Result<std::vector<engine::timer>> ticket_timers(engine::ticket_id id) override {
    return real_.ticket_timers(id);
  }
  engine::Result<std::optional<std::string>> get_setting(std::string_view key) override {
    return real_.get_setting(key);
  }
  engine::Result<std::vector<engine::notification>> ticket_notifications(engine::ticket_id id) override {
    return real_.ticket_notifications(id);
  }
  engine::Result<std::optional<engine::api_token>> find_token(std::string_view id) override {
    return real_.find_token(id);
  }
  engine::Result<std::vector<engine::api_token>> list_tokens() override { return real_.list_tokens(); }
  engine::Result<std::optional<engine::person>> find_person(std::string_view id) override {
    return real_.find_person(id);
  }
  engine::Result<std::vector<engine::person>> list_people() override { return real_.list_people(); }
  engine::Result<std::optional<engine::web_session>> find_session(std::string_view id) override {
    return real_.find_session(id);
  }
  engine::Result<std::vector<engine::attachment>> ticket_attachments(engine::ticket_id id) override {
    return real_.ticket_attachments(id);
  }
  engine::Result<std::optional<engine::attachment>> get_attachment(std::int64_t id) override {
    return real_.get_attachment(id);
  }
  engine::Result<std::vector<engine::webhook>> list_webhooks() override { return real_.list_webhooks(); }
  engine::Result<std::optional<engine::webhook>> find_webhook(std::int64_t id) override {
    return real_.find_webhook(id);
  }
  engine::Result<std::vector<engine::outbox_item>> list_outbox(std::string_view channel, std::string_view target,
                                                               std::string_view state, int limit) override {
    return real_.list_outbox(channel, target, state, limit);
  }
  engine::Result<std::vector<engine::outbox_count>> count_outbox() override { return real_.count_outbox(); }
  engine::Result<std::optional<engine::timestamp>> next_outbox_due(std::string_view channel) override {
    return real_.next_outbox_due(channel);
  }
  engine::Result<std::vector<engine::timer>> due_timers(engine::timestamp now, int limit) override {
    return real_.due_timers(now, limit);
  }
  engine::Result<std::optional<engine::timestamp>> next_due() override { return real_.next_due(); }
  engine::Result<std::int64_t> count_pending_timers() override { return real_.count_pending_timers(); }
  engine::Result<std::int64_t> last_event_seq() override { return real_.last_event_seq(); }
  engine::Result<std::vector<engine::ticket>> attention_board(engine::timestamp now, int limit) override {
    return real_.attention_board(now, limit);
  }
  engine::Status scan_customers(const std::function<bool(const engine::customer&)>& fn) override {
    return real_.scan_customers(fn);
  }
  engine::Status scan_tickets(const std::function<bool(const engine::ticket&)>& fn) override {
    return real_.scan_tickets(fn);
  }
  engine::Status scan_tickets_active(engine::timestamp from, engine::timestamp to,
                                     const std::function<bool(const engine::ticket&)>& fn) override {
    return real_.scan_tickets_active(from, to, fn);
  }
  engine::Status scan_period_figures(engine::timestamp from, engine::timestamp to,
                                     const std::function<bool(const engine::ticket_figures&)>& fn) override {
    if (!periods_by_full_walk) return real_.scan_period_figures(from, to, fn);
    return real_.scan_tickets([&](const engine::ticket& t) {
      engine::ticket_figures f;
      f.id = t.id;
      f.created_at = t.created_at;
      f.first_response_at = t.first_response_at;
      f.first_response_due = t.first_response_due;
      f.resolution_due = t.resolution_due;
      f.paused_at = t.paused_at;
      f.resolved_at = t.resolved_at;
      f.closed_at = t.closed_at;
      f.level = t.level;
      f.handoff_count = t.handoff_count;
      f.reopen_count = t.reopen_count;
      f.csat = t.csat;
      f.customer = t.customer;
      f.tier = t.tier;
      f.category = t.category;
      f.owner = t.owner;
      f.root_cause = t.root_cause;
      return fn(f);
    });
  }
  engine::Status scan_events(std::int64_t after_seq, const std::function<bool(const engine::event_record&)>& fn) override {
    return real_.scan_events(after_seq, fn);
  }
  engine::Status scan_timers(const std::function<bool(const engine::timer&)>& fn) override {
    return real_.scan_timers(fn);
  }

 private:
  class transaction final : public engine::store_transaction {
   public:
    transaction(faulty_store& owner, std::unique_ptr<engine::store_transaction> real)
        : owner_(owner), real_(std::move(real)) {}

    engine::Result<engine::event_record> append_event(engine::event_record e) override {
      if (owner_.on_append)
        if (auto err = owner_.on_append(e)) return *err;
      return real_->append_event(std::move(e));
    }

    engine::Result<std::optional<engine::ticket>> find_ticket(engine::ticket_id id) override {
      return real_->find_ticket(id);
    }
    engine::Result<std::optional<engine::customer>> find_customer(std::string_view id) override {
      return real_->find_customer(id);
    }
    engine::Result<std::optional<engine::idempotency_record>> find_idempotency(std::string_view key) override {
      return real_->find_idempotency(key);
    }
    engine::Status put_customer(const engine::customer& c) override { return real_->put_customer(c); }
    engine::Result<engine::ticket_id> insert_ticket(const engine::ticket& t) override {
      return real_->insert_ticket(t);
    }
    engine::Status update_ticket(const engine::ticket& after, const engine::ticket& before) override {
      return real_->update_ticket(after, before);
    }
    engine::Result<std::int64_t> next_event_seq() override { return real_->next_event_seq(); }
    engine::Status insert_event_verbatim(const engine::event_record& e) override {
      return real_->insert_event_verbatim(e);
    }
    engine::Status schedule_timer(engine::ticket_id id, std::string_view kind, engine::timestamp due) override {
      return real_->schedule_timer(id, kind, due);
    }
    engine::Status cancel_timer(engine::ticket_id id, std::string_view kind) override {
      return real_->cancel_timer(id, kind);
    }
    engine::Status insert_timer_verbatim(const engine::timer& t) override { return real_->insert_timer_verbatim(t); }
    engine::Status index_text(engine::ticket_id id, std::int64_t slot, std::string_view text) override {
      return real_->index_text(id, slot, text);
    }
    engine::Status put_idempotency(const engine::idempotency_record& r) override { return real_->put_idempotency(r); }
    engine::Result<std::int64_t> prune_outbox(engine::timestamp before, int limit) override {
      return real_->prune_outbox(before, limit);
    }
    engine::Result<std::int64_t> prune_idempotency(engine::timestamp before, int limit) override {
      return real_->prune_idempotency(before, limit);
    }
    engine::Result<engine::customer_change> append_customer_change(engine::customer_change c) override {
      return real_->append_customer_change(std::move(c));
    }
    engine::Status insert_customer_change_verbatim(const engine::customer_change& c) override {
      return real_->insert_customer_change_verbatim(c);
    }
    engine::Result<std::vector<engine::timer>> due_timers_of(engine::ticket_id id, engine::timestamp now) override {
      return real_->due_timers_of(id, now);
    }
    engine::Result<bool> claim_timer(std::int64_t timer_id, engine::timestamp at) override {
      return real_->claim_timer(timer_id, at);
    }
    engine::Status add_notification(const engine::notification& n) override { return real_->add_notification(n); }
    engine::Status put_token(const engine::api_token& t) override { return real_->put_token(t); }
    engine::Result<int> revoke_tokens(std::string_view name_or_id, engine::timestamp at) override {
      return real_->revoke_tokens(name_or_id, at);
    }
    engine::Result<bool> has_people() override { return real_->has_people(); }
    engine::Result<std::optional<engine::person>> find_person(std::string_view id) override {
      return real_->find_person(id);
    }
    engine::Status put_person(const engine::person& p) override { return real_->put_person(p); }
    engine::Status put_session(const engine::web_session& s) override { return real_->put_session(s); }
    engine::Status delete_session(std::string_view id) override { return real_->delete_session(id); }
    engine::Result<int> delete_sessions_of(std::string_view person) override {
      return real_->delete_sessions_of(person);
    }
    engine::Result<int> prune_sessions(engine::timestamp now, int limit) override {
      return real_->prune_sessions(now, limit);
    }
    engine::Result<int> trim_sessions_of(std::string_view person, int keep) override {
      return real_->trim_sessions_of(person, keep);
    }
    engine::Status put_setting(std::string_view key, std::string_view value) override {
      return real_->put_setting(key, value);
    }
    engine::Result<std::optional<engine::mail_link>> find_mail_link(std::string_view message_id) override {
      return real_->find_mail_link(message_id);
    }
    engine::Status put_mail_link(const engine::mail_link& m) override { return real_->put_mail_link(m); }
    engine::Result<std::optional<engine::customer>> find_customer_by_email(std::string_view email) override {
      return real_->find_customer_by_email(email);
    }
    engine::Result<std::int64_t> add_attachment(const engine::attachment& a) override {
      return real_->add_attachment(a);
    }
    engine::Result<std::shared_ptr<const std::vector<engine::webhook>>> live_webhooks() override {
      return real_->live_webhooks();
    }
    engine::Result<std::int64_t> put_webhook(const engine::webhook& w) override { return real_->put_webhook(w); }
    engine::Status add_outbox(const engine::outbox_item& o) override { return real_->add_outbox(o); }
    engine::Result<std::vector<engine::outbox_item>> claim_outbox(engine::timestamp now, engine::timestamp hold_until,
                                                                  int limit, std::string_view channel) override {
      return real_->claim_outbox(now, hold_until, limit, channel);
    }
    engine::Status update_outbox(const engine::outbox_item& o) override { return real_->update_outbox(o); }
    engine::Status commit_writes() override { return real_->commit(); }

   private:
    faulty_store& owner_;
    std::unique_ptr<engine::store_transaction> real_;
  };

  engine::store& real_;
};

}  // namespace plaint::testing
