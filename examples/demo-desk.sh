#!/usr/bin/env bash
# The demo desk: installs what is missing, builds plaint, seeds a database
# with a dozen customers across the three value tiers and about fifty
# complaints in varied states (some in Chinese) whose SLA timers fired as
# the seeded days went by, worked by the desk's people (four agents, a
# supervisor and an admin, each with a password for the web desk), shows the
# queue and the escalation board, and starts `plaint serve` with an agent
# and a supervisor token.
#
#   bash examples/demo-desk.sh            # database: build/demo/plaint.db
#   PLAINT_DEMO_DB=/tmp/x.db bash examples/demo-desk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cmake/install-deps.sh
plaint_install_deps

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target plaint

PLAINT="$PWD/build/cli/plaint"
DB="${PLAINT_DEMO_DB:-$PWD/build/demo/plaint.db}"
mkdir -p "$(dirname "$DB")"
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-search" "$DB-search-wal" "$DB-search-shm"

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
T=$(date -u +%s)
ACTOR=desk
p() { "$PLAINT" --db "$DB" --actor "$ACTOR" --now "$(iso "$T")" "$@"; }
ev() { p event "$@" >/dev/null; }

p init >/dev/null

# The desk's people: they sign in to the web desk, own the complaints and
# escalate them. Once anyone is in the directory, every owner must be one.
# id | name | role | team | password
people=(
  "li.na|李娜|agent|L1|li.na-demo-1"
  "tom.k|Tom Keller|agent|L1|tom.k-demo-1"
  "sara.b|Sara Berg|agent|L2|sara.b-demo-1"
  "wei.chen|陈伟|agent|L2|wei.chen-demo-1"
  "wang.fang|王芳|supervisor|L2|wang.fang-demo-1"
  "desk.admin|Desk Admin|admin|L3|desk.admin-demo-1"
)
declare -A password
for u in "${people[@]}"; do
  IFS='|' read -r id name role team pw <<<"$u"
  p user add --id "$id" --name "$name" --email "$id@desk.example" --role "$role" --team "$team" >/dev/null
  printf '%s\n' "$pw" | p user password "$id" >/dev/null
  password[$id]=$pw
done

customers=(
  "c-anna|Anna Schmidt|standard" "c-ben|Ben Okafor|standard" "c-chloe|Chloé Martin|standard"
  "c-zhang|张伟|standard" "c-dev|Devi Raman|gold" "c-eli|Eli Cohen|gold" "c-liu|刘洋|gold"
  "c-marta|Marta Nowak|gold" "c-acme|ACME Logistics GmbH|platinum" "c-huawen|华文科技有限公司|platinum"
  "c-nord|Nordhafen Stadtwerke|platinum" "c-wang|王芳|platinum"
)
for c in "${customers[@]}"; do
  IFS='|' read -r id name tier <<<"$c"
  p customer add --id "$id" --name "$name" --tier "$tier" >/dev/null
done

