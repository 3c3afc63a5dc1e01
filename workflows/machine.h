// The shared part of every Boost.MSM workflow: the context a machine reads
// and writes while it handles one event, the housekeeping guards and actions,
// and `msm_workflow<Front>`, the adapter that turns an MSM front end into an
// `engine::workflow`.
//
// Private to workflows/*.cpp: it includes Boost.MSM, which nothing outside
// this folder may see. Each machine is instantiated in its own .cpp.
//
// How one event is applied (no MSM instance outlives the call):
//   1. `restoring` is every machine's initial pseudo-state; it has one
//      eventless row per persisted state, guarded by `stored_is<S>`. Setting
//      the stored state's name on the context and calling `start()` lands the
//      machine in that state.
//   2. `process_event` runs the guard and action of the matching row. Guards
//      explain a refusal in `context::refusal`; actions change
//      `context::next`, the ticket as it will be after the event.
//   3. The result (HANDLED_TRUE / HANDLED_GUARD_REJECT / HANDLED_FALSE) and
//      the state last entered become the engine's answer.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/mpl/for_each.hpp>
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <fmt/format.h>

#include "engine/workflow.h"

namespace plaint::workflows {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::Internal;
using msm::front::none;
using msm::front::Row;

// ---------------------------------------------------------------- context

struct context {
  const engine::transition_input* in = nullptr;
  engine::ticket next;
  engine::json payload = engine::json::object();
  std::string stored;   // the state to restore
  std::string entered;  // the state last entered
  std::string refusal;  // why a guard said no

  std::string_view field(std::string_view key) const {
    auto it = in->fields.find(key);
    return it == in->fields.end() ? std::string_view() : std::string_view(it->second);
  }
  bool has(std::string_view key) const { return !field(key).empty(); }
  bool refuse(std::string why) {
    refusal = std::move(why);
    return false;
  }
  engine::ticket_id id() const { return in->current.id; }
};

// Every front end derives from this: it holds the context and swallows
// `no_transition` (the adapter answers refusals itself).
template <class Derived>
struct machine_base : msm::front::state_machine_def<Derived> {
  context* ctx = nullptr;
  template <class Fsm, class Event>
  void no_transition(Event const&, Fsm&, int) {}
};

// A persisted state: records its name when entered.
template <class Derived>
struct named_state : msm::front::state<> {
  template <class Event, class Fsm>
  void on_entry(Event const&, Fsm& fsm) {
    fsm.ctx->entered = Derived::name;
  }
};

struct restoring : msm::front::state<> {
  static constexpr auto name = "restoring";
};

template <class State>
struct stored_is {
  static constexpr auto name = "stored_is";
  template <class Evt, class Fsm, class Src, class Tgt>
  bool operator()(Evt const&, Fsm& fsm, Src&, Tgt&) const {
    return fsm.ctx->stored == State::name;
  }
};

// An event type: its SPEC name and its fields ("owner!, category": ! = required;
// `note` stands for the event's note, which travels beside the fields).
#define PLAINT_EVENT(type, fields_spec)              \
  struct type {                                      \
    static constexpr auto name = #type;              \
    static constexpr auto fields = fields_spec;      \
  }

// Guard and action functors. `PLAINT_GUARD(has_owner) { ... return bool; }`
// declares and defines one with `ctx` (context&) in scope; the `_DECL` forms
// only declare (shared ones, defined in actions.cpp).
#define PLAINT_GUARD_DECL(type)                                                      \
  struct type {                                                                   \
    static constexpr auto name = #type;                                           \
    template <class Evt, class Fsm, class Src, class Tgt>                         \
    bool operator()(Evt const&, Fsm& fsm, Src&, Tgt&) const { return check(*fsm.ctx); } \
    static bool check(context& ctx);                                              \
  }
#define PLAINT_ACTION_DECL(type)                                                     \
  struct type {                                                                   \
    static constexpr auto name = #type;                                           \
    template <class Evt, class Fsm, class Src, class Tgt>                         \
    void operator()(Evt const&, Fsm& fsm, Src&, Tgt&) const { run(*fsm.ctx); }    \
    static void run(context& ctx);                                                \
  }
#define PLAINT_GUARD(type) PLAINT_GUARD_DECL(type); bool type::check(context& ctx)
#define PLAINT_ACTION(type) PLAINT_ACTION_DECL(type); void type::run(context& ctx)

// ---------------------------------------------- housekeeping, every open state

namespace ev {
PLAINT_EVENT(comment, "note!, from");  // `note` is the event note, not a field
PLAINT_EVENT(assign, "owner!");
PLAINT_EVENT(escalate, "reason");
PLAINT_EVENT(set_priority, "priority!");
}  // namespace ev

PLAINT_GUARD_DECL(has_note);
PLAINT_GUARD_DECL(has_new_owner);
PLAINT_GUARD_DECL(below_top_level);
PLAINT_GUARD_DECL(valid_priority);
PLAINT_ACTION_DECL(add_comment);
PLAINT_ACTION_DECL(hand_off);
PLAINT_ACTION_DECL(raise_level);
PLAINT_ACTION_DECL(reprioritise);

// Every open state accepts these without leaving the state.
template <class Derived>
struct open_state : named_state<Derived> {
  struct internal_transition_table : mpl::vector<
    //        event             action        guard
    Internal<ev::comment,      add_comment,  has_note>,
    Internal<ev::assign,       hand_off,     has_new_owner>,
    Internal<ev::escalate,     raise_level,  below_top_level>,
    Internal<ev::set_priority, reprioritise, valid_priority>> {};
};

// Shared guards and actions of the lifecycles.
PLAINT_GUARD_DECL(in_reopen_window);
PLAINT_ACTION_DECL(first_touch);
PLAINT_ACTION_DECL(count_reopen);

// Parses a field that must be a whole number in [lo, hi].
bool parse_int_field(std::string_view text, int lo, int hi, int& out);

// ---------------------------------------------------------------- adapter

template <class T>
struct type_tag {
  using tagged = T;
};

template <class T>
constexpr const char* name_of() {
  if constexpr (std::is_same_v<T, none>)
    return "none";
  else
    return T::name;
}

// The adapter. `Front` provides: `transition_table`, `states` (mpl::vector of
// persisted states), `events` (mpl::vector of event types), `static
// engine::clock_mode clock_of(std::string_view)`, `name`, `initial`.
template <class Front>
class msm_workflow final : public engine::workflow {
  using machine = msm::back::state_machine<Front>;
  using dispatch_fn = msm::back::HandledEnum (*)(machine&);

