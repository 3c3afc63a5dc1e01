#!/usr/bin/env bash
# Installs the Debian packages plaint builds and tests with, if any is missing.
# Sourced by examples/demo-desk.sh and tests/run.sh.
plaint_packages=(
  cmake g++ make pkg-config ccache
  libboost-dev libsqlite3-dev libfmt-dev doctest-dev nlohmann-json3-dev
  libcli11-dev libtomlplusplus-dev libssl-dev tzdata
  libsodium-dev  # Argon2id password hashes
  libgmime-3.0-dev libcurl4-openssl-dev  # mail in (MIME), notifications out (SMTP, webhooks)
  libpq-dev postgresql                   # the PostgreSQL back end, and the server its tests start
  python3 python3-aiosmtpd openssl       # the real SMTP server of the channel tests (and its certificate)
  clang libclang-rt-14-dev  # the libFuzzer harnesses of tests/fuzz
  chromium nodejs           # the browser tests of tests/web (playwright-core from npm)
  fonts-wqy-zenhei          # Chinese text in their screenshots
  dpkg-dev systemd          # the .deb's dependencies (dpkg-shlibdeps) and its unit's check (systemd-analyze)
)

plaint_install_deps() {
  local missing=() p
  for p in "${plaint_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  command -v npm >/dev/null || missing+=(npm)  # Debian's nodejs comes without npm (NodeSource's carries it)
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
