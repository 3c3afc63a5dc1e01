// What the engine needs of a workflow: its states and events, the transition
// table for display, and `apply` — restore a machine to a ticket's stored
// state, feed it one event, and report the new ticket or a refusal.
//
// Implementations live in `workflows/` (Boost.MSM); the engine sees only this
// interface. A workflow never touches storage or the clock: it reads `now`
// from the input and returns the changed ticket, which the executor commits.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"

namespace plaint::engine {

using field_map = std::map<std::string, std::string, std::less<>>;

// How a state treats the SLA clocks.
enum class clock_mode {
  running,   // clocks run
  paused,    // resolution clock stops: the policy's pause states (awaiting_customer)
  resolved,  // solved, in follow-up; only the follow-up timer runs
  closed,    // final
};

struct table_row {
  std::vector<std::string> from;  // several sources for housekeeping rows
  std::string event;
  std::string to;                 // "same" for internal transitions
  std::string action;             // "none" if none
  std::string guard;              // "none" if none
  std::string fields;             // the event's fields, "owner!, category, priority" (! = required)
};

struct transition_input {
  const ticket& current;
  std::string_view event;
  const field_map& fields;
  std::string_view note;
  std::string_view actor;
  timestamp now = 0;
  int reopen_window_days = 14;
};

struct transition_output {
  ticket next;                  // the ticket after the event (state, fields)
  json payload = json::object();  // what the audit event records beyond from/to
};

class workflow {
 public:
  virtual ~workflow() = default;

  virtual std::string_view name() const = 0;
  virtual std::string_view initial_state() const = 0;
  virtual const std::vector<std::string>& states() const = 0;
  virtual const std::vector<table_row>& table() const = 0;
  // running, resolved or closed; the SLA policy decides which states pause.
  virtual clock_mode clock_of(std::string_view state) const = 0;

  // Events the state accepts, in table order.
  std::vector<std::string> accepted(std::string_view state) const;

  // Returns the new ticket (state changed or not) and the event payload;
  // `not_allowed` naming the state and what it accepts if the event is not
  // accepted there, or why the guard refused (missing or invalid field);
  // `invalid` for an event name this workflow does not have.
  virtual Result<transition_output> apply(const transition_input& in) const = 0;
};

// The set of workflows a process knows; `cli` fills it from `workflows/`.
class workflow_registry {
 public:
  void add(const workflow& w) { items_.push_back(&w); }
  const workflow* find(std::string_view name) const;
  const std::vector<const workflow*>& all() const { return items_; }
  std::vector<std::string> names() const;

 private:
  std::vector<const workflow*> items_;
};

// The table as text (aligned columns), Mermaid stateDiagram or Graphviz dot.
std::string render_table(const workflow& w, std::string_view format);

}  // namespace plaint::engine
