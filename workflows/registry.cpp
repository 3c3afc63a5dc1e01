#include "workflows/registry.h"

#include "workflows/complaint.h"
#include "workflows/service_request.h"

namespace plaint::workflows {

const engine::workflow_registry& builtin_workflows() {
  static const engine::workflow_registry registry = [] {
    engine::workflow_registry r;
    r.add(complaint_workflow());
    r.add(service_request_workflow());
    return r;
  }();
  return registry;
}

}  // namespace plaint::workflows
