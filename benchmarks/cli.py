"""Whole-process speed of the command line, as ratios to the CLI framework's own floor.

    python benchmarks/cli.py [--runs 15] [--files 1000]

Measures, as separate processes, in one run (timings on a shared 2-core machine are
noisy; ratios measured side by side are what to compare):

* `python -c "import typer"`                      the floor every typer CLI pays
* `mermaidgen --version`                           target: within 1.3x of the floor
* `mermaidgen preview SEED --format json`          target: within 2.2x of the floor
* `mermaidgen check DIR` over FILES small diagrams target: under 5 seconds

Medians of `--runs` rounds (the floor, then each command: ratios are paired per round),
after one warm-up (the first run writes the bytecode). The commands run without
PYTHONDONTWRITEBYTECODE: with it set, an editable install recompiles every module of
mermaidgen in every process, which no user installing from a wheel pays (pip writes the
bytecode at install time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "corpus" / "seed" / "choreography.mmd"


def _command() -> list[str]:
    script = shutil.which("mermaidgen")
    return [script] if script else [sys.executable, "-m", "mermaidgen"]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, cwd=cwd, env=ENV)
    return time.perf_counter() - start


def _time(cmd: list[str], runs: int, cwd: Path | None = None) -> float:
    _run(cmd, cwd)  # warm-up
    return statistics.median(_run(cmd, cwd) for _ in range(runs))


def _ratios(floor: list[str], commands: dict[str, list[str]], runs: int):
    """Each command's median time and its median ratio to the floor, run in rounds (floor,
    then each command): a busy spell on a shared machine then slows both sides of a ratio
    alike, where timing one command's runs after another's would skew it."""
    for cmd in (floor, *commands.values()):
        _run(cmd)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in ("floor", *commands)}
    ratios: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        base = _run(floor)
        times["floor"].append(base)
        for name, cmd in commands.items():
            took = _run(cmd)
            times[name].append(took)
            ratios[name].append(took / base)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return medians, {name: statistics.median(values) for name, values in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    cli = _command()
    seed = SEED if SEED.is_file() else ROOT / "samples" / "checkout.mmd"
    medians, ratios = _ratios([sys.executable, "-c", "import typer"], {
        "version": [*cli, "--version"],
        "preview": [*cli, "preview", str(seed), "--format", "json"],
    }, args.runs)
    sys.path.insert(0, str(ROOT / "tests"))
    import check_tree

    with tempfile.TemporaryDirectory() as tmp:
        tree = check_tree.build(Path(tmp) / "repo", files=args.files)
        check = _time([*cli, "check", "."], max(3, args.runs // 5), cwd=tree.root)
    floor_label = 'python -c "import typer" (the floor)'
    print(f"{'command':<46} {'median':>9} {'ratio':>7}  target")
    print(f"{floor_label:<46} {medians['floor'] * 1000:>7.0f}ms {1:>6.2f}x")
    print(f"{'mermaidgen --version':<46} {medians['version'] * 1000:>7.0f}ms "
          f"{ratios['version']:>6.2f}x  <= 1.3x")
    print(f"{'mermaidgen preview SEED --format json':<46} {medians['preview'] * 1000:>7.0f}ms "
          f"{ratios['preview']:>6.2f}x  <= 2.2x")
    print(f"{f'mermaidgen check ({args.files} files)':<46} {check:>8.2f}s {'':>7}  < 5 s")


if __name__ == "__main__":
    main()
