#!/usr/bin/env python3
"""A clean agent audit log for the example folder, ending now: what a guard in front of the shop's tools
would have written over the last six weeks (JSON Lines, rollout's import format).

    python3 rollout/examples/traffic.py > agent-audit.jsonl
    rollout audit import agent-audit.jsonl

Every tenant that is past `off` in rollout/tenants.yaml gets the same daily rhythm (busy in working
hours, quiet at night), ordinary values and real reasons, so the anomaly gate finds nothing to flag and
a tenant's soak can pass. The output is deterministic for a given end time (`--until`, default now).
"""
import argparse
import datetime as dt
import json
import random
import sys

TENANTS = {"acme": ["agent-1", "agent-2"], "globex": ["agent-7"]}
# Calls per hour of the day (UTC), the same every day.
RHYTHM = [1, 1, 0, 0, 1, 1, 2, 4, 6, 7, 7, 6, 5, 6, 7, 7, 6, 5, 4, 3, 2, 2, 1, 1]
STATUS = [("pending", "shipped"), ("shipped", "delivered"), ("pending", "cancelled")]
REASONS = [
    "carrier confirmed pickup for ticket {n}",
    "customer asked to cancel before shipping, ticket {n}",
    "delivery confirmed by the carrier scan, ticket {n}",
    "parcel arrived damaged, partial refund agreed in ticket {n}",
    "customer corrected the phone number in ticket {n}",
]


def events(until: dt.datetime, days: int):
    rng = random.Random(7)
    start = (until - dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    n = 1000
    hour = start
    while hour + dt.timedelta(hours=1) <= until:
        for tenant, actors in TENANTS.items():
            for i in range(RHYTHM[hour.hour]):
                n += 1
                ts = hour + dt.timedelta(minutes=(7 + 13 * i + rng.randrange(5)) % 60, seconds=rng.randrange(60))
                actor = actors[n % len(actors)]
                kind = n % 10
                event = {"ts": ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "tenant": tenant, "actor": actor,
                         "idempotency_key": f"{tenant}-{n}", "decision": "executed", "approver": None, "row_count": 1}
                if kind < 7:
                    before, after = STATUS[n % len(STATUS)]
                    event.update(tool="orders.update", model="Order", operation="update",
                                 fields_changed={"status": {"before": before, "after": after}},
                                 reason=REASONS[0 if after == "shipped" else 1 if after == "cancelled" else 2].format(n=n))
                elif kind < 9:
                    event.update(tool="refunds.issue", model="Refund", operation="create",
                                 fields_changed={"amount_cents": {"before": None, "after": 1500 + 250 * (n % 9)},
                                                 "reason_code": {"before": None, "after": "damaged"}},
                                 reason=REASONS[3].format(n=n))
                else:
                    event.update(tool="customers.update_contact", model="Customer", operation="update",
                                 fields_changed={"phone": {"before": "+1 555 0100", "after": f"+1 555 01{n % 100:02d}"}},
                                 reason=REASONS[4].format(n=n))
                yield ts, event
        hour += dt.timedelta(hours=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until", help="end of the log, RFC 3339 (default: now)")
    parser.add_argument("--days", type=int, default=42, help="how many days of traffic (default 42)")
    args = parser.parse_args()
    until = dt.datetime.fromisoformat(args.until.replace("Z", "+00:00")) if args.until else dt.datetime.now(dt.timezone.utc)
    until = until.astimezone(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=1)
    for _, event in sorted(events(until, args.days), key=lambda pair: pair[0]):
        if dt.datetime.strptime(event["ts"], "%Y-%m-%dT%H:%M:%S.000Z") <= until:
            sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
