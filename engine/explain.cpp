#include "engine/explain.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include <fmt/format.h>

namespace plaint::engine {

namespace {

json ref(const event_record* e) {
  if (!e) return nullptr;
  return json{{"seq", e->seq}, {"event", e->event}, {"actor", e->actor}};
}

json instant(const std::optional<timestamp>& t) { return t ? json(format_iso(*t)) : json(nullptr); }

json policy_ref(const policy_version* pv) {
  if (!pv) return nullptr;
  return json{{"version", pv->version}, {"name", pv->name}};
}

// The policy row a target came from: "P2/gold", or "P2/standard" when the
// policy has no row for the tier.
std::string row_of(const sla_policy& p, const std::string& priority, const std::string& tier) {
  const std::string key = priority + "/" + tier;
  return p.targets.count(key) ? key : priority + "/standard";
}

std::int64_t warn_share(std::int64_t seconds, double ratio) {
  return static_cast<std::int64_t>(std::llround(static_cast<double>(seconds) * ratio));
}

struct pause {
  timestamp from = 0;
  std::optional<timestamp> to;
  std::string state;
  const event_record* began_by = nullptr;
  const event_record* ended_by = nullptr;
  std::int64_t working_seconds = 0;  // added to the clock when it ended
};

struct fired_timer_ref {
  const event_record* event = nullptr;  // null: due, not fired yet
  timestamp at = 0;
  timestamp due = 0;
  std::string rung;
  int level = 0;
  std::string priority;
  std::vector<std::string> notified;
};

// One run of one clock: the first response, a resolution cycle, a follow-up.
struct clock_run {
  std::string clock;
  int cycle = 1;
  timestamp start = 0;
  const event_record* started_by = nullptr;
  std::optional<timestamp> stop;
  const event_record* stopped_by = nullptr;
  std::string stop_reason;
  // The last computation.
  const policy_version* policy = nullptr;
  std::string row;
  std::int64_t target = 0;
  double warn_ratio = 0.8;
  std::optional<timestamp> warn_at, due;
  std::int64_t paused_seconds = 0;
  json recomputes = json::array();
  std::vector<pause> pauses;
  std::optional<fired_timer_ref> warning, breach;
};

class explainer {
 public:
  explainer(timestamp now) : now_(now) {}

  void observe(const replay_step& s) {
    const ticket& b = *s.before;
    const ticket& a = *s.after;
    const sla_policy& p = *s.policy->policy;
    if (s.kind == replay_step::what::refused) return;
    if (s.kind == replay_step::what::opened) {
      fr_ = add_run("first_response", a.created_at, s.event);
      res_ = add_run("resolution", a.resolution_started_at, s.event);
      compute(*fr_, s, p, a, "opened", std::nullopt);
      compute(*res_, s, p, a, "opened", std::nullopt);
      return;
    }
    // First response.
    if (a.first_response_due != b.first_response_due || a.first_response_warn_at != b.first_response_warn_at)
      compute(*fr_, s, p, a, nullptr, b.first_response_due);
    if (a.first_response_at && !b.first_response_at) stop(*fr_, *a.first_response_at, s.event, "answered");
    if (a.closed_at && !b.closed_at && !fr_->stop) stop(*fr_, *a.closed_at, s.event, "closed unanswered");

    // Resolution: a reopen starts a new cycle.
    if (a.resolution_started_at != b.resolution_started_at) {
      if (!res_->stop) stop(*res_, a.resolution_started_at, s.event, "replaced");
      if (fu_ && !fu_->stop) stop(*fu_, a.resolution_started_at, s.event, "reopened");
      res_ = add_run("resolution", a.resolution_started_at, s.event);
      res_->cycle = ++resolution_cycles_;
      compute(*res_, s, p, a, nullptr, std::nullopt);
    } else if (a.resolution_due != b.resolution_due || a.resolution_warn_at != b.resolution_warn_at) {
      compute(*res_, s, p, a, nullptr, b.resolution_due);
    }
    if (a.paused_at && (!b.paused_at || a.resolution_started_at != b.resolution_started_at))
      res_->pauses.push_back({*a.paused_at, std::nullopt, a.state, s.event, nullptr, 0});
    if (!a.paused_at && b.paused_at && !res_->pauses.empty() && !res_->pauses.back().to) {
      pause& ps = res_->pauses.back();
      ps.to = s.at;
      ps.ended_by = s.event;
      ps.working_seconds = a.paused_seconds - b.paused_seconds;
    }
    if (a.resolved_at && !b.resolved_at) stop(*res_, *a.resolved_at, s.event, "resolved");
    if (a.closed_at && !b.closed_at && !res_->stop) stop(*res_, *a.closed_at, s.event, "closed unresolved");

    // Follow-up.
    if (a.resolved_at && !b.resolved_at) {
      fu_ = add_run("follow_up", *a.resolved_at, s.event);
      fu_->cycle = resolution_cycles_;
      compute(*fu_, s, p, a, "resolved", std::nullopt);
    } else if (fu_ && !fu_->stop && a.follow_up_due != b.follow_up_due && a.follow_up_due) {
      compute(*fu_, s, p, a, nullptr, b.follow_up_due);
    }
    if (fu_ && !fu_->stop && a.closed_at && !b.closed_at) stop(*fu_, *a.closed_at, s.event, "closed");

    if (s.kind == replay_step::what::timer) record_fire(s, a);
  }

