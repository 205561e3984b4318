#!/usr/bin/env python3
"""Evaluate `ward detect replay` on the activity logs in the shared data folder.

For each dataset this prints which known-bad episodes raised an alert, how
many alerts were raised per 100 identity-days, and precision and recall.
An alert counts as a true positive when it names an episode's identity and
its time span overlaps the episode (widened by one hour on each side), or
when it cites one of the episode's events.

Run from the repository root after `cargo build --release -p ward`:

    python3 scripts/detect-eval.py [--data ../shared/data] [--ward target/release/ward]
"""

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SLACK = dt.timedelta(hours=1)


def parse_time(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_ward(ward, args):
    result = subprocess.run([ward, *args], capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"ward {' '.join(args)} failed with status {result.returncode}:\n{result.stderr}")
    return result.stdout, result.stderr


def replay(ward, paths, fmt, extra=()):
    out, _ = run_ward(ward, ["detect", "replay", "--format", fmt, "--output", "json", *extra, *map(str, paths)])
    return json.loads(out)


def parsed_events(ward, paths, fmt):
    out, err = run_ward(ward, ["detect", "parse", "--format", fmt, *map(str, paths)])
    return [json.loads(line) for line in out.splitlines() if line.strip()], err


class Episode:
    def __init__(self, name, identities, start, end, uids=()):
        self.name = name
        self.identities = set(identities)
        self.start = start
        self.end = end
        self.uids = set(uids)

    def matches(self, alert):
        if self.uids & set(alert["event_uids"]):
            return True
        names = {alert["identity"], alert.get("identity_name")}
        if not names & self.identities:
            return False
        first, last = parse_time(alert["first_seen"]), parse_time(alert["last_seen"])
        return first <= self.end + SLACK and last >= self.start - SLACK


def episodes_from_files(ward, files, fmt, label):
    """Build one episode per file from its identities, time span and event ids."""
    episodes = []
    for path in files:
        events, _ = parsed_events(ward, [path], fmt)
        if not events:
            continue
        times = [parse_time(e["time"]) for e in events]
        identities = {e["actor"]["uid"] for e in events} | {e["actor"].get("name") for e in events}
        episodes.append(Episode(label(path), identities, min(times), max(times), [e["uid"] for e in events]))
    return episodes


def score(document, episodes, window=None, identity_days=None):
    alerts = document["alerts"]
    if window is not None:
        alerts = [a for a in alerts if parse_time(a["last_seen"]) >= window]
    caught = [ep for ep in episodes if any(ep.matches(a) for a in alerts)]
    true_alerts = [a for a in alerts if any(ep.matches(a) for ep in episodes)]
    days = identity_days if identity_days is not None else document["summary"]["identity_days"]
    return {
        "events": document["summary"]["events"],
        "identities": document["summary"]["identities"],
        "identity_days": days,
        "episodes": len(episodes),
        "caught": [ep.name for ep in caught],
        "missed": [ep.name for ep in episodes if ep not in caught],
        "alerts": len(alerts),
        "false_alerts": len(alerts) - len(true_alerts),
        "alerts_per_100_identity_days": round(100 * len(alerts) / days, 2) if days else None,
        "precision": round(len(true_alerts) / len(alerts), 3) if alerts else None,
        "recall": round(len(caught) / len(episodes), 3) if episodes else None,
    }


def generated_estate(ward, data):
    root = data / "activity_logs/generated_rpa_estate"
    estate = json.loads((root / "estate.json").read_text())
    with open(root / "episodes.csv", newline="") as handle:
        episodes = [
            Episode(f"{row['kind']} {row['identity']}", [row["identity"], row["arn"]], parse_time(row["start"]), parse_time(row["end"]))
            for row in csv.DictReader(handle)
        ]
    document = replay(ward, [root / "cloudtrail"], "cloudtrail")
    first_day = min(f.name[:10] for f in (root / "cloudtrail").iterdir())
    window = parse_time(first_day + "T00:00:00Z") + dt.timedelta(days=estate["warmup_days"])
    results = {
        "all days": score(document, episodes),
        f"after the {estate['warmup_days']}-day warm-up": score(document, episodes, window, estate["identity_days_after_warmup"]),
    }
    return results


def stratus(ward, data):
    root = data / "activity_logs/stratus_red_team_cloudtrail"
    files = sorted(root.glob("*.json"))
    episodes = episodes_from_files(ward, files, "cloudtrail", lambda p: p.stem)
    return {"all": score(replay(ward, files, "cloudtrail"), episodes)}


def falco(ward, data):
    root = data / "activity_logs/falco_k8s_audit_traces"
    with open(root / "labels.csv", newline="") as handle:
        bad = {row["trace_file"] for row in csv.DictReader(handle) if row["expect_detection"] == "True"}
    files = sorted((root / "events").glob("*.json"))
    episodes = episodes_from_files(ward, [f for f in files if f.name in bad], "k8s-audit", lambda p: p.stem)
    return {"all": score(replay(ward, files, "k8s-audit"), episodes)}


def panther(ward, data, scratch):
    """Panther's rule tests: single labelled events; known bad is expected_alert."""
    results = {}
    for name, fmt in [("aws_cloudtrail", "cloudtrail"), ("amazon_eks_audit", "k8s-audit")]:
        rows = [json.loads(line) for line in open(data / f"activity_logs/panther_labelled_events/{name}.jsonl")]
        raw = Path(scratch) / f"{name}.jsonl"
        raw.write_text("".join(json.dumps(row["event"]) + "\n" for row in rows))
        events, _ = parsed_events(ward, [raw], fmt)
        uid_label = {}
        for row in rows:
            uid = row["event"].get("eventID") or row["event"].get("auditID")
            if uid:
                uid_label[uid] = row["expected_alert"]
        episodes = [Episode(uid, [], dt.datetime.min.replace(tzinfo=dt.timezone.utc), dt.datetime.max.replace(tzinfo=dt.timezone.utc), [uid])
                    for uid, bad in uid_label.items() if bad]
        result = score(replay(ward, [raw], fmt), episodes)
        result["parsed"] = f"{len(events)} of {len(rows)} records"
        result["caught"] = f"{len(result['caught'])} events"
        result["missed"] = f"{len(result['missed'])} events"
        results[name] = result
    return results


def unlabelled(ward, data):
    """Benign or unlabelled logs: every alert is a false alert."""
    results = {}
    entra = data / "activity_logs/entra_nhi_signins_elastic"
    results["entra sign-ins"] = score(replay(ward, sorted(entra.glob("service_principal_*.jsonl")), "entra-signin"), [])
    k8s = data / "activity_logs/k8s_audit_elastic_formats"
    results["k8s audit formats"] = score(replay(ward, sorted(k8s.glob("*")), "k8s-audit"), [])
    uipath = data / "activity_logs/uipath_orchestrator_api_node"
    results["uipath orchestrator"] = score(replay(ward, sorted(uipath.glob("*.json")), "uipath-orchestrator"), [])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data folder (default ../shared/data)")
    parser.add_argument("--ward", default=None, help="ward binary (default target/release/ward, then target/debug/ward)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    ward = args.ward or next((p for p in ["target/release/ward", "target/debug/ward"] if os.path.exists(p)), None)
    if ward is None:
        sys.exit("ward binary not found: run `cargo build --release -p ward` or pass --ward")
    if not args.data.is_dir():
        sys.exit(f"data folder {args.data} not found: pass --data")

    with tempfile.TemporaryDirectory() as scratch:
        results = {
            "generated_rpa_estate": generated_estate(ward, args.data),
            "stratus_red_team_cloudtrail": stratus(ward, args.data),
            "falco_k8s_audit_traces": falco(ward, args.data),
            "panther_labelled_events": panther(ward, args.data, scratch),
            "benign and unlabelled": unlabelled(ward, args.data),
        }
    if args.json:
        json.dump(results, sys.stdout, indent=2, default=str)
        print()
        return
    header = f"{'dataset':<30} {'subset':<28} {'events':>7} {'id-days':>7} {'alerts':>6} {'/100 id-days':>12} {'precision':>9} {'recall':>6}"
    print(header)
    print("-" * len(header))
    for dataset, subsets in results.items():
        for subset, r in subsets.items():
            fmt = lambda v: "n/a" if v is None else v
            print(f"{dataset:<30} {subset:<28} {r['events']:>7} {r['identity_days']:>7} {r['alerts']:>6} "
                  f"{fmt(r['alerts_per_100_identity_days']):>12} {fmt(r['precision']):>9} {fmt(r['recall']):>6}")
            if "parsed" in r:
                print(f"{'':<30}   parsed: {r['parsed']}")
            if r["episodes"]:
                print(f"{'':<30}   caught: {r['caught']}")
                print(f"{'':<30}   missed: {r['missed']}")


if __name__ == "__main__":
    main()
