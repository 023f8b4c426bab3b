"""Scaling benchmark: preview, check and generate at 10k and 100k messages, side by side.

    python benchmarks/scale.py [--sizes 10000,100000] [--runs 3] [--json out.json]

For each size, `../shared/tools/gen_big_diagram.py` writes a deterministic diagram into a
temporary folder. Every command then runs as its own process (`python -m mermaidgen ...`,
output to /dev/null or a fresh folder), and its CPU time (user + system, from the
operating system's accounting of the child) is the figure: on a shared machine CPU time
moves far less than wall-clock time. The median of `--runs` runs is reported.

The floor is what any tool that reads the diagram and prints its model as JSON pays: a
process that parses the file, turns the model into the section 4 document and writes it
with json's C encoder (`json.dumps` without indentation), the garbage collector paused
as the commands pause it. A second floor adds the
analysis: `analyse` and the `preview --format json` document (the analysis without the
projections, as the command prints it by default), written the same way.

Printed: each command's time at each size, its ratio to the floor measured in the same
run at that size, and its ratio between the largest and the smallest size (10x is exactly
linear for 10k -> 100k). Nothing here fails on a timing; no test asserts one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

FLOOR = """
import gc, json, sys
from pathlib import Path
import mermaidgen
from mermaidgen.model.serialize import to_dict
gc.disable()
document = to_dict(mermaidgen.parse(Path(sys.argv[1]).read_text(encoding="utf-8")))
sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\\n")
"""

FLOOR_WITH_ANALYSIS = """
import gc, json, sys
from pathlib import Path
import mermaidgen
from mermaidgen.analysis import analyse
from mermaidgen.model.serialize import to_dict
from mermaidgen.preview.document import analysis_to_dict
gc.disable()
diagram = mermaidgen.parse(Path(sys.argv[1]).read_text(encoding="utf-8"))
document = to_dict(diagram)
document["analysis"] = analysis_to_dict(analyse(diagram))
sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\\n")
"""

# (label, arguments after `python`; FILE and OUT are replaced)
COMMANDS = [
    ("floor: parse + model JSON (C)", ["-c", FLOOR, "FILE"]),
    ("floor: + analysis, whole doc (C)", ["-c", FLOOR_WITH_ANALYSIS, "FILE"]),
    ("preview --format json", ["-m", "mermaidgen", "preview", "FILE", "--format", "json"]),
    ("preview --format json --compact",
     ["-m", "mermaidgen", "preview", "FILE", "--format", "json", "--compact"]),
    ("preview json --projections",
     ["-m", "mermaidgen", "preview", "FILE", "--format", "json", "--projections"]),
    ("preview json --compact --diagram-only",
     ["-m", "mermaidgen", "preview", "FILE", "--format", "json", "--compact",
      "--diagram-only"]),
    ("preview (drawing + analysis)",
     ["-m", "mermaidgen", "preview", "FILE", "--width", "120"]),
    ("check", ["-m", "mermaidgen", "check", "FILE"]),
    ("generate --style choreography",
     ["-m", "mermaidgen", "generate", "FILE", "--style", "choreography", "--out", "OUT"]),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="message counts")
    ap.add_argument("--runs", type=int, default=3, help="runs per command and size")
    ap.add_argument("--only", default="", help="comma-separated substrings of the labels "
                    "to run (the floors always run)")
    ap.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    ap.add_argument("--shared", type=Path, default=PROJECT.parent / "shared")
    args = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    generator = args.shared / "tools" / "gen_big_diagram.py"
    if not generator.is_file():
        print(f"{generator} not found: pass --shared DIR", file=sys.stderr)
        return 2
    wanted = [w for w in args.only.split(",") if w]
    commands = [c for c in COMMANDS if c[0].startswith("floor")
                or not wanted or any(w in c[0] for w in wanted)]
    print(f"mermaidgen scaling benchmark: Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; CPU time (user + system) "
          f"of each command as its own process, median of {args.runs}", flush=True)
    results: dict[str, dict[int, dict]] = {label: {} for label, _ in commands}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            source = Path(tmp) / f"d{size}.mmd"
            subprocess.run([sys.executable, str(generator), str(size), str(source)],
                           check=True, capture_output=True)
            for label, arguments in commands:
                results[label][size] = _measure(arguments, source, Path(tmp), args.runs)
                r = results[label][size]
                print(f"  {size:>9,} {label:40} {r['cpu']:8.2f} s cpu {r['wall']:8.2f} s wall"
                      f" {r['bytes'] / 1e6:9.1f} MB out", flush=True)
    _report(results, sizes)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def _measure(arguments: list[str], source: Path, tmp: Path, runs: int) -> dict:
    cpu, wall, size = [], [], 0
    for _ in range(runs):
        out = tmp / "out"
        shutil.rmtree(out, ignore_errors=True)
        argv = [sys.executable, *(str(source) if a == "FILE" else str(out) if a == "OUT"
                                  else a for a in arguments)]
        with tempfile.TemporaryFile() as sink:
            before = os.times()
            subprocess.run(argv, stdout=sink, stderr=subprocess.DEVNULL, cwd=tmp,
                           env={**os.environ, "NO_COLOR": "1"})
            after = os.times()
            size = sink.tell()
        cpu.append(after.children_user - before.children_user
                   + after.children_system - before.children_system)
        wall.append(after.elapsed - before.elapsed)
    return {"cpu": statistics.median(cpu), "wall": statistics.median(wall), "bytes": size,
            "cpu_runs": cpu}


def _report(results: dict[str, dict[int, dict]], sizes: list[int]) -> None:
    small, large = sizes[0], sizes[-1]
    floor = results["floor: parse + model JSON (C)"]
    floor2 = results["floor: + analysis, whole doc (C)"]
    print(f"\n{'command':40} " + " ".join(f"{'/floor @' + f'{s:,}':>16}" for s in sizes)
          + " " + " ".join(f"{'/floor2 @' + f'{s:,}':>16}" for s in sizes)
          + (f" {f'{large:,}/{small:,}':>16}" if large != small else ""))
    for label, by_size in results.items():
        cells = [f"{by_size[s]['cpu'] / floor[s]['cpu']:15.2f}x" for s in sizes]
        cells += [f"{by_size[s]['cpu'] / floor2[s]['cpu']:15.2f}x" for s in sizes]
        if large != small:
            cells.append(f"{by_size[large]['cpu'] / by_size[small]['cpu']:15.2f}x")
        print(f"{label:40} " + " ".join(cells))
    print("\ntargets: preview --format json <= 3x the floor at 100k; every command "
          f"{large:,}/{small:,} <= {1.1 * large / small:.0f}x (linear: {large / small:.0f}x)")


if __name__ == "__main__":
    sys.exit(main())