  json result(const policy_timeline& policies) const {
    json clocks = json::array();
    for (const auto& run : runs_) clocks.push_back(render(*run, policies));
    return clocks;
  }

 private:
  clock_run* add_run(const std::string& clock, timestamp start, const event_record* by) {
    runs_.push_back(std::make_unique<clock_run>());
    clock_run* r = runs_.back().get();
    r->clock = clock;
    r->start = start;
    r->started_by = by;
    if (clock == "resolution" && resolution_cycles_ == 0) resolution_cycles_ = 1;
    return r;
  }

  static void stop(clock_run& r, timestamp at, const event_record* by, const char* why) {
    if (r.stop) return;
    r.stop = at;
    r.stopped_by = by;
    r.stop_reason = why;
  }

  std::string cause_of(const replay_step& s) const {
    const ticket& b = *s.before;
    const ticket& a = *s.after;
    if (s.kind == replay_step::what::recomputed)
      return fmt::format("policy '{}' (version {}) put in force", s.policy->name, s.policy->version);
    if (a.priority != b.priority)
      return s.kind == replay_step::what::timer
                 ? fmt::format("priority {} → {} raised by the ladder", b.priority, a.priority)
                 : fmt::format("priority {} → {}", b.priority, a.priority);
    if (a.resolution_started_at != b.resolution_started_at) return "reopened: a new resolution cycle";
    if (b.paused_at && !a.paused_at)
      return fmt::format("pause ended: {} of working time added", format_duration(a.paused_seconds - b.paused_seconds));
    if (a.resolved_at && !b.resolved_at) return "resolved";
    return "recomputed";
  }

  // `cause` null: said from the step (most steps move no clock, so the
  // sentence is written only for those that do).
  void compute(clock_run& r, const replay_step& s, const sla_policy& p, const ticket& a, const char* cause,
               std::optional<timestamp> due_before) {
    const sla_targets& tg = p.targets_for(a.priority, a.tier);
    r.policy = s.policy;
    r.row = row_of(p, a.priority, a.tier);
    r.warn_ratio = tg.warn_ratio;
    if (r.clock == "first_response") {
      r.target = tg.first_response;
      r.warn_at = a.first_response_warn_at;
      r.due = a.first_response_due;
    } else if (r.clock == "resolution") {
      r.target = tg.resolution;
      r.warn_at = a.resolution_warn_at;
      r.due = a.resolution_due;
      r.paused_seconds = a.paused_seconds;
    } else {
      r.target = tg.follow_up;
      r.warn_at.reset();
      r.due = a.follow_up_due;
    }
    json entry{{"seq", s.event ? json(s.event->seq) : json(nullptr)},
               {"event", s.event ? json(s.event->event) : json(nullptr)},
               {"at", format_iso(s.at)},
               {"cause", cause ? std::string(cause) : cause_of(s)},
               {"policy", policy_ref(s.policy)},
               {"row", r.row},
               {"target_seconds", r.target},
               {"paused_seconds", r.paused_seconds},
               {"due_before", instant(due_before)},
               {"due_after", instant(r.due)}};
    if (r.stop) entry["after_stop"] = true;
    r.recomputes.push_back(std::move(entry));
  }

  void record_fire(const replay_step& s, const ticket& a) {
    if (!s.fired) return;
    fired_timer_ref f;
    f.event = s.event;
    f.at = s.at;
    f.due = s.timer_due;
    f.rung = s.fired->rung;
    f.level = a.level;
    f.priority = a.priority;
    f.notified = rung_recipients(*s.fired->step, a);
    const std::string& kind = s.timer_kind;
    clock_run* r = kind.rfind("first_response", 0) == 0 ? fr_ : kind.rfind("resolution", 0) == 0 ? res_ : fu_;
    if (!r) return;
    if (s.fired->event == "sla_warning")
      r->warning = f;
    else
      r->breach = f;
  }

