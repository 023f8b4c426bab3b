"""Generation benchmark: a large diagram to a python skeleton on disk, in both styles.

    python benchmarks/generate.py [--runs 5] [--sizes 1000,10000] [--no-process]
                                  [--profile] [--json out.json]

The requirement: generating both styles for a 1,000-message diagram takes under 2 seconds.

For each size, `../shared/tools/gen_big_diagram.py N FILE` (run as its own process, as its
README shows) writes a deterministic diagram (10 participants, every arrow, notes, nested
blocks, activations) into a temporary folder. Then, for choreography and orchestration of
the python target:

* in this process, the whole pipeline `mermaidgen generate` runs, step by step: read and
  `parse` the file, `analyse`, `build` (its own analysis, the template context, rendering
  every file in memory), `output.plan` and `output.write` into a fresh folder (fsync
  included, as on every real run). One warm-up run, then the median of `--runs` runs for
  every step and for the total (parse + build + plan + write; `analyse` alone is shown
  for information, `build` repeats it). A garbage collection between runs, never inside.
* as whole processes (unless `--no-process`): `python -m mermaidgen generate FILE --style S
  --out FRESH`, the median of `--runs` runs after one warm-up, against two baselines run
  the same way in the same run: `python -c "import jinja2"` (the floor any Jinja tool pays)
  and `python -m mermaidgen --version`.

Printed: a table per size; then the total for both styles at 1,000 messages against the
2 s budget, in-process and as processes; the scaling ratio 10k / 1k (10x is linear); and
ratios to the baselines measured in the same run (build / parse, process / floor).
`--profile` adds the top costs of one in-process run of each style at the first size
(cProfile, by own time). Timings are noisy on a shared machine: compare ratios measured in
the same run. Nothing here fails on a timing: the exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # run from a checkout without installing

from mermaidgen import parse  # noqa: E402
from mermaidgen.analysis import analyse  # noqa: E402
from mermaidgen.codegen.generate import TARGETS, build  # noqa: E402
from mermaidgen.codegen.write import output  # noqa: E402

TARGET = "python"
STYLES = tuple(TARGETS[TARGET])
BUDGET_S = 2.0  # both styles, 1,000 messages
BUDGET_SIZE = 1000
STEPS = ("parse", "analyse", "build", "plan", "write")
TOTAL_STEPS = ("parse", "build", "plan", "write")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    generator = args.shared / "tools" / "gen_big_diagram.py"
    if not generator.is_file():
        raise SystemExit(f"benchmarks/generate.py: {generator} not found. This benchmark "
                         "needs the shared/ folder beside the project (or --shared DIR) for "
                         "its deterministic large diagrams.")
    print(_environment_line(), flush=True)
    print(f"target {TARGET}; median of {args.runs} runs after 1 warm-up; diagrams from "
          "gen_big_diagram.py (10 participants, seed 1)\n", flush=True)
    results: dict[str, Any] = {"sizes": {}, "baselines": {}}
    with tempfile.TemporaryDirectory(prefix="mermaidgen-genbench-") as tmp:
        work = Path(tmp)
        if not args.no_process:
            results["baselines"] = _baselines(args.runs, work)
            for name, seconds in results["baselines"].items():
                print(f"baseline {name:<32} {_ms(seconds):>10}", flush=True)
            print(flush=True)
        print(HEADER, flush=True)
        for size in sizes:
            path = _diagram(generator, size, work)
            row: dict[str, Any] = {"bytes": path.stat().st_size, "styles": {}}
            for style in STYLES:
                measured = _in_process(path, style, args.runs, work)
                if not args.no_process:
                    measured["process_s"] = _process(path, style, args.runs, work)
                row["styles"][style] = measured
                print(_row_line(size, style, measured), flush=True)
            results["sizes"][size] = row
        if args.profile:
            print()
            path = _diagram(generator, sizes[0], work)
            for style in STYLES:
                print(_profile(path, style, work, args.profile_lines))
    print()
    summary = _summary(results)
    for line in summary["lines"]:
        print(line)
    if args.json:
        report = {"environment": _environment_data(), "runs": args.runs, "target": TARGET,
                  "results": results, "summary": summary["data"]}
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per measurement "
                    "(default 5)")
    ap.add_argument("--sizes", default="1000,10000",
                    help="message counts, comma-separated (default 1000,10000)")
    ap.add_argument("--no-process", action="store_true",
                    help="skip the whole-process measurements and their baselines")
    ap.add_argument("--profile", action="store_true",
                    help="also profile one in-process run per style at the first size")
    ap.add_argument("--profile-lines", type=int, default=15,
                    help="functions listed per profile (default 15)")
    ap.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    ap.add_argument("--shared", type=Path, default=PROJECT.parent / "shared",
                    help="the shared/ folder with tools/ (default: beside the project)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


# -- the inputs and the environment ----------------------------------------------------------

def _diagram(generator: Path, size: int, work: Path) -> Path:
    path = work / f"big_{size}.mmd"
    if not path.exists():
        done = subprocess.run([sys.executable, str(generator), str(size), str(path)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{generator} failed: {done.stderr.strip()}")
    return path


def _git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else "?"


def _environment_data() -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "load_1min": load, "commit": _git_state()}


def _environment_line() -> str:
    e = _environment_data()
    load = f", load {e['load_1min']:.2f}" if e["load_1min"] is not None else ""
    return (f"mermaidgen generate benchmark: Python {e['python']}, {e['platform']}, "
            f"{e['cpus']} CPUs{load}; commit {e['commit']}")


# -- measuring -------------------------------------------------------------------------------

def _in_process(path: Path, style: str, runs: int, work: Path) -> dict[str, Any]:
    """Each step of one generation, timed separately within each run."""
    times: dict[str, list[float]] = {step: [] for step in (*STEPS, "total")}
    files = size = 0
    for n in range(runs + 1):  # run 0 is the warm-up
        out = work / f"out-{style}-{n}"
        gc.collect()  # between runs, not during
        clock = time.perf_counter
        t0 = clock()
        text = path.read_text(encoding="utf-8")
        diagram = parse(text, source=path.name)
        t1 = clock()
        analyse(diagram)
        t2 = clock()
        generation = build(diagram, text, style=style, target=TARGET)
        t3 = clock()
        plan = output.plan(list(generation.files), out, generation.meta())
        t4 = clock()
        output.write(plan)
        t5 = clock()
        files = len(generation.files)
        size = sum(len(f.content.encode("utf-8")) for f in generation.files)
        del diagram, generation, plan
        shutil.rmtree(out)
        if n == 0:
            continue
        step_times = {"parse": t1 - t0, "analyse": t2 - t1, "build": t3 - t2,
                      "plan": t4 - t3, "write": t5 - t4}
        for step, seconds in step_times.items():
            times[step].append(seconds)
        times["total"].append(sum(step_times[s] for s in TOTAL_STEPS))
    medians = {f"{step}_s": statistics.median(values) for step, values in times.items()}
    return {**medians, "runs_s": times, "files": files, "output_bytes": size}


def _median_process(command: list[str], runs: int, fresh: Callable[[int], None] | None = None,
                    ) -> float:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}  # the checkout, not an installed copy
    env.pop("MERMAIDGEN_DEBUG", None)
    samples = []
    for n in range(runs + 1):
        if fresh is not None:
            fresh(n)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): "
                             f"{done.stderr.strip()[-500:]}")
        if n:  # run 0 is the warm-up (bytecode, the grammar's parse table)
            samples.append(elapsed)
    return statistics.median(samples)


def _baselines(runs: int, work: Path) -> dict[str, float]:
    return {
        'python -c "import jinja2"': _median_process(
            [sys.executable, "-c", "import jinja2"], runs),
        "python -m mermaidgen --version": _median_process(
            [sys.executable, "-m", "mermaidgen", "--version"], runs),
    }


def _process(path: Path, style: str, runs: int, work: Path) -> float:
    out = work / f"process-{style}"

    def fresh(n: int) -> None:
        shutil.rmtree(out, ignore_errors=True)  # every run writes a new skeleton

    seconds = _median_process([sys.executable, "-m", "mermaidgen", "generate", str(path),
                               "--style", style, "--target", TARGET, "--out", str(out)],
                              runs, fresh)
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def _profile(path: Path, style: str, work: Path, lines: int) -> str:
    """The functions that cost most of one in-process generation, by own time."""
    out = work / f"profile-{style}"
    text = path.read_text(encoding="utf-8")
    build(parse(text, source=path.name), text, style=style, target=TARGET)  # warm caches
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    diagram = parse(text, source=path.name)
    generation = build(diagram, text, style=style, target=TARGET)
    output.write(output.plan(list(generation.files), out, generation.meta()))
    profiler.disable()
    wall = time.perf_counter() - start
    shutil.rmtree(out, ignore_errors=True)
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2],  # type: ignore[attr-defined]
                  reverse=True)[:lines]
    report = [f"profile, {style}, {path.stem}: {_ms(wall)} wall with the profiler on; "
              "top functions by own time (share of all profiled time, cumulative time)"]
    for (filename, line, function), (_, calls, own, cumulative, _) in rows:
        where = _short(filename)
        report.append(f"  {own / total:>6.1%}  {_ms(own):>10} own {_ms(cumulative):>10} cum"
                      f"  {calls:>9,} calls  {where}:{line}:{function}")
    return "\n".join(report)


def _short(filename: str) -> str:
    path = Path(filename)
    for root in (PROJECT, *map(Path, sys.path)):
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return filename


# -- reporting -------------------------------------------------------------------------------

HEADER = (f"{'messages':>9} {'style':<13} | {'parse':>9} {'analyse':>9} {'build':>10} "
          f"{'plan':>8} {'write':>9} | {'total':>10} | {'process':>10} | {'files':>5} "
          f"{'output':>8}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms" if seconds < 10 else f"{seconds:,.2f} s"


def _row_line(size: int, style: str, m: dict[str, Any]) -> str:
    process = _ms(m["process_s"]) if "process_s" in m else "-"
    return (f"{size:>9,} {style:<13} | {_ms(m['parse_s']):>9} {_ms(m['analyse_s']):>9} "
            f"{_ms(m['build_s']):>10} {_ms(m['plan_s']):>8} {_ms(m['write_s']):>9} | "
            f"{_ms(m['total_s']):>10} | {process:>10} | {m['files']:>5} "
            f"{m['output_bytes'] / 1e6:>6.2f}MB")


def _summary(results: dict[str, Any]) -> dict[str, Any]:
    lines: list[str] = []
    data: dict[str, Any] = {}
    sizes = results["sizes"]

    def both(size: int, key: str) -> float | None:
        styles = sizes.get(size, {}).get("styles", {})
        values = [styles[s].get(key) for s in STYLES if s in styles]
        return sum(values) if values and None not in values else None

    in_process = both(BUDGET_SIZE, "total_s")
    if in_process is not None:
        verdict = "ok" if in_process < BUDGET_S else "OVER BUDGET"
        data["both_styles_1k_in_process_s"] = in_process
        lines.append(f"both styles at {BUDGET_SIZE:,} messages, in-process: "
                     f"{_ms(in_process)} (budget < {BUDGET_S:.0f} s): {verdict}, "
                     f"{in_process / BUDGET_S:.0%} of the budget")
        processes = both(BUDGET_SIZE, "process_s")
        if processes is not None:
            data["both_styles_1k_processes_s"] = processes
            lines.append(f"both styles at {BUDGET_SIZE:,} messages, as two `mermaidgen "
                         f"generate` processes: {_ms(processes)} "
                         f"({'ok' if processes < BUDGET_S else 'OVER BUDGET'})")
    else:
        lines.append(f"{BUDGET_SIZE:,} messages not measured: no verdict on the budget")
    largest = max(sizes, default=None)
    if largest and largest != BUDGET_SIZE and in_process:
        for key, what in (("total_s", "total"), ("build_s", "build alone")):
            big, small = both(largest, key), both(BUDGET_SIZE, key)
            if big is not None and small:
                ratio = big / small
                data[f"scaling_{key[:-2]}_{largest}_over_{BUDGET_SIZE}"] = ratio
                lines.append(f"scaling, {what}: {largest:,} / {BUDGET_SIZE:,} messages = "
                             f"{ratio:.2f}x in-process (linear: {largest / BUDGET_SIZE:.0f}x)")
    for size, row in sizes.items():
        for style in STYLES:
            m = row["styles"].get(style)
            if not m:
                continue
            ratio = m["build_s"] / m["parse_s"]
            data.setdefault("build_over_parse", {})[f"{size}-{style}"] = ratio
        parse_both = sum(row["styles"][s]["parse_s"] for s in STYLES)
        build_both = sum(row["styles"][s]["build_s"] for s in STYLES)
        total_both = sum(row["styles"][s]["total_s"] for s in STYLES)
        lines.append(f"at {size:,}: build (analyse, context, render) = "
                     f"{build_both / parse_both:.1f}x the parse time, "
                     f"{build_both / total_both:.0%} of the total")
    floor = results["baselines"].get('python -c "import jinja2"')
    if floor and in_process is not None:
        processes = both(BUDGET_SIZE, "process_s")
        if processes is not None:
            per_style = processes / len(STYLES)
            data["process_over_jinja_floor_1k"] = per_style / floor
            lines.append(f"one `mermaidgen generate` process at {BUDGET_SIZE:,} messages = "
                         f"{per_style / floor:.1f}x `python -c \"import jinja2\"` "
                         f"({_ms(floor)}), measured in the same run")
    return {"lines": lines, "data": data}


if __name__ == "__main__":
    sys.exit(main())
