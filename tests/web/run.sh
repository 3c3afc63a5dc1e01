#!/usr/bin/env bash
# Browser tests of the web desk against a real `plaint serve`:
#   bash tests/web/run.sh build/cli/plaint
# A fresh database with an agent and a supervisor, an SLA policy whose P1
# breaches in seconds, the pages compiled into the binary (set
# PLAINT_WEB_DIR=server/web to serve them from disk while working on them), and
# headless Chromium (/usr/bin/chromium, or $PLAINT_CHROMIUM) driven by
# playwright-core. Screenshots go to tests/web/artifacts/ or
# $PLAINT_WEB_ARTIFACTS. Exits non-zero when any scenario fails.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
plaint="$(realpath "${1:?usage: tests/web/run.sh PLAINT_BINARY}")"
web_dir="${PLAINT_WEB_DIR-}"

if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm install --no-audit --no-fund --loglevel=error)
fi

tmp="$(mktemp -d)"
db="$tmp/plaint.db"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

p() { "$plaint" --db "$db" "$@"; }
p init --policy "$here/fast-p1-policy.toml" >/dev/null
p user add --id li.na --name 李娜 --email li.na@desk.example --role agent --team L1 >/dev/null
p user add --id wang.fang --name 王芳 --email wang.fang@desk.example --role supervisor --team L2 >/dev/null
printf 'agent-pw-1\n' | p user password li.na >/dev/null
printf 'super-pw-2\n' | p user password wang.fang >/dev/null
# A receiver that is never there, tried once (--retry-period 0): each
# escalation's delivery fails for good, which the board shows.
p webhook add --url http://127.0.0.1:9/gone --events escalate --secret never-delivered-secret >/dev/null

serve=(serve --listen 127.0.0.1:0 --retry-period 0)
[[ -n "$web_dir" ]] && serve+=(--web-dir "$web_dir")
"$plaint" --db "$db" "${serve[@]}" >"$tmp/serve.log" 2>&1 &
server_pid=$!

url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'listening on http://[^ ]*' "$tmp/serve.log" | head -n1 | cut -d' ' -f3 || true)"
  [[ -n "$url" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "plaint serve did not start:" >&2
  cat "$tmp/serve.log" >&2
  exit 1
fi

status=0
PLAINT_URL="$url" \
PLAINT_USERS='li.na:agent-pw-1,wang.fang:super-pw-2' \
PLAINT_WEB_ARTIFACTS="${PLAINT_WEB_ARTIFACTS:-$here/artifacts}" \
  node "$here/desk.test.mjs" || status=$?

stop_server
if [[ $status -ne 0 ]]; then
  echo "--- plaint serve log (last 40 lines)" >&2
  tail -n 40 "$tmp/serve.log" >&2
fi
exit "$status"
