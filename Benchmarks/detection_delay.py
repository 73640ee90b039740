#!/usr/bin/env python3
"""Detection delay of per-interval anomaly scores on converted NAB streams.

For each stream made by shared/anomaly/convert_nab.py (<name>.jsonl.gz with its
<name>.jsonl.gz.meta.json and .intervals.csv sidecars) reads the scores
<scores dir>/<name>.csv (columns interval_start,score, as `rollout score --intervals`
writes them) and, for every labelled window of meta.json's "windows" ([start, end],
both inclusive, NAB's timestamps), prints the delay: minutes from the window's start
to the start of the first interval inside the window whose score >= threshold.
A window with no such interval is missed. Then the median delay per series and over
every series together. Each delay is printed beside the window's length: NAB centres
its windows on the labelled anomaly, so an alert at the anomaly itself is about half
the window after its start.

Same rules as baseline.py's evaluator: alerts in the first probation_rows intervals
(NAB's probation) are ignored, and a window lying wholly in the probation is not
counted; an interval missing from the scores CSV counts as score 0.

Only the scores given in --scores are measured: baseline.py (read-only) keeps its
peers' per-interval scores in memory and only writes summary metrics (--out), so
the peers' detection delay is not computed here.

Usage:
  python detection_delay.py --scores /tmp/rollout-anomaly/scores --threshold 0.9999 \
      /tmp/rollout-anomaly/streams/Twitter_volume_AAPL.jsonl.gz /tmp/rollout-anomaly/streams/art_*.jsonl.gz
"""
import argparse
import csv
import json
import os
import statistics
import sys
from datetime import datetime


def parse_ts(text):
    """NAB / pandas / RFC 3339 timestamps ('2015-02-26 21:42:53', '...T21:42:53Z',
    fractional seconds) as naive UTC datetimes."""
    t = text.strip().replace("T", " ").rstrip("Z")
    if t.endswith("+00:00"):
        t = t[:-6]
    return datetime.fromisoformat(t)


def stream_name(path):
    return os.path.basename(path).split(".jsonl")[0]


def load(stream, scores_dir):
    meta = json.load(open(stream + ".meta.json"))
    windows = [(parse_ts(a), parse_ts(b)) for a, b in meta["windows"]]
    with open(stream + ".intervals.csv", newline="") as f:
        grid = [parse_ts(r["interval_start"]) for r in csv.DictReader(f)]
    probation = int(meta["probation_rows"])
    scored_from = grid[probation] if probation < len(grid) else None
    path = os.path.join(scores_dir, stream_name(stream) + ".csv")
    scores = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            scores[parse_ts(r["interval_start"])] = float(r["score"])
    return windows, grid, scored_from, scores


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("streams", nargs="+", help="converted .jsonl(.gz) streams (their sidecars sit beside them)")
    ap.add_argument("--scores", required=True, metavar="DIR", help="folder of <series>.csv (interval_start,score)")
    ap.add_argument("--threshold", type=float, default=0.9999, help="alert when score >= this (default 0.9999)")
    a = ap.parse_args()

    all_delays, all_missed, all_windows = [], 0, 0
    for stream in a.streams:
        name = stream_name(stream)
        try:
            windows, grid, scored_from, scores = load(stream, a.scores)
        except FileNotFoundError as e:
            print(f"{name}: skipped, {e.filename} not found", file=sys.stderr)
            continue
        delays, missed, parts = [], 0, []
        for k, (lo, hi) in enumerate(windows):
            if scored_from is None or hi < scored_from:  # baseline.py skips these windows too
                parts.append(f"w{k} in probation")
                continue
            first = next((t for t in grid
                          if lo <= t <= hi and t >= scored_from and scores.get(t, 0.0) >= a.threshold), None)
            if first is None:
                missed += 1
                parts.append(f"w{k} missed")
            else:
                d = (first - lo).total_seconds() / 60.0
                delays.append(d)
                parts.append(f"w{k} {d:g} of {(hi - lo).total_seconds() / 60.0:g} min")
        n = len(delays) + missed
        all_delays += delays
        all_missed += missed
        all_windows += n
        if n == 0:
            print(f"{name:28s} no labelled window after the probation")
            continue
        med = f"{statistics.median(delays):g} min" if delays else "n/a"
        print(f"{name:28s} delay median {med}, missed {missed}/{n} ({'; '.join(parts)})")
    med = f"{statistics.median(all_delays):g} min" if all_delays else "n/a"
    print(f"{'overall':28s} delay median {med}, missed {all_missed}/{all_windows}")


if __name__ == "__main__":
    main()
