// KPIs of SPEC §7/§9, computed from one walk over the period's tickets.
//
// A ticket carries every instant the figures need (created, first response,
// resolved, closed and the due times), so no event replay is needed. What
// the ticket forgets — the instants of a cycle before a reopen — the figures
// forget too: a reopened ticket counts by its current cycle. The walk reads
// only those columns (store::scan_period_figures); a second thread tallies
// what the first reads, in chunks that own copies of the strings.
#include "engine/kpi.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace plaint::engine {

namespace {

constexpr std::int64_t day = 86400;

bool in(const std::optional<timestamp>& t, const kpi_query& q) { return t && *t >= q.from && *t < q.to; }
bool in(timestamp t, const kpi_query& q) { return t >= q.from && t < q.to; }

// Whether the ticket touches the period at all: created before its end and
// not closed before its start. Every figure counts a subset of these.
bool relevant(const ticket_figures& t, const kpi_query& q) {
  return t.created_at < q.to && (!t.closed_at || *t.closed_at >= q.from);
}

bool in_backlog(const ticket_figures& t, const kpi_query& q) {
  return t.created_at < q.to && (!t.closed_at || *t.closed_at >= q.to);
}

json rate(std::int64_t num, std::int64_t den) {
  if (den == 0) return nullptr;
  return static_cast<double>(num) / static_cast<double>(den);
}

// Nearest-rank percentile: the smallest sample with at least p of them at
// or below it (selected in linear time; `v` is reordered).
json percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return nullptr;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  const auto nth = v.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(rank, 1) - 1);
  std::nth_element(v.begin(), nth, v.end());
  return *nth;
}

// Percentiles, and how many samples fall in each bucket (business time):
// ≤ 1 h, ≤ 4 h, ≤ 8 h, ≤ 1 d, ≤ 3 d, ≤ 7 d, and beyond ("le": null).
json p50_p90(std::vector<std::int64_t> v) {
  static constexpr std::int64_t bounds[] = {3600, 4 * 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400};
  constexpr std::size_t buckets = std::size(bounds) + 1;
  std::array<std::int64_t, buckets> counts{};
  for (const std::int64_t x : v)
    ++counts[static_cast<std::size_t>(std::lower_bound(std::begin(bounds), std::end(bounds), x) - std::begin(bounds))];
  json histogram = json::array();
  for (std::size_t i = 0; i < buckets; ++i)
    histogram.push_back({{"le", i < std::size(bounds) ? json(bounds[i]) : json(nullptr)}, {"count", counts[i]}});
  json p50 = percentile(v, 0.5), p90 = percentile(v, 0.9);
  return {{"p50", std::move(p50)}, {"p90", std::move(p90)}, {"histogram", std::move(histogram)}};
}

// Values by key, looked up by the row's string_view: one hash, and one copy
// of a key not seen before.
template <class T>
class by_key {
 public:
  T& operator[](std::string_view key) {
    buf_.assign(key.data(), key.size());
    return map_[buf_];
  }
  using entry = std::pair<const std::string, T>;
  // The entries in key order, by pointer: a group's tally holds its samples.
  std::vector<const entry*> sorted() const {
    std::vector<const entry*> v;
    v.reserve(map_.size());
    for (const auto& e : map_) v.push_back(&e);
    std::sort(v.begin(), v.end(), [](const entry* a, const entry* b) { return a->first < b->first; });
    return v;
  }
  // In no particular order.
  const std::unordered_map<std::string, T>& entries() const { return map_; }

 private:
  std::unordered_map<std::string, T> map_;
  std::string buf_;
};
using counts = by_key<std::int64_t>;

// The `limit` most frequent keys, count descending, then key ascending.
json top(const counts& counts, std::size_t limit = 5) {
  auto v = counts.sorted();
  std::stable_sort(v.begin(), v.end(), [](const auto* a, const auto* b) { return a->second > b->second; });
  json out = json::array();
  for (std::size_t i = 0; i < v.size() && i < limit; ++i) out.push_back({{"key", v[i]->first}, {"count", v[i]->second}});
  return out;
}

