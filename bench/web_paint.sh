#!/usr/bin/env bash
# The web desk's first paint and page weight on a large desk, beside the same
# measurement on an empty one (bench/, not part of the test suite):
#
#   bash bench/web_paint.sh [TICKETS] [RUNS]      # defaults: 1000000 tickets, 7 loads
#
# The desk of TICKETS complaints is made once by build/bench/bench_desk
# (through the executor, so `plaint audit verify` passes; checked once, after
# it is made) and kept in build/bench-desk/desk-TICKETS.db for later runs
# (PLAINT_BENCH_DESK_DIR to keep it elsewhere; delete the file to make it
# anew). Each run adds a person with a password, fires the SLA timers that
# fell due since (`plaint tick`, so the server does not start on a backlog),
# starts `plaint serve` on a free port and runs bench/web_paint.mjs against
# it: headless Chromium signs in, then loads the queue RUNS times with an
# empty cache and RUNS times reloading, and weighs every response.
#
# Targets: first paint < 300 ms, page weight < 200 KB compressed.
# Needs: build/cli/plaint and build/bench/bench_desk (built here with
# `nice cmake --build build -j2` when missing), /usr/bin/chromium (or
# $PLAINT_CHROMIUM), tests/web/node_modules (npm install there).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
tickets="${1:-1000000}"
runs="${2:-7}"
build="$repo/build"
plaint="$build/cli/plaint"
make_desk="$build/bench/bench_desk"
desk_dir="${PLAINT_BENCH_DESK_DIR:-$build/bench-desk}"
desk="$desk_dir/desk-$tickets.db"
user=bench.agent
password=bench-agent-pw

if [[ ! -x "$plaint" || ! -x "$make_desk" ]]; then
  nice cmake --build "$build" -j2 --target plaint bench_desk
