#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "tests/workflows/workflow_harness.h"

using plaint::testing::harness;
using namespace plaint;

namespace {

// Every (state, event) pair of SPEC §3 that the complaint workflow accepts.
const std::set<std::pair<std::string, std::string>> spec_allowed = [] {
  std::set<std::pair<std::string, std::string>> s = {
      {"intake", "triage"},          {"intake", "reject"},
      {"triage", "reject"},          {"triage", "start"},
      {"remediation", "request_info"}, {"awaiting_customer", "customer_replied"},
      {"remediation", "resolve"},    {"follow_up", "follow_up_done"},
      {"follow_up", "reopen"},       {"closed", "reopen"}};
  for (const char* st : {"intake", "triage", "remediation", "awaiting_customer", "follow_up"})
    for (const char* ev : {"comment", "assign", "escalate", "set_priority"}) s.insert({st, ev});
  return s;
}();

const char* const all_events[] = {"triage", "reject",  "start",  "request_info", "customer_replied",
                                  "resolve", "follow_up_done", "reopen", "comment", "assign",
                                  "escalate", "set_priority"};

}  // namespace

TEST_CASE("the complaint table accepts exactly the transitions of the specification") {
  harness h("complaint");
  for (const auto& state : h.wf.states()) {
    const auto accepted = h.wf.accepted(state);
    for (const char* ev : all_events) {
      const bool listed = std::find(accepted.begin(), accepted.end(), ev) != accepted.end();
      CHECK_MESSAGE(listed == (spec_allowed.count({state, ev}) == 1), state << " / " << ev);
    }
  }
}

TEST_CASE("every event a state does not accept is refused naming the state and what it accepts") {
  harness h("complaint");
  for (const auto& state : h.wf.states()) {
    for (const char* ev : all_events) {
      if (spec_allowed.count({state, ev})) continue;
      h.t.state = state;
      CHECK_FALSE(h.fire(ev));
      CHECK(h.last_code == engine::errc::not_allowed);
      CHECK(h.last_error == "ticket 42 is in " + state + ", which accepts: " + engine::join(h.wf.accepted(state)));
      CHECK(h.t.state == state);
    }
  }
}

TEST_CASE("an unknown event is refused with the events the state accepts") {
  harness h("complaint");
  CHECK_FALSE(h.fire("teleport"));
  CHECK(h.last_code == engine::errc::not_allowed);
  CHECK(h.last_error ==
        "the complaint workflow has no event 'teleport'; ticket 42 is in intake, which accepts: triage, reject, "
        "comment, assign, escalate, set_priority");
}

TEST_CASE("a complaint walks the whole lifecycle from intake to closed") {
  harness h("complaint");
  REQUIRE(h.fire("triage", {{"owner", "ann"}, {"category", "billing"}, {"priority", "P2"}}));
  CHECK(h.t.state == "triage");
  CHECK(h.t.owner == "ann");
  CHECK(h.t.category == "billing");
  CHECK(h.t.priority == "P2");
  REQUIRE(h.fire("start"));
  CHECK(h.t.state == "remediation");
  CHECK(h.t.first_response_at == h.now);
  REQUIRE(h.fire("request_info"));
  CHECK(h.t.state == "awaiting_customer");
  REQUIRE(h.fire("customer_replied"));
  CHECK(h.t.state == "remediation");
  REQUIRE(h.fire("resolve", {{"resolution_code", "refund"}, {"root_cause", "pricing_error"}}, "refunded 20 EUR"));
  CHECK(h.t.state == "follow_up");
  CHECK(h.t.resolution_code == "refund");
  CHECK(h.t.root_cause == "pricing_error");
  REQUIRE(h.fire("follow_up_done", {{"csat", "4"}}));
  CHECK(h.t.state == "closed");
  CHECK(h.t.csat == 4);
}

TEST_CASE("triage needs an owner and valid category and priority") {
  harness h("complaint");
  CHECK_FALSE(h.fire("triage"));
  CHECK(h.last_error == "triage of ticket 42 needs field owner: the agent accountable for it");
  CHECK_FALSE(h.fire("triage", {{"owner", "ann"}, {"category", "weather"}}));
  CHECK(h.last_error.rfind("category 'weather' is not one of:", 0) == 0);
  CHECK_FALSE(h.fire("triage", {{"owner", "ann"}, {"priority", "P9"}}));
  CHECK(h.last_error == "priority 'P9' is not one of: P1, P2, P3, P4");
  CHECK(h.last_code == engine::errc::not_allowed);
  CHECK(h.t.state == "intake");
}

TEST_CASE("an event field the event does not take is refused") {
  harness h("complaint");
  CHECK_FALSE(h.fire("triage", {{"owner", "ann"}, {"colour", "red"}}));
  CHECK(h.last_error == "event triage takes no field 'colour'; it takes: owner, category, priority");
  CHECK(h.t.state == "intake");
}

TEST_CASE("reject needs one of the known reasons and records it as the resolution code") {
  harness h("complaint");
  CHECK_FALSE(h.fire("reject"));
  CHECK(h.last_error == "reject of ticket 42 needs field reason, one of: duplicate, not_a_complaint, spam");
  CHECK_FALSE(h.fire("reject", {{"reason", "boring"}}));
  REQUIRE(h.fire("reject", {{"reason", "spam"}}));
  CHECK(h.t.state == "closed");
  CHECK(h.t.resolution_code == "spam");
  SUBCASE("a rejected complaint cannot be reopened") {
    CHECK_FALSE(h.fire("reopen"));
    CHECK(h.last_error == "ticket 42 was closed without a resolution (spam) and cannot be reopened");
  }
}

