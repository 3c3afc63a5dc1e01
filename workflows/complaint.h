// The complaint workflow of SPEC §3:
// intake → triage → remediation ⇄ awaiting_customer → follow_up → closed.
#pragma once

#include "engine/workflow.h"

namespace plaint::workflows {

const engine::workflow& complaint_workflow();

}  // namespace plaint::workflows
