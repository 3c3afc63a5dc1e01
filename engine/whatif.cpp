#include "engine/whatif.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <iterator>
#include <map>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace plaint::engine {

namespace {

constexpr const char* honest_note =
    "The replay keeps every action at the instant it happened. Under other targets people might have acted "
    "differently, which no replay can know; actions the proposed policy refuses are left out and counted.";

constexpr std::string_view groupings[] = {"tier", "category", "priority", "channel", "owner", "team", "workflow"};

std::string group_key(const ticket& t, const std::string& by) {
  if (by == "tier") return t.tier;
  if (by == "category") return t.category;
  if (by == "priority") return t.priority;
  if (by == "channel") return t.channel;
  if (by == "owner") return t.owner.empty() ? "(nobody)" : t.owner;
  if (by == "workflow") return t.workflow;
  return "L" + std::to_string(t.level);  // team
}

// What one replay of one ticket did in the period.
struct outcome {
  std::array<std::int64_t, 2> warnings{}, breaches{};  // [0] first response, [1] resolution
  std::int64_t follow_up_calls = 0, notifications = 0, resolved = 0, on_time = 0, refused = 0;
  int level_reached = 0;  // the highest level an escalation in the period reached (0: none)
  // For the list of changed tickets.
  std::optional<timestamp> first_response_due, resolution_due;

  bool first_response_breached() const { return breaches[0] > 0; }
  bool resolution_breached() const { return breaches[1] > 0; }
};

bool same_outcome(const outcome& a, const outcome& b) {
  return a.first_response_breached() == b.first_response_breached() &&
         a.resolution_breached() == b.resolution_breached() && a.level_reached == b.level_reached &&
         a.on_time == b.on_time && a.resolved == b.resolved;
}

struct figures {
  std::int64_t tickets = 0, resolved = 0, on_time = 0, follow_up_calls = 0, notifications = 0, refused = 0;
  std::array<std::int64_t, 2> warnings{}, breaches{};
  std::array<std::int64_t, 4> reached{};  // [2], [3]: tickets that reached the level in the period

  // One ticket's outcome as figures.
  static figures of(const outcome& o) {
    figures f;
    f.tickets = 1;
    f.resolved = o.resolved;
    f.on_time = o.on_time;
    f.follow_up_calls = o.follow_up_calls;
    f.notifications = o.notifications;
    f.refused = o.refused;
    f.warnings = o.warnings;
    f.breaches = o.breaches;
    for (int level = 2; level <= 3; ++level)
      if (o.level_reached >= level) f.reached[static_cast<std::size_t>(level)] = 1;
    return f;
  }
  void add(const outcome& o) { add(of(o)); }

  void add(const figures& o) {
    tickets += o.tickets;
    resolved += o.resolved;
    on_time += o.on_time;
    follow_up_calls += o.follow_up_calls;
    notifications += o.notifications;
    refused += o.refused;
    for (std::size_t i = 0; i < 2; ++i) {
      warnings[i] += o.warnings[i];
      breaches[i] += o.breaches[i];
    }
    for (std::size_t i = 0; i < reached.size(); ++i) reached[i] += o.reached[i];
  }

  json rate() const {
    return resolved == 0 ? json(nullptr) : json(static_cast<double>(on_time) / static_cast<double>(resolved));
  }