TEST_CASE("resolve needs a resolution code and a note") {
  harness h("complaint");
  h.t.state = "remediation";
  CHECK_FALSE(h.fire("resolve", {}, "done"));
  CHECK(h.last_error == "resolve of ticket 42 needs field resolution_code");
  CHECK_FALSE(h.fire("resolve", {{"resolution_code", "repair"}}));
  CHECK(h.last_error == "resolve of ticket 42 needs a note saying what was done");
  CHECK(h.t.state == "remediation");
}

TEST_CASE("follow-up needs a csat from 1 to 5, or unreachable once the follow-up is due") {
  harness h("complaint");
  h.t.state = "follow_up";
  h.t.resolved_at = h.now - 100;
  h.t.follow_up_due = h.now + 3600;
  for (const char* bad : {"0", "6", "4.5", "five", "-1", " 3"}) {
    CHECK_FALSE(h.fire("follow_up_done", {{"csat", bad}}));
    CHECK(h.last_error == std::string("csat must be a whole number from 1 to 5, not '") + bad + "'");
  }
  CHECK_FALSE(h.fire("follow_up_done"));
  CHECK_FALSE(h.fire("follow_up_done", {{"unreachable", "true"}}));
  CHECK(h.last_error.find("cannot be closed as unreachable before its follow-up is due") != std::string::npos);
  h.now += 3600;
  REQUIRE(h.fire("follow_up_done", {{"unreachable", "true"}}));
  CHECK(h.t.state == "closed");
  CHECK_FALSE(h.t.csat.has_value());
}

TEST_CASE("reopen is allowed only within the reopen window and counts the reopen") {
  harness h("complaint");
  h.t.state = "closed";
  h.t.resolved_at = h.now - 14 * 86400;
  REQUIRE(h.fire("reopen"));
  CHECK(h.t.state == "remediation");
  CHECK(h.t.reopen_count == 1);
  h.t.state = "follow_up";
  h.t.resolved_at = h.now - 14 * 86400 - 1;
  CHECK_FALSE(h.fire("reopen"));
  CHECK(h.last_error.find("its 14-day reopen window closed at") != std::string::npos);
}

TEST_CASE("housekeeping events keep the state and do their bookkeeping") {
  harness h("complaint");
  REQUIRE(h.fire("assign", {{"owner", "bob"}}));
  CHECK(h.t.owner == "bob");
  CHECK(h.t.handoff_count == 0);
  REQUIRE(h.fire("assign", {{"owner", "cai"}}));
  CHECK(h.t.handoff_count == 1);
  CHECK_FALSE(h.fire("assign", {{"owner", "cai"}}));
  CHECK(h.last_error == "ticket 42 is already owned by cai");
  CHECK_FALSE(h.fire("comment"));
  CHECK(h.last_error == "a comment on ticket 42 needs a note");
  REQUIRE(h.fire("comment", {{"from", "customer"}}, "any news?"));
  CHECK_FALSE(h.t.first_response_at.has_value());
  REQUIRE(h.fire("comment", {}, "we are on it"));
  CHECK(h.t.first_response_at == h.now);
  REQUIRE(h.fire("escalate", {{"reason", "angry"}}));
  REQUIRE(h.fire("escalate"));
  CHECK(h.t.level == 3);
  CHECK_FALSE(h.fire("escalate"));
  CHECK(h.last_error == "ticket 42 is already at level 3, the top of the support ladder");
  REQUIRE(h.fire("set_priority", {{"priority", "P1"}}));
  CHECK(h.t.priority == "P1");
  CHECK_FALSE(h.fire("set_priority", {{"priority", "P1"}}));
  CHECK_FALSE(h.fire("set_priority", {{"priority", "urgent"}}));
  CHECK(h.t.state == "intake");
}

TEST_CASE("a ticket is restored into each stored state before the event") {
  harness h("complaint");
  for (const auto& state : h.wf.states()) {
    if (state == "closed") continue;
    h.t.state = state;
    h.t.level = 1;
    REQUIRE(h.fire("escalate"));
    CHECK(h.t.state == state);
  }
  h.t.state = "limbo";
  CHECK_FALSE(h.fire("comment", {}, "x"));
}

TEST_CASE("the table is printed from the machine in text, mermaid and dot") {
  harness h("complaint");
  const auto text = engine::render_table(h.wf, "text");
  CHECK(text.find("intake") != std::string::npos);
  CHECK(text.find("has_owner") != std::string::npos);
  CHECK(text.find("intake, triage, remediation, awaiting_customer, follow_up  comment") != std::string::npos);
  const auto mermaid = engine::render_table(h.wf, "mermaid");
  CHECK(mermaid.find("follow_up --> closed : follow_up_done") != std::string::npos);
  const auto dot = engine::render_table(h.wf, "dot");
  CHECK(dot.find("closed -> remediation [label=\"reopen\"];") != std::string::npos);
  CHECK(h.wf.table().size() == 14);
}