 public:
  msm_workflow() {
    mpl::for_each<typename Front::states, type_tag<mpl::_1>>([this](auto tag) { this->add_state(tag); });
    mpl::for_each<typename Front::transition_table, type_tag<mpl::_1>>(
        [this](auto tag) { this->add_row(tag); });
    mpl::for_each<typename Front::states, type_tag<mpl::_1>>(
        [this](auto tag) { this->add_internal_rows(tag); });
    mpl::for_each<typename Front::events, type_tag<mpl::_1>>([this](auto tag) { this->add_event(tag); });
  }

  std::string_view name() const override { return Front::name; }
  std::string_view initial_state() const override { return Front::initial; }
  const std::vector<std::string>& states() const override { return states_; }
  const std::vector<engine::table_row>& table() const override { return table_; }
  engine::clock_mode clock_of(std::string_view state) const override { return Front::clock_of(state); }

  engine::Result<engine::transition_output> apply(const engine::transition_input& in) const override {
    const std::string& state = in.current.state;
    auto refused_here = [&] {
      return engine::make_error(engine::errc::not_allowed,
                                fmt::format("ticket {} is in {}, which accepts: {}", in.current.id, state,
                                            engine::join(accepted(state))));
    };
    auto ev = events_.find(in.event);
    if (ev == events_.end())
      return engine::make_error(
          engine::errc::not_allowed,
          fmt::format("the {} workflow has no event '{}'; ticket {} is in {}, which accepts: {}",
                      Front::name, in.event, in.current.id, state, engine::join(accepted(state))));
    const auto acc = accepted(state);
    if (std::find(acc.begin(), acc.end(), in.event) == acc.end()) return refused_here();
    for (const auto& [key, value] : in.fields) {
      (void)value;
      if (std::find(ev->second.fields.begin(), ev->second.fields.end(), key) == ev->second.fields.end())
        return engine::make_error(
            engine::errc::not_allowed,
            fmt::format("event {} takes no field '{}'; it takes: {}", in.event, key,
                        ev->second.fields.empty() ? std::string("none") : engine::join(ev->second.fields)));
    }

    context ctx;
    ctx.in = &in;
    ctx.next = in.current;
    ctx.stored = state;
    machine m;
    m.ctx = &ctx;
    m.start();
    if (ctx.entered != state)
      return engine::make_error(engine::errc::internal,
                                fmt::format("ticket {} is stored in state '{}', which the {} workflow does not have",
                                            in.current.id, state, Front::name));
    switch (ev->second.dispatch(m)) {
      case msm::back::HANDLED_TRUE:
        ctx.next.state = ctx.entered;
        return engine::transition_output{std::move(ctx.next), std::move(ctx.payload)};
      case msm::back::HANDLED_GUARD_REJECT:
        return engine::make_error(engine::errc::not_allowed, std::move(ctx.refusal));
      default:
        return refused_here();
    }
  }

 private:
  struct event_info {
    dispatch_fn dispatch = nullptr;
    std::vector<std::string> fields;
    std::string spec;
  };

  template <class S>
  void add_state(type_tag<S>) {
    states_.emplace_back(S::name);
  }

  template <class R>
  void add_row(type_tag<R>) {
    if constexpr (!std::is_same_v<typename R::Source, restoring>)
      table_.push_back({{name_of<typename R::Source>()}, name_of<typename R::Evt>(),
                        name_of<typename R::Target>(), name_of<typename R::Action>(),
                        name_of<typename R::Guard>(), R::Evt::fields});
  }

  template <class S>
  void add_internal_rows(type_tag<S>) {
    if constexpr (std::is_base_of_v<open_state<S>, S>) {
      if (housekeeping_.empty())
        mpl::for_each<typename S::internal_transition_table, type_tag<mpl::_1>>([this](auto tag) {
          using R = typename decltype(tag)::tagged;
          housekeeping_.push_back(table_.size());
          table_.push_back({{}, name_of<typename R::Evt>(), "same", name_of<typename R::Action>(),
                            name_of<typename R::Guard>(), R::Evt::fields});
        });
      for (std::size_t i : housekeeping_) table_[i].from.emplace_back(S::name);
    }
  }

  template <class E>
  void add_event(type_tag<E>) {
    event_info info;
    info.dispatch = [](machine& m) { return m.process_event(E{}); };
    info.spec = E::fields;
    std::string_view spec = E::fields;
    while (!spec.empty()) {
      const auto comma = spec.find(',');
      std::string_view item = spec.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      if (!item.empty() && item.back() == '!') item.remove_suffix(1);
      if (!item.empty() && item != "note") info.fields.emplace_back(item);
      spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    }
    events_.emplace(E::name, std::move(info));
  }

  std::vector<std::string> states_;
  std::vector<engine::table_row> table_;
  std::vector<std::size_t> housekeeping_;
  std::map<std::string, event_info, std::less<>> events_;
};

}  // namespace plaint::workflows