// The backlog's age buckets, by index.
constexpr const char* age_names[] = {"<1d", "1-3d", "3-7d", ">7d"};

std::size_t age_bucket(std::int64_t age) {
  if (age < day) return 0;
  if (age < 3 * day) return 1;
  if (age < 7 * day) return 2;
  return 3;
}

// Counters for one set of tickets; `to_json` turns them into the figures.
struct tally {
  std::int64_t opened = 0, closed = 0, resolved = 0, on_time = 0;
  std::int64_t reopened = 0, never_reopened = 0, handoffs = 0;
  std::int64_t closed_with_resolution = 0, followed_up = 0;
  std::int64_t backlog = 0;
  std::array<std::int64_t, std::size(age_names)> by_age{};
  std::array<std::int64_t, 4> reached{};  // index = level; [2], [3] used
  std::array<std::int64_t, 6> csat{};     // index = score; [1]..[5] used
  std::vector<std::int64_t> first_response, resolution;
  counts categories, root_causes;

  void add(const ticket_figures& t, const sla_policy& policy, const kpi_query& q);
  json to_json() const;
};

void tally::add(const ticket_figures& t, const sla_policy& policy, const kpi_query& q) {
  const auto& cal = policy.calendar;
  if (in(t.created_at, q)) {
    ++opened;
    handoffs += t.handoff_count;
    for (int level = 2; level <= 3; ++level)
      if (t.level >= level) ++reached[static_cast<std::size_t>(level)];
    ++categories[t.category];
  }
  if (in(t.first_response_at, q)) first_response.push_back(cal.between(t.created_at, *t.first_response_at));
  if (in(t.resolved_at, q)) {
    ++resolved;
    resolution.push_back(cal.between(t.created_at, *t.resolved_at));
    if (t.resolution_due && *t.resolved_at <= *t.resolution_due) ++on_time;
    if (!t.root_cause.empty()) ++root_causes[t.root_cause];
  }
  if (in(t.closed_at, q)) {
    ++closed;
    ++(t.reopen_count >= 1 ? reopened : never_reopened);
    if (t.csat && *t.csat >= 1 && *t.csat <= 5) ++csat[static_cast<std::size_t>(*t.csat)];
    if (t.resolved_at) {
      ++closed_with_resolution;
      if (t.csat) ++followed_up;
    }
  }
  if (in_backlog(t, q)) {
    ++backlog;
    ++by_age[age_bucket(q.to - t.created_at)];
  }
}

json tally::to_json() const {
  std::int64_t scored = 0, sum = 0;
  json distribution = json::object();
  for (std::size_t s = 1; s <= 5; ++s) {
    scored += csat[s];
    sum += csat[s] * static_cast<std::int64_t>(s);
    distribution[std::to_string(s)] = csat[s];
  }
  json ages = json::object();
  for (std::size_t i = 0; i < by_age.size(); ++i) ages[age_names[i]] = by_age[i];
  return {{"opened", opened},
          {"closed", closed},
          {"resolved", resolved},
          {"backlog", {{"total", backlog}, {"by_age", std::move(ages)}}},
          {"first_response_seconds", p50_p90(first_response)},
          {"resolution_seconds", p50_p90(resolution)},
          {"on_time_rate", rate(on_time, resolved)},
          {"success_rate", rate(never_reopened, closed)},
          {"reopen_rate", rate(reopened, closed)},
          {"escalation_rate", {{"2", rate(reached[2], opened)}, {"3", rate(reached[3], opened)}}},
          {"handoffs_mean", rate(handoffs, opened)},
          {"csat", {{"mean", rate(sum, scored)}, {"count", scored}, {"distribution", distribution}}},
          {"follow_up_completion", rate(followed_up, closed_with_resolution)},
          {"top_categories", top(categories)},
          {"top_root_causes", top(root_causes)}};
}

