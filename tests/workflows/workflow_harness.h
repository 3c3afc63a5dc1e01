// Drives a workflow directly (no storage) for the workflow tests.
#pragma once

#include <string>

#include "engine/workflow.h"
#include "workflows/registry.h"

namespace plaint::testing {

struct harness {
  const engine::workflow& wf;
  engine::ticket t;
  engine::timestamp now = 1'700'000'000;
  std::string last_error;
  engine::errc last_code = engine::errc::internal;

  explicit harness(const char* workflow) : wf(*workflows::builtin_workflows().find(workflow)) {
    t.id = 42;
    t.workflow = workflow;
    t.state = std::string(wf.initial_state());
  }

  // Applies the event; on success the ticket moves on. Returns success.
  bool fire(const std::string& event, engine::field_map fields = {}, const std::string& note = "",
            const std::string& actor = "agent.ann") {
    engine::transition_input in{t, event, fields, note, actor, now, 14};
    auto r = wf.apply(in);
    if (!r) {
      last_error = r.error().message;
      last_code = r.error().code;
      return false;
    }
    t = r->next;
    return true;
  }
};

}  // namespace plaint::testing
