#!/usr/bin/env python3
"""Benchmark Ward's detection against a scikit-learn IsolationForest pipeline.

Runs the `bench` example of ward-detect (release build) for each estate size.
The example generates CloudTrail JSON lines, parses and scores them on one
thread, and prints events per second and memory per tracked identity. It
writes the lines and each identity-hour's label and Ward score to /tmp. This script then
runs a Python pipeline on the same lines: parse, compute the same twelve
hourly features, fit an IsolationForest on the training days and score the
attack day. It prints the speed and ROC AUC of both on the same
identity-hours.

    python3 -m venv /tmp/ward-bench-venv
    /tmp/ward-bench-venv/bin/pip install scikit-learn numpy
    /tmp/ward-bench-venv/bin/python scripts/bench-detect.py [--sizes 10000 100000]
"""

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def run_ward(size, out, events):
    result = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "-p", "ward-detect", "--example", "bench", "--",
         "--identities", str(size), "--out", out, "--events", events],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"bench example failed:\n{result.stderr}")
    metrics = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(":")
        metrics[key.strip()] = value.strip()
    return metrics


def load(path):
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = np.array([[float(v) for v in row] for row in reader])
    index = {name: i for i, name in enumerate(header)}
    return rows, index, None


SECRET_READS = {("secretsmanager.amazonaws.com", "GetSecretValue"), ("secretsmanager.amazonaws.com", "BatchGetSecretValue"),
                ("ssm.amazonaws.com", "GetParameter"), ("ssm.amazonaws.com", "GetParameters"), ("ssm.amazonaws.com", "GetParametersByPath")}
DENIED = ("accessdenied", "unauthorized", "forbidden")


def hour_features(hour, records, known):
    """Compute the twelve hourly features that the Ward engine computes."""
    ops, targets, sources = set(), set(), set()
    failures = denied = auth = reads = new_targets = 0
    for record in records:
        service, operation = record["eventSource"], record["eventName"]
        ops.add(operation)
        resource = (record.get("requestParameters") or {}).get("bucketName")
        targets.add(resource or service)
        target = f"{service}/{resource or ''}"
        if target not in known:
            known.add(target)
            new_targets += 1
        sources.add(record.get("sourceIPAddress"))
        reads += (service, operation) in SECRET_READS
        code = record.get("errorCode")
        if code:
            failures += 1
            lower = code.lower()
            denied += any(stem in lower for stem in DENIED)
    angle = 2 * np.pi * ((hour % 86400) // 3600) / 24
    n = len(records)
    return [np.log1p(n), 0.0, np.log1p(len(ops)), np.log1p(len(targets)), np.log1p(new_targets), failures / max(n, 1),
            np.log1p(denied), np.log1p(auth), np.log1p(reads), np.log1p(len(sources)), np.sin(angle), np.cos(angle)]


def python_pipeline(events_path, test_start):
    """Parse the JSON lines, build hourly features, fit on training hours, score the test day."""
    started = time.perf_counter()
    keys, rows = [], []
    known = {}
    current, pending = None, {}

    def flush():
        for bot, records in pending.items():
            keys.append((bot, current))
            rows.append(hour_features(current, records, known.setdefault(bot, set())))
        pending.clear()

    with open(events_path) as handle:
        for line in handle:
            record = json.loads(line)
            stamp = record["eventTime"]
            moment = int(datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
            hour = moment - moment % 3600
            if hour != current:
                flush()
                current = hour
            pending.setdefault(int(record["userIdentity"]["userName"][4:]), []).append(record)
    flush()
    features = np.array(rows)
    hours = np.array([hour for _, hour in keys])
    train = hours < test_start
    forest = IsolationForest(n_estimators=100, random_state=0, n_jobs=1)
    forest.fit(features[train])
    scores = -forest.score_samples(features[~train])
    elapsed = time.perf_counter() - started
    test_keys = [key for key, is_train in zip(keys, train) if not is_train]
    return elapsed, dict(zip(test_keys, scores))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="identities per run")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; scikit-learn {sklearn.__version__}; one thread each")
    for size in args.sizes:
        out, events_path = f"/tmp/ward-bench-{size}.csv", f"/tmp/ward-bench-{size}.jsonl"
        metrics = run_ward(size, out, events_path)
        rows, index, _ = load(out)
        test = rows[:, index["test"]] == 1
        test_start = int(rows[test, index["hour"]].min())
        if_seconds, if_scores = python_pipeline(events_path, test_start)
        keys = [(int(r[index["identity"]]), int(r[index["hour"]])) for r in rows[test]]
        labels = rows[test, index["label"]]
        ward_auc = roc_auc_score(labels, rows[test, index["ward_score"]])
        if_auc = roc_auc_score(labels, [if_scores[key] for key in keys])
        events = int(metrics["events"])
        ward_rate = float(metrics["events per second per core"])
        if_rate = events / if_seconds
        print(f"\n{size} identities, {events} events, {int(test.sum())} test identity-hours, {int(labels.sum())} attacked")
        print(f"  ward parse+score: {metrics['parse+score seconds']} s, {ward_rate:.0f} events/s per core")
        print(f"  ward memory per identity: {metrics['engine heap bytes per identity (estimate)']} bytes heap estimate, {metrics['rss growth per identity']} RSS")
        print(f"  ward alerts: {metrics['alerts']}; ROC AUC on test identity-hours: {ward_auc:.3f}")
        print(f"  python parse+features+IsolationForest: {if_seconds:.2f} s, {if_rate:.0f} events/s per core; ROC AUC {if_auc:.3f}")
        print(f"  ratio ward/python events per second: {ward_rate / if_rate:.2f}")
        os.remove(out)
        os.remove(events_path)


if __name__ == "__main__":
    main()