std::string_view group_key(const ticket_figures& t, const std::string& by) {
  if (by == "owner") return t.owner.empty() ? std::string_view("(unassigned)") : t.owner;
  if (by == "category") return t.category;
  if (by == "tier") return t.tier;
  static const std::string teams[] = {"L1", "L2", "L3"};  // team: the level reached (1–3, checked by the schema)
  return teams[std::clamp(t.level, 1, 3) - 1];
}

struct risk {
  std::string tier;  // of the customer's latest ticket that counts
  ticket_id latest = 0;
  std::int64_t complaints = 0, low_csat = 0, breaches = 0;
  bool at_risk() const { return complaints >= 2 || low_csat > 0 || breaches > 0; }
};

using risks_by_customer = by_key<risk>;

void add_risk(risks_by_customer& risks, const ticket_figures& t, const kpi_query& q) {
  const bool opened = in(t.created_at, q);
  const bool low = in(t.closed_at, q) && t.csat && *t.csat <= 2;
  const bool breached = sla_of(t, q.to).breached();  // `t` is open in or opened in the period
  if (!opened && !low && !breached) return;
  risk& r = risks[t.customer];
  if (t.id > r.latest) {
    r.latest = t.id;
    r.tier = std::string(t.tier);
  }
  r.complaints += opened;
  r.low_csat += low;
  r.breaches += breached;
}

int tier_rank(const std::string& tier) {
  if (tier == "platinum") return 0;
  if (tier == "gold") return 1;
  return 2;
}

json at_risk_json(const risks_by_customer& risks) {
  std::vector<std::pair<std::string, risk>> v;
  for (const auto& [id, r] : risks.entries())  // the sort below ends on the id
    if (r.at_risk()) v.emplace_back(id, r);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    const int ta = tier_rank(a.second.tier), tb = tier_rank(b.second.tier);
    if (ta != tb) return ta < tb;
    if (a.second.complaints != b.second.complaints) return a.second.complaints > b.second.complaints;
    return a.first < b.first;
  });
  json out = json::array();
  for (const auto& [id, r] : v)
    out.push_back({{"customer", id},
                   {"tier", r.tier},
                   {"complaints", r.complaints},
                   {"low_csat", r.low_csat},
                   {"breaches", r.breaches}});
  return out;
}

// Hands ticket figures from the reading thread to a tallying one, in
// chunks that own copies of their strings (the store's views live for one
// callback). At most `max_chunks` wait, so memory stays bounded whatever
// the period: a chunk is 2,048 tickets, about 0.7 MB.
class figure_pipe {
 public:
  using tally_fn = std::function<void(const ticket_figures&)>;
  explicit figure_pipe(tally_fn tally) : tally_(std::move(tally)) { fill_.rows.reserve(chunk_rows); }
  ~figure_pipe() { finish(); }
  figure_pipe(const figure_pipe&) = delete;
  figure_pipe& operator=(const figure_pipe&) = delete;

  void push(const ticket_figures& t) {
    fill_.rows.push_back(t);
    auto& spans = fill_.spans.emplace_back();
    const std::string_view strings[] = {t.customer, t.tier, t.category, t.owner, t.root_cause};
    for (std::size_t i = 0; i < spans.size(); ++i) {
      spans[i] = {fill_.arena.size(), strings[i].size()};
      fill_.arena.append(strings[i]);
    }
    if (fill_.rows.size() == chunk_rows) hand_over();
  }

  // Tallies what is left and waits for the tallying thread, if one was
  // needed: a period of fewer than chunk_rows tickets starts none.
  void finish() {
    if (!thread_.joinable()) return tally_here();
    if (!fill_.rows.empty()) hand_over();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    ready_.notify_one();
    thread_.join();
  }

