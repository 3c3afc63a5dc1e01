#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: no system service, nothing
# outside DIR.
#
#   tests/pg/server.sh start DIR   # prints the URL, postgresql://plaint@127.0.0.1:PORT/postgres
#   tests/pg/server.sh stop DIR
#   tests/pg/server.sh resume DIR  # starts a stopped one again, on its port
#
# `start` initialises a cluster in DIR/data (initdb, trust authentication on
# loopback only, UTF-8), starts it on a free loopback port with its socket
# in DIR, waits until it takes connections and prints the URL. As root it
# runs the server as the `postgres` user (PostgreSQL refuses root).
set -euo pipefail

cmd=${1:?usage: server.sh start|resume|stop DIR}
dir=${2:?usage: server.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "server.sh: PostgreSQL's server programs are not installed (Debian package postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U plaint --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgresql://plaint@127.0.0.1:$port/postgres"
    ;;
  resume)
    # Starts a stopped server again on the port it had (a restart test).
    dir=$(cd "$dir" && pwd)
    port=$(cat "$dir/port")
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://plaint@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: server.sh start|resume|stop DIR" >&2
    exit 2
    ;;
esac
