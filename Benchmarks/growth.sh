#!/usr/bin/env bash
# How every rollout-bench figure grows with the log: each bench at SMALL and LARGE events (decisions,
# calls), one after the other, each with its peak resident memory (GNU time's %M: the largest process
# of the run, which for `import`, `score` and `report` may be the `rollout` or Python process it starts).
#   SMALL=100000 LARGE=1000000 Benchmarks/growth.sh > growth.log
# `guard-proxy` runs SMALL/10 calls and LARGE/10 (at most 99,950: its fixture caps items.create at
# 100,000 calls an hour, warm-up included). `score` also runs the NAB AAPL stream when $AAPL names one
# (Benchmarks/anomaly.sh converts it), which gives its PyOD ECOD peer. Takes about 20 minutes on 2 cores
# at the defaults, most of it the guard's million decisions with the audit write.
# Needs: a release build of rollout and rollout-bench (swift build -c release).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bench="${ROLLOUT_BENCH_BIN:-$here/.build/release/rollout-bench}"
small="${SMALL:-100000}"
large="${LARGE:-1000000}"
[ -x "$bench" ] || { echo "growth.sh: no release rollout-bench at $bench (swift build -c release)" >&2; exit 2; }
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f "### %C: %e s wall, %U s user, %S s sys, peak %M KB")

run() {
  echo "=== rollout-bench $*"
  "${timer[@]}" "$bench" "$@" 2>&1 | grep -v '^  mix:'
  echo
}

proxy_small=$((small / 10)); proxy_large=$((large / 10)); [ "$proxy_large" -gt 99950 ] && proxy_large=99950
for n in "$small" "$large"; do
  run import --events "$n"
  run score --events "$n"
  run status --events "$n" --repeats 11
  run report --events "$n"
  run fuzz --calls "$n" --repeats 1
done
[ -n "${AAPL:-}" ] && [ -f "$AAPL" ] && run score --file "$AAPL"
run guard-proxy --calls "$proxy_small"
run guard-proxy --calls "$proxy_large"
run guard --memory-calls "$small" --store-calls "$small"
run guard --memory-calls "$large" --store-calls "$large"
