#!/usr/bin/env bash
# Packaging tests, on a built tree (BUILD, default build/):
#  - the .deb: cpack builds plaint_<version>_amd64.deb; dpkg-deb --info and
#    dpkg -x into a temporary root check its control fields, conffiles,
#    maintainer scripts (which never migrate), files and binary; the
#    systemd unit passes systemd-analyze verify;
#  - upgrades: the packaged binary refuses a database of an older schema
#    with the sentence that says to run plaint init, and init upgrades it;
#  - embedding: the dev component installed to a prefix, examples/embed
#    built against it with find_package(plaint) as a user's project would
#    be, and run.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
t=$(mktemp -d /tmp/plaint-package.XXXXXX)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
version=$(sed -n 's/^project(plaint VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)

echo "-- the Debian package"
(cd "$t" && cpack --config "$build/CPackConfig.cmake" -B "$t/deb" >/dev/null)
deb="$t/deb/plaint_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb"
info=$(dpkg-deb --info "$deb")
grep -q '^ Package: plaint$' <<<"$info" || fail "package name"
grep -q "^ Version: $version\$" <<<"$info" || fail "version"
grep -q '^ Architecture: amd64$' <<<"$info" || fail "architecture"
for dep in libsqlite3-0 libpq5 libsodium23 libgmime-3.0-0 libcurl4 libfmt9 libtomlplusplus3 adduser; do
  grep -q "^ Depends:.*\b$dep\b" <<<"$info" || fail "Depends lacks $dep"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$t" ./conffiles ./postinst ./prerm ./postrm
grep -qx /etc/plaint/plaint.conf "$t/conffiles" || fail "plaint.conf is not a conffile"
grep -qx /etc/plaint/policy.toml "$t/conffiles" || fail "policy.toml is not a conffile"
# The maintainer scripts create the user and never run plaint (no silent migration).
grep -q 'adduser --system' "$t/postinst" || fail "postinst makes no system user"
if grep -v '^#' "$t/postinst" "$t/prerm" "$t/postrm" | grep -q '/usr/bin/plaint\|plaint init\|plaint serve'; then
  fail "a maintainer script runs plaint"
fi
root="$t/root"
dpkg -x "$deb" "$root"
for f in usr/bin/plaint usr/share/plaint/policy.toml usr/share/doc/plaint/README.md etc/plaint/plaint.conf \
         etc/plaint/policy.toml lib/systemd/system/plaint.service; do
  [ -f "$root/$f" ] || fail "the package lacks /$f"
done
"$root/usr/bin/plaint" --version | grep -Eq "^plaint $version \(commit [0-9a-f]{12}|unknown\), SQLite 3\.[0-9.]+, schema [0-9]+$" ||
  fail "plaint --version: $("$root/usr/bin/plaint" --version)"
# The shipped plaint.conf is valid as shipped (every option commented out).
PLAINT_CONFIG="$root/etc/plaint/plaint.conf" "$root/usr/bin/plaint" --db "$t/conf.db" init >/dev/null ||
  fail "the shipped plaint.conf is refused"
unit="$root/lib/systemd/system/plaint.service"
for want in 'User=plaint' 'StateDirectory=plaint' 'ExecReload=/usr/bin/plaint policy load' 'ProtectSystem=strict' \
            'NoNewPrivileges=yes'; do
  grep -q "^$want" "$unit" || fail "the unit lacks $want"
done
# systemd-analyze checks the unit's syntax, its options and that its
# commands exist: here with /usr/bin/plaint taken from the unpacked root.
sed "s|/usr/bin/plaint|$root/usr/bin/plaint|g" "$unit" >"$t/plaint.service"
if ! out=$(systemd-analyze verify --man=no "$t/plaint.service" 2>&1); then
  fail "systemd-analyze verify: $out"
fi
[ -z "$out" ] || fail "systemd-analyze verify: $out"

echo "-- upgrades: an older database is refused until plaint init"
old="$t/old.db"
"$root/usr/bin/plaint" --db "$old" init >/dev/null
"$root/usr/bin/plaint" --db "$old" customer add --id acme --name Acme >/dev/null
python3 - "$old" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
DELETE FROM settings WHERE key = 'search_index';
CREATE VIRTUAL TABLE search USING fts5 (body, content = '', columnsize = 0, tokenize = 'trigram');
INSERT INTO search (search, rank) VALUES ('pgsz', 1000);
INSERT INTO search (rowid, body) SELECT key, body FROM search_text ORDER BY key;
CREATE VIRTUAL TABLE search_cjk USING fts5 (body, content = '', columnsize = 0, detail = 'none', tokenize = 'unicode61');
DROP INDEX outbox_pending_channel;
DROP INDEX tickets_kpi_closed;
CREATE INDEX tickets_closed ON tickets (closed_at, created_at) WHERE closed_at IS NOT NULL;
PRAGMA user_version = 10;
""")
db.close()
PY
if out=$("$root/usr/bin/plaint" --db "$old" list 2>&1); then fail "an older database was used: $out"; fi
grep -q 'run plaint init' <<<"$out" || fail "the refusal does not say to run plaint init: $out"
if out=$("$root/usr/bin/plaint" --db "$old" serve --listen 127.0.0.1:0 2>&1); then fail "serve ran on an older database"; fi
grep -q 'run plaint init' <<<"$out" || fail "serve's refusal does not say to run plaint init: $out"
"$root/usr/bin/plaint" --db "$old" init >/dev/null
"$root/usr/bin/plaint" --db "$old" customer show acme >/dev/null || fail "the upgraded database lost its customer"

echo "-- embedding: find_package(plaint) from an installed prefix"
prefix="$t/prefix"
cmake --install "$build" --prefix "$prefix" --component dev >/dev/null
[ -f "$prefix/lib/cmake/plaint/plaintConfig.cmake" ] || fail "no plaintConfig.cmake"
[ -f "$prefix/include/plaint/engine/executor.h" ] || fail "no engine headers"
[ ! -e "$prefix/etc" ] || fail "the dev component installed system files"
cmake -S examples/embed -B "$t/embed" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$t/embed" -j2 >/dev/null
out=$("$t/embed/plaint_embed" "$t/embed.db")
grep -q 'follow_up_done -> closed' <<<"$out" || fail "embed: $out"
grep -q '1 closed ticket(s) on the desk' <<<"$out" || fail "embed: $out"
grep -q 'audit chain intact' <<<"$out" || fail "embed: $out"
# The desk it wrote is an ordinary plaint database.
"$build/cli/plaint" --db "$t/embed.db" audit verify >/dev/null || fail "the embedded desk does not verify"
echo "package tests passed"