  json to_json() const {
    return json{{"tickets", tickets},
                {"resolved", resolved},
                {"on_time", on_time},
                {"on_time_rate", rate()},
                {"warnings", {{"first_response", warnings[0]}, {"resolution", warnings[1]}}},
                {"breaches", {{"first_response", breaches[0]}, {"resolution", breaches[1]}}},
                {"escalations", {{"2", reached[2]}, {"3", reached[3]}}},
                {"follow_up_calls", follow_up_calls},
                {"notifications", notifications},
                {"refused_actions", refused}};
  }
};

// proposed − in force, figure by figure (the rate in shares, null when either is).
json change(const figures& a, const figures& b) {
  const json ra = a.rate(), rb = b.rate();
  return json{{"resolved", b.resolved - a.resolved},
              {"on_time", b.on_time - a.on_time},
              {"on_time_rate", ra.is_null() || rb.is_null() ? json(nullptr) : json(rb.get<double>() - ra.get<double>())},
              {"warnings",
               {{"first_response", b.warnings[0] - a.warnings[0]}, {"resolution", b.warnings[1] - a.warnings[1]}}},
              {"breaches",
               {{"first_response", b.breaches[0] - a.breaches[0]}, {"resolution", b.breaches[1] - a.breaches[1]}}},
              {"escalations", {{"2", b.reached[2] - a.reached[2]}, {"3", b.reached[3] - a.reached[3]}}},
              {"follow_up_calls", b.follow_up_calls - a.follow_up_calls},
              {"notifications", b.notifications - a.notifications},
              {"refused_actions", b.refused - a.refused}};
}

struct side_by_side {
  figures in_force, proposed;
  json to_json() const {
    return json{{"in_force", in_force.to_json()}, {"proposed", proposed.to_json()}, {"change", change(in_force, proposed)}};
  }
};

// Watches one replay of a ticket active in the period: its clocks over its
// whole life up to the replay's end (the same tickets under both policies,
// wherever a policy moves their due instants), its resolutions in the period.
replay_observer tally(outcome& o, const whatif_query& q) {
  return [&o, &q](const replay_step& s) {
    if (s.kind == replay_step::what::refused) {
      ++o.refused;
      return;
    }
    const ticket& b = *s.before;
    const ticket& a = *s.after;
    if (s.kind == replay_step::what::timer && s.fired) {
      const std::size_t clock = s.timer_kind.rfind("first_response", 0) == 0 ? 0 : 1;
      if (s.fired->event == "sla_warning") ++o.warnings[clock];
      else if (s.fired->event == "escalate") ++o.breaches[clock];
      else ++o.follow_up_calls;
      o.notifications += static_cast<std::int64_t>(rung_recipients(*s.fired->step, a).size());
    }
    if (a.level > b.level) o.level_reached = std::max(o.level_reached, a.level);
    if (a.resolved_at && !b.resolved_at && *a.resolved_at >= q.from && *a.resolved_at < q.to) {
      ++o.resolved;
      if (a.resolution_due && *a.resolved_at <= *a.resolution_due) ++o.on_time;
    }
    o.first_response_due = a.first_response_due;
    o.resolution_due = a.resolution_due;
  };
}

json outcome_json(const outcome& o) {
  return json{{"first_response_breached", o.first_response_breached()},
              {"resolution_breached", o.resolution_breached()},
              {"level_reached", o.level_reached == 0 ? json(nullptr) : json(o.level_reached)},
              {"resolved", o.resolved},
              {"on_time", o.on_time},
              {"first_response_due", o.first_response_due ? json(format_iso(*o.first_response_due)) : json(nullptr)},
              {"resolution_due", o.resolution_due ? json(format_iso(*o.resolution_due)) : json(nullptr)}};
}

std::string summary(const outcome& a, const outcome& b) {
  std::vector<std::string> parts;
  auto breach = [](bool x) { return x ? "breached" : "on time"; };
  if (a.first_response_breached() != b.first_response_breached())
    parts.push_back(fmt::format("first response {} → {}", breach(a.first_response_breached()),
                                breach(b.first_response_breached())));
  if (a.resolution_breached() != b.resolution_breached())
    parts.push_back(
        fmt::format("resolution {} → {}", breach(a.resolution_breached()), breach(b.resolution_breached())));
  if (a.on_time != b.on_time || a.resolved != b.resolved)
    parts.push_back(fmt::format("resolved on time {}/{} → {}/{}", a.on_time, a.resolved, b.on_time, b.resolved));
  if (a.level_reached != b.level_reached)
    parts.push_back(fmt::format("level reached {} → {}", a.level_reached == 0 ? "-" : std::to_string(a.level_reached),
                                b.level_reached == 0 ? "-" : std::to_string(b.level_reached)));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

namespace {

// What one worker adds up; workers' tallies merge at the end.
struct whatif_tally {
  side_by_side overall;
  std::map<std::string, side_by_side> groups;
  // The changed tickets with the smallest ids, whatever order they come in.
  std::map<ticket_id, json> changed;
  std::int64_t changed_count = 0;
  std::map<ticket_id, json> not_replayed;
  std::int64_t not_replayed_count = 0;
  Status failed;

  static void keep_smallest(std::map<ticket_id, json>& m, std::size_t n) {
    while (m.size() > n) m.erase(std::prev(m.end()));
  }

  void merge(whatif_tally&& o, std::size_t examples) {
    overall.in_force.add(o.overall.in_force);
    overall.proposed.add(o.overall.proposed);
    for (auto& [key, g] : o.groups) {
      groups[key].in_force.add(g.in_force);
      groups[key].proposed.add(g.proposed);
    }
    changed.merge(o.changed);
    keep_smallest(changed, examples);
    changed_count += o.changed_count;
    not_replayed.merge(o.not_replayed);
    not_replayed_count += o.not_replayed_count;
    keep_smallest(not_replayed, examples);
    if (failed && !o.failed) failed = o.failed;
  }
};

}  // namespace

Result<json> what_if(store& s, const policy_timeline& recorded, const policy_version& proposed,
                     const workflow_registry& workflows, const whatif_query& q, const store_opener& open_more) {
  if (q.to <= q.from) return make_error(errc::invalid, "the period's end must come after its start");
  if (!q.by.empty() && std::find(std::begin(groupings), std::end(groupings), q.by) == std::end(groupings))
    return make_error(errc::invalid,
                      fmt::format("a what-if groups by {}, not '{}'", join(groupings), q.by));
  const policy_timeline proposed_timeline({proposed}, *proposed.policy);
  // The last instant replayed: now, or the period's last second ([from, to)).
  const timestamp end = std::min(q.now, q.to - 1);

  // One ticket's two replays and what they add to a worker's tally.
  auto replay_one = [&](whatif_tally& w, const ticket& t, std::vector<event_record>& events) {
    // What happened after the end is not part of the comparison; timers
    // due by the end that fired later fire in the recorded replay's tail.
    events.erase(std::remove_if(events.begin(), events.end(),
                                [end](const event_record& e) { return e.at > end && e.event != "open"; }),
                 events.end());
    outcome before, after;
    auto a = replay_recorded(t, events, recorded, workflows, tally(before, q), end);
    auto b = a ? replay_simulated(t, events, proposed_timeline, workflows, end, tally(after, q)) : a;
    if (!a || !b) {
      ++w.not_replayed_count;
      w.not_replayed.emplace(t.id, json{{"ticket", t.id}, {"error", (!a ? a : b).error().message}});
      whatif_tally::keep_smallest(w.not_replayed, q.examples);
      return;
    }
    w.overall.in_force.add(before);
    w.overall.proposed.add(after);
    if (!q.by.empty()) {
      auto& g = w.groups[group_key(t, q.by)];
      g.in_force.add(before);
      g.proposed.add(after);
    }
    if (same_outcome(before, after)) return;
    ++w.changed_count;
    if (q.examples > 0 && (w.changed.size() < q.examples || t.id < w.changed.rbegin()->first)) {
      w.changed.emplace(t.id, json{{"ticket", t.id},
                                   {"customer", t.customer},
                                   {"tier", t.tier},
                                   {"priority", t.priority},
                                   {"category", t.category},
                                   {"subject", t.subject},
                                   {"summary", summary(before, after)},
                                   {"in_force", outcome_json(before)},
                                   {"proposed", outcome_json(after)}});
      whatif_tally::keep_smallest(w.changed, q.examples);
    }
  };

  // The period's tickets by id (8 bytes each: a period of a million
  // tickets stays small), then the histories are read and replayed by
  // workers that each own a connection: this thread on `s` and, when
  // `open_more` is given, one more on a store of its own, each taking the
  // next slice of ids. Reading a history costs more than replaying it, so
  // the reading must spread over the cores, not only the replaying.
  std::vector<ticket_id> ids;
  PLAINT_TRY(s.scan_period_figures(q.from, q.to, [&](const ticket_figures& t) {
    ids.push_back(t.id);
    return true;
  }));
  // Once each, whatever a store's walk does under concurrent writes.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::atomic<std::size_t> next{0};
  constexpr std::size_t slice = 64;
  auto work_on = [&](store& st, whatif_tally& w) {
    for (;;) {
      const std::size_t from = next.fetch_add(slice);
      if (from >= ids.size()) return;
      for (std::size_t i = from; i < std::min(ids.size(), from + slice); ++i) {
        auto t = st.get_ticket(ids[i]);
        if (!t && t.error().code == errc::not_found) continue;  // gone since the scan
        auto events = t ? st.ticket_events(ids[i]) : Result<std::vector<event_record>>(t.error());
        if (!events) {
          w.failed = events.error();
          next = ids.size();  // the others stop too
          return;
        }
        replay_one(w, *t, *events);
      }
    }
  };
  auto work = [&](store& st, whatif_tally& w) noexcept {
    try {
      work_on(st, w);
    } catch (const std::exception& e) {
      w.failed = make_error(errc::internal, fmt::format("the what-if stopped: {}", e.what()));
      next = ids.size();
    }
  };
  whatif_tally total, second;
  std::unique_ptr<store> other;
  std::thread helper;
  struct joiner {  // the helper is joined on every way out, before `other` goes
    std::thread& t;
    ~joiner() {
      if (t.joinable()) t.join();
    }
  } join_helper{helper};
  if (open_more && ids.size() > 4 * slice) {
    auto opened = open_more();
    if (opened) {
      other = std::move(*opened);
      helper = std::thread([&] { work(*other, second); });
    }
  }
  work(s, total);
  if (helper.joinable()) {
    helper.join();
    total.merge(std::move(second), q.examples);
  }
  PLAINT_TRY(total.failed);
  json changed_list = json::array(), not_replayed_list = json::array();
  for (auto& [id, j] : total.changed) changed_list.push_back(std::move(j));
  for (auto& [id, j] : total.not_replayed) not_replayed_list.push_back(std::move(j));
  const side_by_side& overall = total.overall;
  const auto& groups = total.groups;
  const std::int64_t changed_count = total.changed_count;

  json policies = json::array();
  for (const auto& v : recorded.versions())
    policies.push_back({{"version", v.version}, {"name", v.name}, {"since_seq", v.since_seq}});
  json group_list = json::array();
  for (const auto& [key, g] : groups) {
    json j = g.to_json();
    j["key"] = key;
    group_list.push_back(std::move(j));
  }
  return json{{"from", format_iso(q.from)},
              {"to", format_iso(q.to)},
              {"by", q.by.empty() ? json(nullptr) : json(q.by)},
              {"in_force", {{"version", recorded.current().version}, {"name", recorded.current().name},
                            {"history", std::move(policies)}}},
              {"proposed", {{"name", proposed.name}}},
              {"tickets", overall.in_force.tickets},
              {"note", honest_note},
              {"overall", overall.to_json()},
              {"groups", std::move(group_list)},
              {"changed", {{"count", changed_count}, {"tickets", std::move(changed_list)}}},
              {"not_replayed", std::move(not_replayed_list)},
              {"not_replayed_count", total.not_replayed_count}};
}

}  // namespace plaint::engine