fi
if [[ ! -d "$repo/tests/web/node_modules/playwright-core" ]]; then
  (cd "$repo/tests/web" && npm install --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$desk_dir"

tmp="$(mktemp -d)"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the desks -------------------------------------------------------------

if [[ ! -f "$desk" ]]; then
  echo "making a desk of $tickets complaints in $desk (once; later runs reuse it)"
  rm -f "$desk.part" "$desk.part-wal" "$desk.part-shm" "$desk.part-search" "$desk.part-search-wal" "$desk.part-search-shm"
  t0=$(date +%s.%N)
  nice "$make_desk" --db "$desk.part" --tickets "$tickets"
  t1=$(date +%s.%N)
  echo "checking it: plaint audit verify"
  "$plaint" --db "$desk.part" audit verify
  t2=$(date +%s.%N)
  mv "$desk.part" "$desk"
  mv "$desk.part-search" "$desk-search"  # its search file goes with it
  printf 'made %s: %s complaints in %s s, audit verify %s s, %s bytes, on %s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$tickets" "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" \
    "$(stat -c %s "$desk")" "$(hostname)" >"$desk.made"
fi
[[ -f "$desk.made" ]] && cat "$desk.made"

empty="$tmp/empty.db"
"$plaint" --db "$empty" init >/dev/null

prepare() {  # DB: the person who signs in, and the timers due by now
  local db="$1"
  "$plaint" --db "$db" user add --id "$user" --name "Bench Agent" --email "$user@desk.example" --role agent --team L1 >/dev/null
  printf '%s\n' "$password" | "$plaint" --db "$db" user password "$user" >/dev/null
  local t0 fired
  t0=$(date +%s.%N)
  fired=$("$plaint" --db "$db" tick | grep -vc '^no timer was due' || true)
  printf '  %s: %s SLA timers fired by plaint tick (%s s)\n' "$(basename "$db")" "$fired" "$(elapsed "$t0" "$(date +%s.%N)")"
}

# ---- one measurement -------------------------------------------------------

measure() {  # DB LABEL OUT
  local db="$1" label="$2" out="$3" url=""
  "$plaint" --db "$db" serve --listen 127.0.0.1:0 >"$tmp/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    url="$(grep -o 'listening on http://[^ ]*' "$tmp/serve.log" | head -n1 | cut -d' ' -f3 || true)"
    [[ -n "$url" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$url" ]]; then
    echo "plaint serve did not start:" >&2
    cat "$tmp/serve.log" >&2
    exit 1
  fi
  node "$here/web_paint.mjs" "$url" "$user:$password" "$runs" "$label" | tee "$out.txt" | grep -v '^JSON '
  grep '^JSON ' "$out.txt" | cut -c6- >"$out.json"
  stop_server
}

echo
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
prepare "$desk"
prepare "$empty"
open_count=$(sqlite3 -readonly "$desk" "SELECT count(*) FROM tickets WHERE state <> 'closed'" 2>/dev/null || echo "?")
echo "  $(basename "$desk"): $tickets complaints, $open_count open"

measure "$desk" "desk of $tickets complaints" "$tmp/big"
measure "$empty" "empty desk (baseline)" "$tmp/empty"

# ---- the figures side by side ----------------------------------------------

node - "$tmp/big.json" "$tmp/empty.json" "$tickets" "$runs" <<'EOF'
const fs = require('fs');
const [big, empty] = [process.argv[2], process.argv[3]].map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const tickets = Number(process.argv[4]).toLocaleString('en'), runs = process.argv[5];
const ms = (x) => (x === null || x === undefined ? 'n/a' : `${Math.round(x)} ms`);
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
const row = (name, a, b) => console.log(`  ${name.padEnd(38)}${a.padStart(22)}${b.padStart(22)}`);
const mm = (s) => `${ms(s.median)} / ${ms(s.max)}`;
console.log(`\n================ web desk: first paint and page weight ================`);
console.log(`  queue at 1280x800, ${runs} loads each; median / max from navigation start`);
row('', `${tickets} tickets`, 'empty desk');
row('cold cache: first contentful paint', mm(big.cold.fcp), mm(empty.cold.fcp));
row('cold cache: 50 rows in the DOM', mm(big.cold.rows_dom), 'n/a (no rows)');
row('cold cache: 50 rows visible', mm(big.cold.rows50), 'n/a (no rows)');
row('cold cache: queue rendered', mm(big.cold.queue), mm(empty.cold.queue));
row('warm cache: first contentful paint', mm(big.warm.fcp), mm(empty.warm.fcp));
row('warm cache: 50 rows visible', mm(big.warm.rows50), 'n/a (no rows)');
row('GET /api/v1/tickets (cold loads)', mm(big.cold.tickets_api), mm(empty.cold.tickets_api));
row('page weight, raw', kb(big.weight.raw_bytes), kb(empty.weight.raw_bytes));
row('page weight, each response gzip -9', kb(big.weight.gzip9_bytes), kb(empty.weight.gzip9_bytes));
row('  pages and assets only, gzip -9', kb(big.weight.asset_gzip9_bytes), kb(empty.weight.asset_gzip9_bytes));
row('responses', String(big.weight.responses), String(empty.weight.responses));
const fcp = big.cold.fcp.median, rows = big.cold.rows50.median, rows_warm = big.warm.rows50.median;
const gz = big.weight.gzip9_bytes;
const verdict = (x) => (x !== null && x < 300 ? 'PASS' : 'FAIL');
console.log(`\n  target: first paint < 300 ms (${tickets} tickets, medians)`);
console.log(`    first contentful paint, cold cache: ${ms(fcp)} ${verdict(fcp)}`);
console.log(`    queue with 50 rows visible, cold cache: ${ms(rows)} ${verdict(rows)}; warm cache: ${ms(rows_warm)} ${verdict(rows_warm)}`);
console.log(`  target: page weight < 200 KB compressed: ${kb(gz)} gzip -9 (${kb(big.weight.raw_bytes)} raw) ${gz < 200 * 1024 ? 'PASS' : 'FAIL'}`);
console.log(`=======================================================================`);
EOF