  json render(const clock_run& r, const policy_timeline& policies) const {
    const sla_policy& p = r.policy ? *r.policy->policy : *policies.current().policy;
    const business_calendar& cal = p.calendar;
    const timestamp until = r.stop.value_or(now_);
    // A stopped clock up to its stop; a running one up to now or, when
    // later, its due instant (marked "after_now"): how the due is reached.
    const timestamp span_end = r.stop ? *r.stop : std::max(until, r.due.value_or(r.start));
    json out{{"clock", r.clock},
             {"cycle", r.cycle},
             {"policy", policy_ref(r.policy)},
             {"row", r.row},
             {"target_seconds", r.target},
             {"started_at", format_iso(r.start)},
             {"started_by", ref(r.started_by)},
             {"stopped_at", instant(r.stop)},
             {"stopped_by", ref(r.stopped_by)},
             {"stop_reason", r.stop_reason.empty() ? json(nullptr) : json(r.stop_reason)},
             {"due_at", instant(r.due)},
             {"recomputes", r.recomputes}};
    if (r.clock != "follow_up") {
      out["warning_threshold"] = r.warn_ratio;
      out["warning_at"] = instant(r.warn_at);
    }
    std::int64_t extra = 0;
    if (r.clock == "resolution") {
      out["paused_seconds"] = r.paused_seconds;
      extra = r.paused_seconds;
    }
    // How the due instant was reached, and whether it adds up.
    if (r.due) {
      out["reached"] = extra > 0 ? fmt::format("{} + {} of working time + {} of paused working time", format_iso(r.start),
                                               format_duration(r.target), format_duration(extra))
                                 : fmt::format("{} + {} of working time", format_iso(r.start), format_duration(r.target));
      out["adds_up"] = cal.add(r.start, r.target + extra) == *r.due && cal.between(r.start, *r.due) == r.target + extra;
      if (r.warn_at) out["warning_reached"] = cal.add(r.start, warn_share(r.target, r.warn_ratio) + extra) == *r.warn_at;
    }
    // Status and breach, judged as the desk judges them (model.cpp sla_of).
    std::string status;
    bool breached = false;
    if (r.clock == "first_response") {
      breached = r.due && (r.stop_reason == "answered" ? *r.stop > *r.due : until >= *r.due);
      status = r.stop_reason == "answered" ? (breached ? "answered late" : "met")
               : r.stop                    ? "closed unanswered"
               : breached                  ? "overdue"
                                           : "running";
    } else if (r.clock == "resolution") {
      const bool paused_now = !r.pauses.empty() && !r.pauses.back().to && !r.stop;
      const timestamp judged = paused_now ? r.pauses.back().from : until;
      breached = r.due && (r.stop_reason == "resolved" ? *r.stop > *r.due : judged >= *r.due);
      status = r.stop_reason == "resolved" ? (breached ? "resolved late" : "met")
               : r.stop                    ? r.stop_reason
               : paused_now                ? "paused"
               : breached                  ? "overdue"
                                           : "running";
    } else {
      status = r.stop ? r.stop_reason : r.breach ? "follow-up call due" : "waiting";
    }
    out["status"] = status;
    if (r.clock != "follow_up") out["breached"] = breached;

    // Segments: the calendar's cut, paused spans laid over it. Built as
    // plain values first (adjacent pieces of one pause merge), then written.
    struct piece {
      timestamp from, to;
      const char* kind;
      std::int64_t counted = 0;
      const std::string* holiday = nullptr;
      std::size_t pause = 0;  // 1-based index into the pauses; 0: not paused
      std::int64_t working = 0;
    };
    std::vector<piece> pieces;
    auto add = [&pieces](piece p) {
      if (p.to <= p.from) return;
      if (p.pause != 0 && !pieces.empty() && pieces.back().pause == p.pause && pieces.back().to == p.from) {
        pieces.back().to = p.to;
        pieces.back().working += p.working;
        return;
      }
      pieces.push_back(p);
    };
    const auto cut = cal.segments(r.start, span_end);
    std::size_t first_pause = 0;  // pauses and segments both go forward in time
    for (const auto& seg : cut) {
      timestamp at = seg.from;
      const bool counted = seg.what == calendar_segment::kind::counted;
      const char* kind = kind_name(seg.what);
      const std::string* holiday = seg.what == calendar_segment::kind::holiday ? &seg.holiday : nullptr;
      while (first_pause < r.pauses.size() && r.pauses[first_pause].to && *r.pauses[first_pause].to <= seg.from)
        ++first_pause;
      for (std::size_t i = first_pause; i < r.pauses.size() && at < seg.to && r.pauses[i].from < seg.to; ++i) {
        const timestamp pa = r.pauses[i].from, pb = r.pauses[i].to.value_or(span_end);
        if (pb <= at || pa >= seg.to) continue;
        const timestamp a2 = std::max(at, pa), b2 = std::min(seg.to, pb);
        add({at, a2, kind, counted ? a2 - at : 0, holiday, 0, 0});
        add({a2, b2, "paused", 0, nullptr, i + 1, counted ? b2 - a2 : 0});
        at = b2;
      }
      add({at, seg.to, kind, counted ? seg.to - at : 0, holiday, 0, 0});
    }
    json segments = json::array();
    std::map<std::string, std::int64_t> totals;
    std::int64_t elapsed = 0;
    for (const piece& p : pieces) {
      totals[p.kind] += p.to - p.from;
      elapsed += p.to <= until ? p.counted : p.from < until && p.counted > 0 ? until - p.from : 0;
      if (segments.size() >= max_explained_segments) continue;
      json seg{{"from", format_iso(p.from)}, {"to", format_iso(p.to)}, {"kind", p.kind},
               {"seconds", p.to - p.from}, {"counted_seconds", p.counted}};
      if (p.holiday) seg["holiday"] = *p.holiday;
      if (p.pause != 0) {
        seg["pause"] = p.pause;
        seg["state"] = r.pauses[p.pause - 1].state;
        seg["working_seconds"] = p.working;
      }
      if (p.from >= now_) seg["after_now"] = true;
      segments.push_back(std::move(seg));
    }
    out["elapsed_seconds"] = elapsed;
    out["totals"] = totals;
    out["segments"] = std::move(segments);
    out["segments_omitted"] = pieces.size() > max_explained_segments ? pieces.size() - max_explained_segments : 0;

    json pauses = json::array();
    for (const auto& ps : r.pauses)
      pauses.push_back({{"pause", pauses.size() + 1},
                        {"from", format_iso(ps.from)},
                        {"to", instant(ps.to)},
                        {"state", ps.state},
                        {"paused_by", ref(ps.began_by)},
                        {"resumed_by", ref(ps.ended_by)},
                        {"working_seconds", ps.working_seconds}});
    out["pauses"] = std::move(pauses);
    auto fired = [](const std::optional<fired_timer_ref>& f) -> json {
      if (!f) return nullptr;
      return json{{"seq", f->event ? json(f->event->seq) : json(nullptr)},
                  {"fired_at", format_iso(f->at)},
                  {"due", format_iso(f->due)},
                  {"rung", f->rung},
                  {"level", f->level},
                  {"priority", f->priority},
                  {"notified", f->notified}};
    };
    if (r.clock == "follow_up") {
      out["fired"] = fired(r.breach);
    } else {
      out["warning"] = fired(r.warning);
      out["breach"] = fired(r.breach);
    }
    return out;
  }

