// The service-request workflow: open → in_progress → done → closed. Smaller
// than `complaint`; it shows the engine is not tied to one machine.
#pragma once

#include "engine/workflow.h"

namespace plaint::workflows {

const engine::workflow& service_request_workflow();

}  // namespace plaint::workflows
