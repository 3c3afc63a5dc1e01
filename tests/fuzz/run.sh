#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, PLAINT_FUZZ=ON, in build-fuzz: only
# the harnesses and the libraries they link) and runs each for SECONDS over
# a copy of its seeds (tests/fuzz/corpus/<name>/, copied to
# build-fuzz/corpus/<name>/, which keeps what earlier runs found; with
# --fresh, to an emptied build-fuzz/corpus-fresh/<name>/ instead). Prints executions and coverage per harness. A crash, a
# leak, a timeout or a broken property fails the script; the input is left
# in build-fuzz/artifacts/ — keep it in tests/fuzz/regressions/ with a test.
#
# Usage: tests/fuzz/run.sh [--fresh] SECONDS [time|body|policy|import|api]...
set -euo pipefail
cd "$(dirname "$0")/../.."
fresh=0
if [ "${1:-}" = "--fresh" ]; then
  fresh=1
  shift
fi
seconds=${1:?usage: tests/fuzz/run.sh [--fresh] SECONDS [harness]...}
shift
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(time body policy import api mail)
jobs=$(nproc 2>/dev/null || echo 2)
build=build-fuzz

targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
# Debug with -O1: toml++'s assertions stay on (no NDEBUG) and the
# harnesses still run fast; line tables are enough for stack traces.
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-gline-tables-only -O1" \
  -DPLAINT_FUZZ=ON -DPLAINT_TESTS=OFF -DPLAINT_BENCH=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$build/artifacts"
summary=()
for n in "${names[@]}"; do
  corpus="$build/corpus/$n"
  if [ "$fresh" -eq 1 ]; then
    corpus="$build/corpus-fresh/$n"
    rm -rf "$corpus"
  fi
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"$n"/* "$corpus"/
  log="$build/fuzz_$n.log"
  dict=()
  [ -f "tests/fuzz/$n.dict" ] && dict=(-dict="tests/fuzz/$n.dict")
  echo "== fuzz_$n for ${seconds}s"
  if ! "$build/tests/fuzz/fuzz_$n" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/fuzz_$n-" "${dict[@]}" "$corpus" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz_$n failed: see $log and $build/artifacts/" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  units=$(find "$corpus" -type f | wc -l)
  summary+=("$(printf '%-12s %12s execs %8s/s  cov %6s  ft %7s  corpus %6s' "fuzz_$n" "$execs" "$rate" "$cov" "$ft" "$units")")
done
echo "== fuzzing: ${seconds}s per harness"
printf '%s\n' "${summary[@]}"
