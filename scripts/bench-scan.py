#!/usr/bin/env python3
"""Benchmark `ward scan` against ripgrep and peer secret scanners in one run.

Corpora:
* generated: a deterministic mix of PowerShell, XAML, .config, JSON, .env and
  text files with a planted secret about every 40 KiB, written to a temp folder
  in two sizes (--small-mb, --large-mb) so that peak memory can be compared as
  the corpus grows;
* real: the shared data folder (default ../shared/data from the repository root).

Each tool's wall time and peak resident memory come from `/usr/bin/time -v`.
ripgrep runs with the regexes of Ward's built-in rules plus a credential
assignment pattern (`rg -c -f patterns`), as a lower bound for regex search over
the same bytes. Peers (betterleaks, detect-secrets, credsweeper) are looked up in
--venv/bin then on PATH and run on the small generated corpus and the real one,
because they are one to three orders of magnitude slower.

Usage:
    cargo build --release -p ward
    python3 scripts/bench-scan.py --venv /tmp/scan-eval-venv
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "crates" / "ward-scan" / "src" / "rules" / "builtin.toml"
ASSIGNMENT = r"""(?i)[A-Za-z_$@][A-Za-z0-9_.\-]*(pass|pwd|secret|token|api_?key)[A-Za-z0-9_.\-]*["']?\s*(=|:)\s*["']?[^\s"'<>;]{4,}"""

WORDS = ("invoice queue robot orchestrator process transaction status retry folder sheet "
         "customer amount vendor payment approve reject workflow selector element click "
         "browser window timeout config asset credential log message exception").split()


def noise_line(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))


def secret_line(rng, kind):
    token = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(16))
    if kind == "ps1":
        return f'$password = "Gen-{token}!"'
    if kind == "config":
        return f'    <add key="ServiceApiToken" value="{token}{token}" />'
    if kind == "xaml":
        return f'    <ucas:Login DisplayName="Login" Password="Gen{token}" Username="svc" />'
    if kind == "json":
        return f'  "apiKey": "{token}{token}",'
    return f"DB_PASSWORD=Gen-{token}"


def write_file(path, kind, size, rng):
    lines, written, since_secret = [], 0, 0
    if kind == "xaml":
        lines.append('<Activity x:Class="Main" xmlns="http://schemas.microsoft.com/netfx/2009/xaml/activities">')
    if kind == "config":
        lines.append("<configuration><appSettings>")
    if kind == "json":
        lines.append("{")
    while written < size:
        if since_secret > 40 * 1024:
            line, since_secret = secret_line(rng, kind), 0
        elif kind == "xaml":
            line = f'    <ui:Click DisplayName="{noise_line(rng)}" Selector="&lt;wnd app=\'x.exe\' /&gt;" />'
        elif kind == "config":
            line = f'    <add key="Setting{rng.randint(1, 9999)}" value="{noise_line(rng)}" />'
        elif kind == "json":
            line = f'  "k{rng.randint(1, 10**9)}": "{noise_line(rng)}",'
        else:
            line = noise_line(rng)
        lines.append(line)
        written += len(line) + 1
        since_secret += len(line) + 1
    if kind == "xaml":
        lines.append("</Activity>")
    if kind == "config":
        lines.append("</appSettings></configuration>")
    if kind == "json":
        lines.append('  "end": true\n}')
    path.write_text("\n".join(lines) + "\n")


def generate(root, megabytes, seed=7):
    rng = random.Random(seed)
    kinds = [("ps1", ".ps1"), ("config", ".config"), ("xaml", ".xaml"), ("json", ".json"), ("env", ".env"), ("txt", ".txt")]
    total, index = 0, 0
    target = megabytes * 1024 * 1024
    while total < target:
        kind, ext = kinds[index % len(kinds)]
        folder = root / f"project{index // 200:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(8, 96) * 1024
        path = folder / f"file{index:06d}{ext}"
        write_file(path, kind, size, rng)
        total += path.stat().st_size
        index += 1
    return total


def corpus_bytes(root):
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def timed(cmd, cwd=None):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak KiB, exit code)."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if not wall or not rss:
        raise RuntimeError(f"{cmd[0]} produced no timing: {proc.stderr[-500:]}")
    hours = int(wall.group(1) or 0)
    seconds = hours * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    return seconds, int(rss.group(1)), proc.returncode


def rg_patterns(path):
    rules = tomllib.loads(RULES.read_text())["rules"]
    patterns = [r["regex"] for r in rules if "regex" in r] + [ASSIGNMENT]
    path.write_text("\n".join(patterns) + "\n")


def find_tool(name, venv):
    if venv and (Path(venv) / "bin" / name).exists():
        return str(Path(venv) / "bin" / name)
    return shutil.which(name)


def tools(ward, venv, patterns, out_dir):
    # Each command builder returns (argv, working directory).
    yield "ward scan", lambda t: ([ward, "scan", str(t), "--format", "json", "-o", str(out_dir / "ward.json"), "--no-progress"], None), True
    rg = shutil.which("rg")
    if rg:
        yield "ripgrep (same regexes)", lambda t: ([rg, "-c", "--no-ignore", "--hidden", "-f", str(patterns), str(t)], None), True
    for name, build in (
        ("betterleaks", lambda tool: lambda t: ([tool, str(t), "--no-banner", "--exit-code", "0", "-o", str(out_dir / "bl.json")], None)),
        # detect-secrets scans nothing when given a path outside its working directory.
        ("detect-secrets", lambda tool: lambda t: ([tool, "scan", "--all-files", "."], t)),
        ("credsweeper", lambda tool: lambda t: ([tool, "--path", str(t), "--save-json", str(out_dir / "cs.json")], None)),
    ):
        tool = find_tool(name, venv)
        if tool:
            yield name, build(tool), False
        else:
            print(f"note: {name} not found; skipped", file=sys.stderr)


def bench(label, target, candidates, include_peers):
    size = corpus_bytes(target)
    subprocess.run(["cat", *[str(p) for p in Path(target).rglob("*") if p.is_file()]], stdout=subprocess.DEVNULL, check=False)
    print(f"\n{label}: {size / 1e6:.1f} MB in {sum(1 for p in Path(target).rglob('*') if p.is_file())} files")
    print(f"  {'tool':<24} {'seconds':>8} {'MB/s':>8} {'peak MiB':>9} {'ward speed ratio':>17}")
    ward_rate = None
    for name, command, always in candidates:
        if not always and not include_peers:
            continue
        argv, cwd = command(target)
        seconds, peak_kib, code = timed(argv, cwd=cwd)
        rate = size / 1e6 / seconds if seconds > 0 else float("inf")
        if name == "ward scan":
            ward_rate = rate
        ratio = f"{ward_rate / rate:.2f}x" if ward_rate and name != "ward scan" else "-"
        print(f"  {name:<24} {seconds:>8.2f} {rate:>8.1f} {peak_kib / 1024:>9.1f} {ratio:>17}   (exit {code})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="real corpus folder")
    parser.add_argument("--ward", default=str(REPO / "target" / "release" / "ward"), help="ward binary (release build)")
    parser.add_argument("--venv", help="virtual environment holding the peer scanners")
    parser.add_argument("--small-mb", type=int, default=20, help="size of the small generated corpus")
    parser.add_argument("--large-mb", type=int, default=200, help="size of the large generated corpus")
    args = parser.parse_args()
    if not Path(args.ward).exists():
        sys.exit(f"{args.ward} not found: run `cargo build --release -p ward` or pass --ward")

    print(f"machine: {os.cpu_count()} CPUs; ward: {args.ward}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        patterns = tmp / "patterns.txt"
        rg_patterns(patterns)
        candidates = list(tools(args.ward, args.venv, patterns, tmp))
        small, large = tmp / "small", tmp / "large"
        generate(small, args.small_mb)
        bench(f"generated corpus, small ({args.small_mb} MB)", small, candidates, include_peers=True)
        shutil.rmtree(small)
        generate(large, args.large_mb)
        bench(f"generated corpus, large ({args.large_mb} MB)", large, candidates, include_peers=False)
        shutil.rmtree(large)
        bench(f"real corpus ({args.data})", args.data, candidates, include_peers=True)


if __name__ == "__main__":
    main()
