#include <doctest/doctest.h>

#include "tests/workflows/workflow_harness.h"

using plaint::testing::harness;
using namespace plaint;

TEST_CASE("a service request goes open, in progress, done, closed") {
  harness h("service_request");
  CHECK(h.t.state == "open");
  CHECK_FALSE(h.fire("start"));
  CHECK(h.last_error == "start of request 42 needs field owner: nobody owns it yet");
  REQUIRE(h.fire("start", {{"owner", "dan"}}));
  CHECK(h.t.state == "in_progress");
  CHECK(h.t.owner == "dan");
  CHECK_FALSE(h.fire("complete"));
  REQUIRE(h.fire("complete", {}, "installed the router"));
  CHECK(h.t.state == "done");
  CHECK(h.t.resolution_code == "done");
  h.t.resolved_at = h.now;
  REQUIRE(h.fire("close"));
  CHECK(h.t.state == "closed");
  REQUIRE(h.fire("reopen"));
  CHECK(h.t.state == "in_progress");
  CHECK(h.t.reopen_count == 1);
}

TEST_CASE("a service request refuses complaint events and events its state does not accept") {
  harness h("service_request");
  CHECK_FALSE(h.fire("triage", {{"owner", "x"}}));
  CHECK(h.last_error.rfind("the service_request workflow has no event 'triage'", 0) == 0);
  CHECK_FALSE(h.fire("close"));
  CHECK(h.last_error == "ticket 42 is in open, which accepts: start, cancel, comment, assign, escalate, set_priority");
  REQUIRE(h.fire("cancel", {{"reason", "customer withdrew"}}));
  CHECK(h.t.state == "closed");
  CHECK(h.wf.accepted("closed") == std::vector<std::string>{"reopen"});
}
