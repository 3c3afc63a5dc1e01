#!/usr/bin/env bash
# Backup while plaint serve takes a load: durable comment events/s over
# loopback without a backup, then with `plaint backup` running, on a copy
# of the desk you name (bench_desk builds one). Prints the backup's time,
# size and checks, and the two rates.
#
#   bash bench/backup_under_load.sh PLAINT DESK [SECONDS]
set -euo pipefail
PLAINT=$(realpath "$1")
DESK=$2
secs=${3:-30}
conns=64
t=$(mktemp -d /tmp/plaint-backup-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$t"; }
trap cleanup EXIT
export PLAINT_DB="$DESK"
token=$("$PLAINT" token create --name backup-bench --role agent 2>/dev/null | grep -o 'plt_[A-Za-z0-9_]*' | head -1)
ids=$("$PLAINT" --json list --open --limit 100 2>/dev/null | python3 -c 'import json,sys; print(" ".join(str(t["id"]) for t in json.load(sys.stdin)))')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PLAINT" serve --listen "127.0.0.1:$port" --log-level error >"$t/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
cat >"$t/comments.lua" <<'LUA'
local ids = {}
for id in string.gmatch(os.getenv("IDS"), "%d+") do ids[#ids + 1] = id end
local token = os.getenv("TOKEN")
local n = 0
function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/tickets/" .. ids[n % #ids + 1] .. "/events",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" },
    '{"event":"comment","note":"backup bench ' .. n .. '"}')
end
LUA
load() { IDS="$ids" TOKEN="$token" wrk -t2 -c$conns -d"${1}s" --latency -s "$t/comments.lua" "http://127.0.0.1:$port/"; }
load "$secs" >"$t/quiet.txt"
load "$secs" >"$t/busy.txt" &
wrk_pid=$!
sleep 1
start=$(date +%s.%N)
"$PLAINT" --json backup "$t/backup.db" >"$t/backup.json"
end=$(date +%s.%N)
wait $wrk_pid
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
rate() { awk '/Requests\/sec/{print int($2)}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
python3 - "$t/backup.json" "$(rate "$t/quiet.txt")" "$(p99 "$t/quiet.txt")" "$(rate "$t/busy.txt")" "$(p99 "$t/busy.txt")" "$start" "$end" "$secs" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
quiet, qp99, busy, bp99, start, end, secs = sys.argv[2:]
print(f"backup: {b['bytes'] / 1e9:.2f} GB copied in {b['copy_seconds']:.1f} s, checked in {b['check_seconds']:.1f} s "
      f"(integrity, audit chain of {b['events']} events); anchor {b['anchor']}")
print(f"without a backup: {quiet} durable events/s, p99 {qp99} ({secs} s, 64 connections)")
print(f"with the backup running: {busy} durable events/s, p99 {bp99} (the backup ran "
      f"{float(end) - float(start):.1f} s of the {secs} s)")
PY
