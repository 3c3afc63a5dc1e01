#!/usr/bin/env bash
# Mail taken per second as an MTA delivers it: one `plaint mail ingest`
# process per message (bench/, not part of the test suite):
#
#   bash bench/mail_ingest.sh [MESSAGES]      # default 300
#
# Each message is tests/data/mail/gb2312.eml (base64 GB2312 body, RFC 2047
# subject) with its own Message-ID and sender, so each opens a ticket for a
# new customer: the full path (parse, decode, customer, ticket, search
# index, audit chain, fsync). Beside it, the limit of the same machine for a
# process per message: the sqlite3 shell inserting one row per process into
# a file with the same synchronous=FULL. Then the same messages again
# (duplicates: parsed, found, nothing written) and two MTAs at once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
plaint="$repo/build/cli/plaint"
n="${1:-300}"
[[ -x "$plaint" ]] || nice cmake --build "$repo/build" -j2 --target plaint
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
db="$tmp/mail.db"
"$plaint" --db "$db" init >/dev/null
template="$repo/tests/data/mail/gb2312.eml"
for i in $(seq 1 "$n"); do
  sed -e "s/^Message-ID: <[^>]*>/Message-ID: <bench-$i@mail.example>/" \
      -e "s/wang.wei@163.example/customer$i@163.example/" "$template" >"$tmp/$i.eml"
done
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

t0=$(now)
for i in $(seq 1 "$n"); do "$plaint" --db "$db" mail ingest <"$tmp/$i.eml" >/dev/null; done
t1=$(now)
for i in $(seq 1 "$n"); do "$plaint" --db "$db" mail ingest <"$tmp/$i.eml" >/dev/null 2>&1; done
t2=$(now)
db2="$tmp/mail2.db"
"$plaint" --db "$db2" init >/dev/null
half=$((n / 2))
( for i in $(seq 1 "$half"); do "$plaint" --db "$db2" mail ingest <"$tmp/$i.eml" >/dev/null; done ) &
( for i in $(seq $((half + 1)) "$n"); do "$plaint" --db "$db2" mail ingest <"$tmp/$i.eml" >/dev/null; done ) &
wait
t3=$(now)
raw="$tmp/raw.db"
sqlite3 "$raw" "PRAGMA journal_mode=WAL; CREATE TABLE m (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, body TEXT);" >/dev/null
t4=$(now)
for i in $(seq 1 "$n"); do
  sqlite3 "$raw" "PRAGMA synchronous=FULL; INSERT INTO m (message_id, body) VALUES ('bench-$i', readfile('$tmp/$i.eml'));" >/dev/null
done
t5=$(now)
tickets=$(sqlite3 -readonly "$db" "SELECT count(*) FROM tickets")
"$plaint" --db "$db" audit verify >/dev/null
echo "mail ingest, one process per message ($(nproc) cores, $n messages, $(sqlite3 --version | cut -d' ' -f1))"
echo "  new messages, one MTA:       $(rate "$n" "$t0" "$t1") messages/s ($tickets tickets; audit verify passes)"
echo "  the same again (duplicates): $(rate "$n" "$t1" "$t2") messages/s (nothing written)"
echo "  new messages, two MTAs:      $(rate "$n" "$t2" "$t3") messages/s"
echo "  limit: sqlite3 shell, one insert per process: $(rate "$n" "$t4" "$t5") processes/s; ratio $(awk -v a="$(rate "$n" "$t0" "$t1")" -v b="$(rate "$n" "$t4" "$t5")" 'BEGIN { printf "%.2f", a / b }')"
