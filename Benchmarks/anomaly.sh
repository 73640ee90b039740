#!/usr/bin/env bash
# Measures `rollout score` against the Python peers of shared/anomaly, with their own evaluator:
#   1. converts the tuning series (AAPL and the artificial ones) to audit-event streams (convert_nab.py),
#   2. imports each into its own store and writes per-interval scores (`rollout score --intervals`),
#   3. runs baseline.py with IsolationForest, ECOD and HalfSpaceTrees beside our scores (--external),
#   4. prints the detection delay of our scores and of the peers' (detection_delay.py: median minutes
#      from a labelled window's start to its first alert, and the windows missed),
#   5. times scoring 1.3M events (AAPL converted at --target-median 45) against the peers on the same stream.
# ROLLOUT_BIN / ROLLOUT_BENCH_BIN override the binaries; ANOMALY_SKIP_SPEED=1 skips step 5.
# Needs: a release build (swift build -c release), python3 with venv; makes /tmp/nab-venv once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${ROLLOUT_SHARED:-$here/../shared}/anomaly"
work="${WORK:-/tmp/rollout-anomaly}"
venv="${NAB_VENV:-/tmp/nab-venv}"
rollout="${ROLLOUT_BIN:-$here/.build/release/rollout}"            # ROLLOUT_BIN / ROLLOUT_BENCH_BIN: use other binaries
bench="${ROLLOUT_BENCH_BIN:-$here/.build/release/rollout-bench}"  # (e.g. copies of the release build)
threshold=0.9999   # RateDetector.alertScore: scores above it are anomalies
mkdir -p "$work/streams" "$work/stores" "$work/scores"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy pandas scikit-learn pyod river; }
[ -x "$rollout" ] || (cd "$here" && swift build -c release)

series="realTweets/Twitter_volume_AAPL artificialNoAnomaly/art_daily_small_noise artificialNoAnomaly/art_noisy artificialWithAnomaly/art_increase_spike_density artificialWithAnomaly/art_load_balancer_spikes"
for s in $series; do
  name=$(basename "$s")
  stream="$work/streams/$name.jsonl.gz"
  [ -f "$stream" ] || "$venv/bin/python" "$shared/convert_nab.py" --file "$s.csv" --out "$stream" >/dev/null
  rm -f "$work/stores/$name.sqlite"*
  "$rollout" audit import "$stream" --store "$work/stores/$name.sqlite" >/dev/null 2>&1
  origin="$(sed -n 2p "$stream.intervals.csv" | cut -d, -f1 | sed 's/ /T/')Z"
  "$rollout" score --store "$work/stores/$name.sqlite" --until last --window 120d --origin "$origin" \
    --intervals "$work/scores" --junit "$work/$name.xml" >/dev/null 2>&1 || true   # exit 1 = anomalies found
done

echo "== detection: AAPL"
"$venv/bin/python" "$shared/baseline.py" --streams "$work/streams/Twitter_volume_AAPL.jsonl.gz" \
  --detectors iforest,pyod_ecod,river_hst --external "$work/scores" --external-threshold $threshold
echo "== detection: artificial series"
"$venv/bin/python" "$shared/baseline.py" --streams "$work/streams/art_*.jsonl.gz" \
  --detectors iforest,pyod_ecod,river_hst --external "$work/scores" --external-threshold $threshold
for name in art_daily_small_noise art_noisy; do
  alerts=$(awk -F, -v t=$threshold 'NR > 1 && $2 >= t' "$work/scores/$name.csv" | wc -l)
  echo "alerts on the anomaly-free series $name: $alerts"
done

echo "== detection delay: median minutes from a window's start to its first alert (rollout, then the peers at their fixed thresholds)"
"$venv/bin/python" "$here/Benchmarks/detection_delay.py" --scores "$work/scores" --threshold $threshold \
  --peers ref_robust,pyod_ecod,iforest,river_hst --sweep 0.9999,0.999,0.995,0.99 --baseline "$shared/baseline.py" \
  "$work/streams/Twitter_volume_AAPL.jsonl.gz" "$work"/streams/art_*.jsonl.gz

case "${ANOMALY_SKIP_SPEED:-0}" in 0|"") ;; *) echo "== speed: skipped (ANOMALY_SKIP_SPEED=$ANOMALY_SKIP_SPEED)"; exit 0;; esac
echo "== speed: 1.3M events"
big="$work/streams/AAPL-1.3M.jsonl.gz"
[ -f "$big" ] || "$venv/bin/python" "$shared/convert_nab.py" --file realTweets/Twitter_volume_AAPL.csv --out "$big" --target-median 45 >/dev/null
"$bench" score --file "$big"
rm -f "$work/stores/big.sqlite"*
"$rollout" audit import "$big" --store "$work/stores/big.sqlite" >/dev/null 2>&1
/usr/bin/env time -f "rollout score (process): %e s wall, %M KiB peak" "$rollout" score --store "$work/stores/big.sqlite" --until last --window 120d --junit "$work/big.xml" >/dev/null 2>&1 || true
"$venv/bin/python" "$shared/baseline.py" --streams "$big" --detectors iforest,pyod_ecod,river_hst 2>&1 | grep -E "t=|ingest"
