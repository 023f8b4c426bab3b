"""Parse benchmark: mermaidgen against mermaid.js on large generated diagrams.

    python benchmarks/parse.py [--runs 5] [--sizes 1000,10000,100000] [--no-node] [--json out.json]

For each size, `../shared/tools/gen_big_diagram.py` writes a deterministic diagram (10
participants, every arrow, notes, nested blocks, activations) into a temporary folder. Then:

* mermaidgen: `parse(text)` into the full model, in this process, median of `--runs` runs
  after one warm-up run. The garbage collector is left as in normal use (the parser
  manages it itself); a collection between runs keeps one run's garbage out of the next.
* mermaid.js (when Node is available and `--no-node` is not given): the oracle's bench
  (`../shared/tools/mermaid-oracle/run --bench`), once per file, in the same run. It
  reports mermaid's full parse (`getDiagramFromText`) and its bare jison parser. At 100k
  messages a full mermaid parse takes about 40 s, so there it runs at most 3 times after
  1 warm-up.
* optional Python peers, when installed (`pip install termaid merman`; skipped with a note
  otherwise): termaid's sequence parser (`termaid.parser.sequence.parse_sequence_diagram`,
  pure-Python regular expressions, it does not validate) and merman (a Rust port of
  mermaid, `Merman().parse_json(text, None)`: its parse and its model as JSON). They run
  round-robin with mermaidgen's parse, one call each per round, so that a busy spell on
  the machine slows all of them alike.
* `mermaidgen.analysis.analyse(diagram)` on the parsed model, if that module exists.

Printed: a table per size, then the ratios the acceptance criteria name (linearity
100k/10k <= 11x; at 10k at least 20x faster than mermaid's full parse and at least as fast
as its bare jison parser, aim 3x) and analysis time against parse time at 10k. Timings are
noisy on a small machine: only ratios measured in the same run are meaningful, and nothing
here fails on a timing (the exit code is 0 whatever the numbers).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
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
from mermaidgen.model import Diagram, messages  # noqa: E402

NODE_LARGE = 100_000  # messages from which the mermaid bench runs at most 3 times
NODE_TIMEOUT = 3600  # seconds for one mermaid bench call


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    generator = _load_generator(args.shared / "tools" / "gen_big_diagram.py")
    oracle = args.shared / "tools" / "mermaid-oracle" / "run"
    node = None if args.no_node else _node_version(oracle)
    analyse = _analysis()
    peers = _peers()
    print(_environment(node, args.shared), flush=True)
    for name, why in _missing_peers():
        print(f"peer {name} skipped: {why}", flush=True)
    print(f"median of {args.runs} runs after 1 warm-up; diagrams from gen_big_diagram.py "
          "(10 participants, seed 1)\n", flush=True)

    results: list[dict[str, Any]] = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="mermaidgen-bench-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"big_{size}.mmd"
            text = generator(size)
            path.write_text(text, encoding="utf-8", newline="\n")
            row = _measure_mermaidgen(text, size, args.runs, analyse, peers)
            row["bytes"] = len(text.encode("utf-8"))
            if node is not None:
                row["mermaid"] = _measure_mermaid(oracle, path, size, args.runs)
            results.append(row)
            print(_row_line(row), flush=True)
    print()
    summary = _summary(results)
    for line in summary["lines"]:
        print(line)
    if args.json:
        report = {"environment": _environment_data(node, args.shared), "runs": args.runs,
                  "results": results, "summary": summary["data"]}
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per size (default 5)")
    ap.add_argument("--sizes", default="1000,10000,100000",
                    help="message counts, comma-separated (default 1000,10000,100000)")
    ap.add_argument("--no-node", action="store_true", help="skip the mermaid.js comparison")
    ap.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    ap.add_argument("--shared", type=Path, default=PROJECT.parent / "shared",
                    help="the shared/ folder with tools/ (default: beside the project)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


# -- the inputs and the environment ----------------------------------------------------------

def _load_generator(path: Path) -> Callable[[int], str]:
    spec = importlib.util.spec_from_file_location("gen_big_diagram", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the diagram generator {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda size: module.generate(size)


def _node_version(oracle: Path) -> str | None:
    node = shutil.which("node")
    if node is None or not oracle.exists():
        print("(no Node or no mermaid oracle: mermaid.js is not measured)", file=sys.stderr)
        return None
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


def _analysis() -> Callable[[Diagram], object] | None:
    try:
        from mermaidgen.analysis import analyse
    except ImportError:
        return None
    return analyse


def _mermaid_version(shared: Path) -> str:
    try:
        package = json.loads((shared / "tools/mermaid-oracle/package.json").read_text())
        return str(package["dependencies"]["mermaid"])
    except (OSError, ValueError, KeyError):
        return "?"


def _environment_data(node: str | None, shared: Path) -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "node": node,
            "mermaid": _mermaid_version(shared) if node else None}


def _environment(node: str | None, shared: Path) -> str:
    e = _environment_data(node, shared)
    js = f"node {node}, mermaid {e['mermaid']}" if node else "mermaid.js not measured"
    return f"mermaidgen parse benchmark: Python {e['python']}, {e['platform']}, " \
           f"{e['cpus']} CPUs; {js}"


# -- measuring -------------------------------------------------------------------------------

PEERS = {"termaid": "termaid.parser.sequence", "merman": "merman"}


def _missing_peers() -> list[tuple[str, str]]:
    return [(name, f"`pip install {name}` to compare with it")
            for name, module in PEERS.items() if importlib.util.find_spec(name) is None]


def _peers() -> dict[str, Callable[[str], object]]:
    """The optional peers that are installed, each as a parse function."""
    peers: dict[str, Callable[[str], object]] = {}
    if importlib.util.find_spec("termaid") is not None:
        from termaid.parser.sequence import parse_sequence_diagram

        peers["termaid"] = parse_sequence_diagram
    if importlib.util.find_spec("merman") is not None:
        from merman import Merman

        engine = Merman()
        peers["merman"] = lambda text: engine.parse_json(text, None)
    return peers


def _side_by_side(fns: dict[str, Callable[[], object]],
                  runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds of `runs` calls of each function, one call of each per round (after one
    warm-up round), so that load on the machine weighs on all of them alike: wall-clock
    seconds, and this process's CPU seconds (which a busy machine moves far less)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - start_cpu)
            times[name].append(time.perf_counter() - start)
    return times, cpu


def _timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float], object]:
    """Median seconds of `runs` calls after one warm-up call, the times, the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        del result
        gc.collect()  # between runs, not during: each run starts from the same heap
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def _measure_mermaidgen(text: str, size: int, runs: int,
                        analyse: Callable[[Diagram], object] | None,
                        peers: dict[str, Callable[[str], object]]) -> dict[str, Any]:
    refused: dict[str, dict[str, str]] = {}
    for name, peer in peers.items():
        try:  # merman, for one, refuses sources over 2 MB
            peer(text)
        except Exception as exc:  # a peer's failure must not stop the benchmark
            refused[name] = {"error": f"{type(exc).__name__}: {str(exc)[-160:]}"}
    peers = {name: peer for name, peer in peers.items() if name not in refused}
    if peers:
        fns = {"mermaidgen": lambda: parse(text),
               **{name: (lambda p=p: p(text)) for name, p in peers.items()}}
        side, side_cpu = _side_by_side(fns, runs)
        times, cpu = side.pop("mermaidgen"), side_cpu.pop("mermaidgen")
        median = statistics.median(times)
        diagram = parse(text)
    else:
        side, side_cpu = _side_by_side({"mermaidgen": lambda: parse(text)}, runs)
        times, cpu = side.pop("mermaidgen"), side_cpu.pop("mermaidgen")
        median = statistics.median(times)
        diagram = parse(text)
    assert isinstance(diagram, Diagram)
    count = len(messages(diagram))
    row: dict[str, Any] = {"size": size, "messages": count, "parse_s": median,
                           "parse_runs_s": times, "msgs_per_s": count / median,
                           "parse_cpu_s": statistics.median(cpu), "parse_cpu_runs_s": cpu,
                           "peers": {**{name: {"median_s": statistics.median(t), "runs_s": t,
                                               "cpu_median_s": statistics.median(side_cpu[name]),
                                               "cpu_runs_s": side_cpu[name]}
                                        for name, t in side.items()}, **refused}}
    if analyse is not None:
        try:
            a_median, a_times, _ = _timed(lambda: analyse(diagram), runs)
        except Exception as exc:  # an unfinished analysis must not stop the benchmark
            row["analysis_error"] = f"{type(exc).__name__}: {exc}"
        else:
            row["analysis_s"], row["analysis_runs_s"] = a_median, a_times
    return row


