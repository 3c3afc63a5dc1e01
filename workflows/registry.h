// Every workflow this build ships, registered once.
#pragma once

#include "engine/workflow.h"

namespace plaint::workflows {

// `complaint` and `service_request`.
const engine::workflow_registry& builtin_workflows();

}  // namespace plaint::workflows