 private:
  static constexpr std::size_t chunk_rows = 2048, max_chunks = 4;
  struct chunk {
    std::vector<ticket_figures> rows;  // their strings are views of `arena`, set by tally_chunk
    std::vector<std::array<std::pair<std::size_t, std::size_t>, 5>> spans;
    std::string arena;
  };

  void tally_chunk(chunk& c) {
    for (std::size_t i = 0; i < c.rows.size(); ++i) {
      ticket_figures& t = c.rows[i];
      std::string_view* strings[] = {&t.customer, &t.tier, &t.category, &t.owner, &t.root_cause};
      for (std::size_t k = 0; k < 5; ++k)
        *strings[k] = std::string_view(c.arena).substr(c.spans[i][k].first, c.spans[i][k].second);
      tally_(t);
    }
  }

  // The chunk being filled, tallied on this thread.
  void tally_here() {
    tally_chunk(fill_);
    fill_.rows.clear();
    fill_.spans.clear();
    fill_.arena.clear();
  }

  void hand_over() {
    if (!thread_.joinable() && !alone_) {
      try {
        thread_ = std::thread([this] { run(); });
      } catch (const std::system_error&) {
        alone_ = true;  // no thread to be had: this one tallies, as for a small period
      }
    }
    if (alone_) return tally_here();
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [this] { return queue_.size() < max_chunks; });
    queue_.push_back(std::move(fill_));
    lock.unlock();
    ready_.notify_one();
    fill_ = chunk{};
    fill_.rows.reserve(chunk_rows);
  }

  void run() {
    for (;;) {
      chunk c;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        c = std::move(queue_.front());
        queue_.pop_front();
      }
      room_.notify_one();
      tally_chunk(c);
    }
  }

  tally_fn tally_;
  chunk fill_;  // the reading thread's
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<chunk> queue_;
  bool done_ = false;
  bool alone_ = false;  // the tallying thread could not be started
  std::thread thread_;  // started by the first full chunk
};

}  // namespace

Result<json> compute_kpis(store& s, const sla_policy& policy, const kpi_query& asked) {
  // A default period (30 days back) near 0000-01-01 would start before the
  // first instant plaint stores and prints.
  kpi_query q = asked;
  q.from = std::max(q.from, min_instant);
  if (q.to <= q.from)
    return make_error(errc::invalid, "the report period must end after it starts: from " + format_iso(q.from) +
                                         " is not before to " + format_iso(q.to));
  if (!q.by.empty() && q.by != "owner" && q.by != "category" && q.by != "tier" && q.by != "team")
    return make_error(errc::invalid, "a report groups by team, owner, category or tier, not '" + q.by + "'");

  tally overall;
  by_key<tally> groups;
  risks_by_customer risks;
  // The store hands over the tickets that touch the period through its
  // indexes on the instants (store::scan_period_figures is `relevant`), so
  // a month costs its own tickets, not the whole history. No figure
  // depends on the order they come in, so a second thread tallies while
  // this one reads (figure_pipe).
  figure_pipe pipe([&](const ticket_figures& t) {
    overall.add(t, policy, q);
    if (!q.by.empty()) groups[group_key(t, q.by)].add(t, policy, q);
    add_risk(risks, t, q);
  });
  const Status scanned = s.scan_period_figures(q.from, q.to, [&](const ticket_figures& t) {
    if (relevant(t, q)) pipe.push(t);
    return true;
  });
  pipe.finish();  // the tally is complete once this returns
  PLAINT_TRY(scanned);

  json group_list = json::array();
  for (const auto* group : groups.sorted()) {
    json j = group->second.to_json();
    j["key"] = group->first;
    group_list.push_back(std::move(j));
  }
  return json{{"from", format_iso(q.from)},
              {"to", format_iso(q.to)},
              {"by", q.by},
              {"overall", overall.to_json()},
              {"groups", std::move(group_list)},
              {"customers_at_risk", at_risk_json(risks)}};
}

}  // namespace plaint::engine