  timestamp now_;
  std::vector<std::unique_ptr<clock_run>> runs_;
  clock_run* fr_ = nullptr;
  clock_run* res_ = nullptr;
  clock_run* fu_ = nullptr;
  int resolution_cycles_ = 0;
};

}  // namespace

json explain_sla(const ticket& stored, const std::vector<event_record>& events, const policy_timeline& policies,
                 const workflow_registry& workflows, timestamp now) {
  explainer x(now);
  auto replayed = replay_recorded(stored, events, policies, workflows, [&x](const replay_step& s) { x.observe(s); });
  json out{{"ticket", stored.id},
           {"state", stored.state},
           {"priority", stored.priority},
           {"tier", stored.tier},
           {"level", stored.level},
           {"now", format_iso(now)},
           {"policy", policy_ref(&policies.current())}};
  json check{{"matches", false}, {"differences", json::array()}};
  if (!replayed) {
    check["error"] = replayed.error().message;
    out["clocks"] = json::array();
  } else {
    auto differences = clock_differences(*replayed, stored);
    const auto a = sla_of(*replayed, now), b = sla_of(stored, now);
    if (a.first_response_breached != b.first_response_breached)
      differences.push_back("the first-response breach differs from the stored ticket's");
    if (a.resolution_breached != b.resolution_breached)
      differences.push_back("the resolution breach differs from the stored ticket's");
    check["matches"] = differences.empty();
    check["differences"] = differences;
    out["clocks"] = x.result(policies);
  }
  out["check"] = std::move(check);
  return out;
}

}  // namespace plaint::engine
