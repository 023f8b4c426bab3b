"""Whole-process speed of the command line, as ratios to the CLI framework's own floor.

    python benchmarks/cli.py [--runs 15] [--files 1000]

Measures, as separate processes, in one run (timings on a shared 2-core machine are
noisy; ratios measured side by side are what to compare):

* `python -c "import typer"`                      the floor every typer CLI pays
* `mermaidgen --version`                           target: within 1.3x of the floor
* `mermaidgen preview SEED --format json`          target: within 2.2x of the floor
* `mermaidgen check DIR` over FILES small diagrams target: under 5 seconds

Medians of `--runs` runs, after one warm-up (the first run compiles bytecode and lark's
cached parse table). The commands run without PYTHONDONTWRITEBYTECODE: with it set, an
editable install recompiles every module of mermaidgen in every process, which no user
installing from a wheel pays (pip writes the bytecode at install time).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "corpus" / "seed" / "choreography.mmd"


def _command() -> list[str]:
    script = shutil.which("mermaidgen")
    return [script] if script else [sys.executable, "-m", "mermaidgen"]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _time(cmd: list[str], runs: int, cwd: Path | None = None) -> float:
    subprocess.run(cmd, capture_output=True, cwd=cwd, env=ENV)  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=cwd, env=ENV)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    cli = _command()
    seed = SEED if SEED.is_file() else ROOT / "samples" / "checkout.mmd"
    floor = _time([sys.executable, "-c", "import typer"], args.runs)
    version = _time([*cli, "--version"], args.runs)
    preview = _time([*cli, "preview", str(seed), "--format", "json"], args.runs)
    sys.path.insert(0, str(ROOT / "tests"))
    import check_tree

    with tempfile.TemporaryDirectory() as tmp:
        tree = check_tree.build(Path(tmp) / "repo", files=args.files)
        check = _time([*cli, "check", "."], max(3, args.runs // 5), cwd=tree.root)
    floor_label = 'python -c "import typer" (the floor)'
    print(f"{'command':<46} {'median':>9} {'ratio':>7}  target")
    print(f"{floor_label:<46} {floor * 1000:>7.0f}ms {1:>6.2f}x")
    print(f"{'mermaidgen --version':<46} {version * 1000:>7.0f}ms "
          f"{version / floor:>6.2f}x  <= 1.3x")
    print(f"{'mermaidgen preview SEED --format json':<46} {preview * 1000:>7.0f}ms "
          f"{preview / floor:>6.2f}x  <= 2.2x")
    print(f"{f'mermaidgen check ({args.files} files)':<46} {check:>8.2f}s {'':>7}  < 5 s")


if __name__ == "__main__":
    main()