def _measure_mermaid(oracle: Path, path: Path, size: int, runs: int) -> dict[str, Any]:
    runs, warmup = (min(runs, 3), 1) if size >= NODE_LARGE else (runs, 2)
    command = [str(oracle), "--bench", "--runs", str(runs), "--warmup", str(warmup), str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=NODE_TIMEOUT,
                              cwd=PROJECT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    try:  # bench.mjs prints one line per file, then everything as JSON on its last line
        last = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
        result = json.loads(last)["results"][0]
    except (ValueError, IndexError, KeyError):
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit code {done.returncode}: {why}"}
    return {"runs": runs, "warmup": warmup, "full_s": result["full_ms"] / 1e3,
            "jison_s": result["jison_ms"] / 1e3, "db_s": result["db_ms"] / 1e3,
            "messages": result["messages"]}


# -- reporting -------------------------------------------------------------------------------

HEADER = (f"{'messages':>9} {'MB':>6} | {'mermaidgen':>10} {'msgs/s':>9} {'MB/s':>6} | "
          f"{'mermaid full':>12} {'jison':>9} | {'vs full':>7} {'vs jison':>8} | "
          f"{'analysis':>9}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms" if seconds < 10 else f"{seconds:,.2f} s"


def _row_line(row: dict[str, Any]) -> str:
    mb = row["bytes"] / 1e6
    mg = (f"{_ms(row['parse_s']):>10} {row['msgs_per_s']:>9,.0f} "
          f"{mb / row['parse_s']:>6.1f}")
    js = f"{'-':>12} {'-':>9} | {'-':>7} {'-':>8}"
    mermaid = row.get("mermaid")
    if mermaid and "error" not in mermaid:
        full, jison = mermaid["full_s"] / row["parse_s"], mermaid["jison_s"] / row["parse_s"]
        js = (f"{_ms(mermaid['full_s']):>12} {_ms(mermaid['jison_s']):>9} | "
              f"{full:>6.1f}x {jison:>7.2f}x")
    elif mermaid:
        js = f"mermaid failed: {mermaid['error']}"
    analysis = _ms(row["analysis_s"]) if "analysis_s" in row else "-"
    peers = "".join(f" | {name} {_ms(p['median_s'])} ({p['median_s'] / row['parse_s']:.2f}x;"
                    f" cpu {_ms(p['cpu_median_s'])}, "
                    f"{p['cpu_median_s'] / row['parse_cpu_s']:.2f}x)"
                    if "median_s" in p else f" | {name} failed: {p['error']}"
                    for name, p in row.get("peers", {}).items())
    return (f"{row['size']:>9,} {mb:>6.2f} | {mg} | {js} | {analysis:>9} | cpu "
            f"{_ms(row['parse_cpu_s'])}{peers}")


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    by_size = {r["size"]: r for r in results}
    lines: list[str] = []
    data: dict[str, Any] = {}

    def verdict(ok: bool) -> str:
        return "ok" if ok else "BELOW TARGET"

    if 10_000 in by_size and 100_000 in by_size:
        linear = by_size[100_000]["parse_s"] / by_size[10_000]["parse_s"]
        linear_cpu = by_size[100_000]["parse_cpu_s"] / by_size[10_000]["parse_cpu_s"]
        data["linearity_100k_over_10k"] = linear
        data["linearity_100k_over_10k_cpu"] = linear_cpu
        lines.append(f"linearity: mermaidgen 100k / 10k = {linear:.2f}x, in CPU time "
                     f"{linear_cpu:.2f}x (acceptance <= 11x): {verdict(linear <= 11)}")
    ten = by_size.get(10_000)
    mermaid = (ten or {}).get("mermaid") or {}
    if ten and "full_s" in mermaid:
        full = mermaid["full_s"] / ten["parse_s"]
        jison = mermaid["jison_s"] / ten["parse_s"]
        data.update(speedup_vs_mermaid_full_10k=full, speedup_vs_jison_10k=jison)
        lines.append(f"at 10k: {full:.1f}x faster than mermaid.js's full parse "
                     f"(acceptance >= 20x): {verdict(full >= 20)}")
        lines.append(f"at 10k: {jison:.2f}x the speed of mermaid's bare jison parser "
                     f"(acceptance >= 1x, aim 3.5x): {verdict(jison >= 1)}"
                     + ("" if jison >= 3.5 else ", below the 3.5x aim"))
    elif ten:
        lines.append("at 10k: mermaid.js not measured (no Node, --no-node, or it failed)")
    for name, peer in (ten or {}).get("peers", {}).items():
        if "median_s" not in peer:
            lines.append(f"at 10k: {name} failed ({peer['error']})")
            continue
        speedup = peer["median_s"] / ten["parse_s"]
        speedup_cpu = peer["cpu_median_s"] / ten["parse_cpu_s"]
        data[f"speedup_vs_{name}_10k"] = speedup
        data[f"speedup_vs_{name}_10k_cpu"] = speedup_cpu
        aim = 1.2 if name == "termaid" else 1.0
        lines.append(f"at 10k: {speedup:.2f}x the speed of {name} ({_ms(peer['median_s'])}, "
                     f"same rounds; in CPU time {speedup_cpu:.2f}x; aim >= {aim}x): "
                     f"{verdict(speedup_cpu >= aim)}")
    if ten and "analysis_s" in ten:
        share = ten["analysis_s"] / ten["parse_s"]
        data["analysis_over_parse_10k"] = share
        lines.append(f"analysis at 10k: {_ms(ten['analysis_s'])} = {share:.2f}x the parse "
                     f"time ({_ms(ten['parse_s'])})")
    elif ten and "analysis_error" in ten:
        lines.append(f"analysis at 10k: failed ({ten['analysis_error']})")
    elif ten:
        lines.append("analysis at 10k: mermaidgen.analysis is not available yet")
    return {"lines": lines, "data": data}


if __name__ == "__main__":
    sys.exit(main())