# subject | category | channel | priority
complaints=(
  "Parcel arrived with a crushed corner|delivery|email|P3"
  "快递延误三天，要求退款|delivery|phone|P2"
  "Charged twice for the March invoice|billing|web|P2"
  "Router drops the connection every evening|technical|chat|P2"
  "Agent hung up on me during the call|service_attitude|phone|P3"
  "洗衣机漏水，售后一直没人上门|product_quality|phone|P1"
  "Wrong size delivered, exchange requested|delivery|web|P4"
  "App shows an outdated balance|technical|web|P3"
  "发票抬头开错了，需要重开|billing|email|P3"
  "Courier left the parcel in the rain|delivery|social|P3"
  "Heating unit makes a loud noise|product_quality|phone|P2"
  "客服态度很差，问题没有解决|service_attitude|chat|P2"
  "Refund promised two weeks ago never arrived|billing|email|P1"
  "Installation technician did not show up|service_attitude|phone|P2"
  "Firmware update bricked the device|technical|web|P1"
  "空调不制冷，刚买一个月|product_quality|in_person|P2"
)
owners=(li.na tom.k sara.b wei.chen)
now=$T
n=${#complaints[@]}
for i in $(seq 0 49); do
  T=$((now - (50 - i) * 6 * 3600 - 1800))
  ACTOR=system
  p tick >/dev/null                                   # the SLA timers fire as time goes by
  IFS='|' read -r subject category channel priority <<<"${complaints[i % n]}"
  IFS='|' read -r cust _ _ <<<"${customers[i % 12]}"
  ACTOR=desk
  id=$(p open --customer "$cust" --subject "$subject" --category "$category" --channel "$channel" \
         --priority "$priority" --description "Logged by the front desk (demo ticket $((i + 1))).")
  owner=${owners[i % 4]}
  stage=$((i % 8))
  [ $stage -eq 0 ] && continue                        # still in intake
  T=$((T + 1200)); ACTOR=$owner
  if [ $stage -eq 7 ] && [ $((i % 16)) -eq 7 ]; then  # rejected at intake
    ev "$id" reject --set reason=duplicate --note "Same issue as an earlier ticket."
    continue
  fi
  ev "$id" triage --set owner="$owner"
  [ $((i % 5)) -eq 3 ] && { T=$((T + 600)); ACTOR=wang.fang; ev "$id" escalate --set reason="customer called again"; ACTOR=$owner; }
  [ $stage -eq 1 ] && continue                        # triaged, not started
  T=$((T + 1800)); ev "$id" start --note "Called the customer back."
  [ $stage -eq 2 ] && continue                        # in remediation
  if [ $stage -eq 3 ]; then                           # waiting for the customer
    T=$((T + 600)); ev "$id" request_info --note "Asked for photos and the order number."
    continue
  fi
  T=$((T + 3600))
  ev "$id" resolve --set resolution_code=resolved_first_contact --set root_cause="$category" \
     --note "Problem solved; customer informed. 已处理。"
  [ $stage -eq 4 ] && continue                        # in follow-up
  T=$((T + 7200)); csat=$(( (i % 5) + 1 ))
  ev "$id" follow_up_done --set csat=$csat --note "Follow-up call done."
  if [ $stage -eq 6 ] && [ $csat -le 2 ]; then        # unhappy: reopened
    T=$((T + 600)); ev "$id" reopen --note "Customer says the problem is back."
  fi
done
T=$now
ACTOR=system
p tick >/dev/null

echo
echo "Demo database: $DB"
echo
echo "== Open queue (plaint --db $DB list --open)"
p list --open --limit 60
echo
echo "== Escalation board (plaint --db $DB escalations)"
p escalations
echo
p audit verify
echo
echo "Try: $PLAINT --db $DB show 2"

AGENT=$(p token create --name li.na --role agent 2>/dev/null)
SUPERVISOR=$(p token create --name wang.fang --role supervisor 2>/dev/null)
PORT="${PLAINT_PORT:-8080}"
echo
echo "API tokens (shown once):"
echo "  agent li.na:          $AGENT"
echo "  supervisor wang.fang: $SUPERVISOR"
echo "  curl -H \"Authorization: Bearer $SUPERVISOR\" http://127.0.0.1:$PORT/api/v1/escalations"
echo
echo "People of the desk (user id / password):"
for u in "${people[@]}"; do
  IFS='|' read -r id name role team _ <<<"$u"
  printf '  %-11s %-18s %-10s %s  %s\n' "$id" "${password[$id]}" "$role" "$team" "$name"
done
echo
echo "Web desk: http://127.0.0.1:$PORT/"
echo "  sign in as the agent:      li.na / ${password[li.na]}"
echo "  sign in as the supervisor: wang.fang / ${password[wang.fang]}"
if [ -n "${PLAINT_DEMO_NO_SERVE:-}" ]; then exit 0; fi
echo
echo "plaint serve on http://127.0.0.1:$PORT (Ctrl-C stops it)"
exec "$PLAINT" --db "$DB" serve --listen "127.0.0.1:$PORT"
