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

--peers DETECTORS measures the Python peers the same way: baseline.py (read-only,
imported from --baseline) makes each named detector's per-interval scores, and each
is judged at its own fixed threshold, as baseline.py judges it. This needs the venv
that runs baseline.py (numpy, pandas and each detector's package).

--sweep T1,T2,... prints, for rollout's scores at each threshold, the delay beside the
alerts that fall outside every window (baseline.py's episodes: a run of alerting
intervals is one alert): what an earlier alert costs in false ones.

Usage:
  python detection_delay.py --scores /tmp/rollout-anomaly/scores --threshold 0.9999 \
      [--peers ref_robust,pyod_ecod] [--sweep 0.9999,0.999,0.995] \
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


def load(stream):
    meta = json.load(open(stream + ".meta.json"))
    windows = [(parse_ts(a), parse_ts(b)) for a, b in meta["windows"]]
    with open(stream + ".intervals.csv", newline="") as f:
        grid = [parse_ts(r["interval_start"]) for r in csv.DictReader(f)]
    probation = int(meta["probation_rows"])
    scored_from = grid[probation] if probation < len(grid) else None
    return windows, grid, scored_from


def load_scores(stream, scores_dir):
    path = os.path.join(scores_dir, stream_name(stream) + ".csv")
    scores = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            scores[parse_ts(r["interval_start"])] = float(r["score"])
    return scores


def peer_scores(baseline, stream, detector, grid):
    """A peer's per-interval scores on the stream and its fixed threshold, as baseline.py makes them."""
    s = baseline.load_stream(stream)
    day = int(round(86400000 / s["step_ms"]))
    score, threshold = baseline.DETECTORS[detector](s, baseline.features(s), day)
    return dict(zip(grid, (float(x) for x in score))), threshold


def judge(windows, grid, scored_from, scores, threshold):
    """Delays (minutes) of the windows alerted, the count missed, and a text per window."""
    delays, missed, parts = [], 0, []
    for k, (lo, hi) in enumerate(windows):
        if scored_from is None or hi < scored_from:  # baseline.py skips these windows too
            parts.append(f"w{k} in probation")
            continue
        first = next((t for t in grid
                      if lo <= t <= hi and t >= scored_from and scores.get(t, 0.0) >= threshold), None)
        if first is None:
            missed += 1
            parts.append(f"w{k} missed")
        else:
            d = (first - lo).total_seconds() / 60.0
            delays.append(d)
            parts.append(f"w{k} {d:g} of {(hi - lo).total_seconds() / 60.0:g} min")
    return delays, missed, parts


def report(label, streams, scoring):
    """Prints each stream's delays and the median over all; scoring(stream, grid) gives (scores, threshold)."""
    all_delays, all_missed, all_windows = [], 0, 0
    for stream in streams:
        name = stream_name(stream)
        try:
            windows, grid, scored_from = load(stream)
            scores, threshold = scoring(stream, grid)
        except FileNotFoundError as e:
            print(f"{label} {name}: skipped, {e.filename} not found", file=sys.stderr)
            continue
        delays, missed, parts = judge(windows, grid, scored_from, scores, threshold)
        n = len(delays) + missed
        all_delays += delays
        all_missed += missed
        all_windows += n
        if n == 0:
            print(f"{label:10s} {name:28s} no labelled window after the probation")
            continue
        med = f"{statistics.median(delays):g} min" if delays else "n/a"
        print(f"{label:10s} {name:28s} delay median {med}, missed {missed}/{n} ({'; '.join(parts)})")
    med = f"{statistics.median(all_delays):g} min" if all_delays else "n/a"
    print(f"{label:10s} {'overall':28s} delay median {med}, missed {all_missed}/{all_windows}")


def sweep(baseline, streams, scores_dir, threshold):
    """rollout's delay at `threshold` beside its alerts: those inside a window, and those outside every one."""
    delays, missed, hit, windows, alerts, true_alerts = [], 0, 0, 0, 0, 0
    for stream in streams:
        try:
            w, grid, scored_from = load(stream)
            scores = load_scores(stream, scores_dir)
        except FileNotFoundError:
            continue
        d, m, _ = judge(w, grid, scored_from, scores, threshold)
        delays += d
        missed += m
        s = baseline.load_stream(stream)
        day = int(round(86400000 / s["step_ms"]))
        tp, n, h, nw = baseline.episode_counts(s, baseline.np.array([scores.get(t, 0.0) for t in grid]), threshold, day)
        true_alerts, alerts, hit, windows = true_alerts + tp, alerts + n, hit + h, windows + nw
    med = f"{statistics.median(delays):g} min" if delays else "n/a"
    print(f"{'sweep':10s} threshold {threshold:<8g} delay median {med}, missed {missed}; "
          f"alerts {alerts}, {alerts - true_alerts} outside every window; windows alerted {hit}/{windows}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("streams", nargs="+", help="converted .jsonl(.gz) streams (their sidecars sit beside them)")
    ap.add_argument("--scores", required=True, metavar="DIR", help="folder of <series>.csv (interval_start,score)")
    ap.add_argument("--threshold", type=float, default=0.9999, help="alert when score >= this (default 0.9999)")
    ap.add_argument("--peers", default="", metavar="DETECTORS",
                    help="comma list of baseline.py's detectors to measure the same way (e.g. ref_robust,pyod_ecod)")
    ap.add_argument("--baseline", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "..", "..", "shared", "anomaly", "baseline.py"),
                    help="the peers' baseline.py (default ../shared/anomaly/baseline.py beside the repository)")
    ap.add_argument("--sweep", default="", metavar="THRESHOLDS",
                    help="comma list of thresholds: rollout's delay and false alerts at each (needs baseline.py's packages)")
    a = ap.parse_args()

    report("rollout", a.streams, lambda stream, grid: (load_scores(stream, a.scores), a.threshold))
    if not (a.peers or a.sweep):
        return
    import importlib.util
    spec = importlib.util.spec_from_file_location("baseline", a.baseline)
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    for threshold in [float(t) for t in a.sweep.split(",") if t]:
        sweep(baseline, a.streams, a.scores, threshold)
    if a.peers:
        for detector in a.peers.split(","):
            report(detector, a.streams, lambda stream, grid, d=detector: peer_scores(baseline, stream, d, grid))

if __name__ == "__main__":
    main()
