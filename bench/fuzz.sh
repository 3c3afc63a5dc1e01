#!/usr/bin/env bash
# The fuzz harnesses of tests/fuzz, longer than tests/run.sh runs them:
# SECONDS each (default 600), one after the other; prints executions and
# coverage per harness. Extra arguments pick harnesses (time body policy
# import api).
#
# Usage: bench/fuzz.sh [SECONDS] [harness]...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
exec tests/fuzz/run.sh "$seconds" "$@"
