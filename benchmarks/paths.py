"""Every path of every sample, generated, run and checked; and the mutants of each trace.

    python benchmarks/paths.py [--target python|faststream|temporal] [--style S]
                               [--only NAME] [--markdown] [--json out.json] [-v]

For each diagram (samples/*.mmd and the two seeds of ../shared/corpus/seed/, multi-line
and flattened onto one line) and style the target offers: `mermaidgen generate` into a
fresh folder, then in that project (its own process) every path of `_generated/paths.py`
runs with its decision hooks driven along it (`paths.follow`), and its trace is checked
against the package's own CONTRACT. Then, for each path's trace, the mutants of
`mermaidgen.contract.mutants` (a reply forced to another section's, a message removed,
duplicated, two causally ordered neighbours swapped; mutants equal to another path's
trace are runs the diagram allows and are left out) are checked against the same
contract by mermaidgen's checker: caught when it rejects them with an explanation that
names a diagram line.

Printed: diagram × style × target → paths, paths passing, distinct traces among them
(different decisions that send the same messages, e.g. a loop run twice whose `break` is
taken in the first iteration, give one), mutants caught / total, and the paths that fail
with the first line of why; and any path that starts a `par`'s sections in reverse order
but sends what the same path in drawn order sends (`unreversed`), or that takes an option
of a `critical` but does not send the option's first message (`untaken`: the main section
never failed, and the path ran something else than its name says). faststream runs on the
real NATS server (MERMAIDGEN_REAL_BROKER_URL, default nats://127.0.0.1:4222), temporal on the
time-skipping test server. The exit code is 0 whatever the numbers (this is a report).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # run from a checkout without installing

from mermaidgen.contract import check_trace  # noqa: E402
from mermaidgen.contract.mutants import mutants  # noqa: E402

SEEDS = PROJECT.parent / "shared" / "corpus" / "seed"
STYLES = {"python": ("choreography", "orchestration"), "faststream": ("choreography",),
          "temporal": ("orchestration",)}

# Runs in the generated project: every path, its trace and verdict, as JSON on stdout.
RUNNER = r'''
import asyncio, contextlib, importlib, json, sys
package, target = sys.argv[1], sys.argv[2]
gen = package + "._generated."
paths = importlib.import_module(gen + "paths")
check = importlib.import_module(gen + "checker").check
CONTRACT = importlib.import_module(gen + "diagram").CONTRACT
if target == "python":
    app = importlib.import_module(gen + "app")
    classes, go = app.user_classes, lambda: asyncio.run(app.run())
    around = contextlib.nullcontext
elif target == "faststream":
    app = importlib.import_module(gen + "flow")
    classes, go = app.user_classes, lambda: asyncio.run(app.run(real=True))
    around = contextlib.nullcontext
else:
    app = importlib.import_module(gen + "app")
    server = app.find_binary("temporal-test-server", app.TEST_SERVER_ENV)
    classes = app.user_classes
    go = lambda: app.run_sync(app.run_time_skipping(server))
    around = app.unsandboxed
out = {"contract": CONTRACT, "mode": paths.MODE, "paths": {}}
for name in paths.PATHS:
    try:
        with paths.follow(name, classes()), around():
            trace = go()
        verdict = check(CONTRACT, trace.arrows())
        out["paths"][name] = {"ok": verdict["ok"], "why": verdict["explanation"],
                              "trace": trace.arrows()}
    except Exception as error:
        out["paths"][name] = {"ok": False, "why": "the run failed: " + repr(error)[:400],
                              "trace": getattr(error, "trace", None) and error.trace.arrows()}
out["decisions"] = paths.PATHS
print(json.dumps(out))
'''


def diagrams() -> list[Path]:
    found = sorted((PROJECT / "samples").glob("*.mmd"))
    found += [SEEDS / f"{n}.mmd" for n in ("choreography", "choreography-oneline",
                                           "orchestration", "orchestration-oneline")]
    return [p for p in found if p.exists()]


def run_project(diagram: Path, style: str, target: str, folder: Path,
                python: str = sys.executable) -> dict:
    out = folder / "project"
    made = subprocess.run([sys.executable, "-m", "mermaidgen", "generate", str(diagram),
                           "--out", str(out), "--style", style, "--target", target],
                          capture_output=True, text=True, cwd=PROJECT)
    if made.returncode:
        return {"error": "generate failed: " + made.stderr.strip()[-300:]}
    manifest = json.loads((out / ".mermaidgen" / "manifest.json").read_text())
    package = manifest["package"]
    env = dict(os.environ, PYTHONPATH=str(out), MERMAIDGEN_REAL_BROKER="1")
    ran = subprocess.run([python, "-c", RUNNER, package, target], capture_output=True,
                         text=True, cwd=out, env=env, timeout=1800)
    if ran.returncode:
        return {"error": "runner failed: " + ran.stderr.strip()[-600:]}
    return json.loads(ran.stdout.strip().splitlines()[-1]) | {
        "openers": option_openers(diagram.read_text(encoding="utf-8"))}


def option_openers(text: str) -> dict[int, list[str | None]]:
    """Per `critical` with options (its line, when no other block opens on that line):
    the text of each option's first message, or None when the option opens with a
    block (it may send nothing on a path)."""
    import mermaidgen
    from mermaidgen.model import Block, Message

    found: dict[int, list[str | None]] = {}
    lines: dict[int, int] = {}
    stack = [iter(mermaidgen.parse(text).statements)]
    while stack:
        for statement in stack[-1]:
            if isinstance(statement, Block):
                line = statement.span.line
                lines[line] = lines.get(line, 0) + 1
                if statement.kind == "critical" and len(statement.sections) > 1:
                    found[line] = [next((x.text if isinstance(x, Message) else None
                                         for x in section.statements
                                         if isinstance(x, (Message, Block))), None)
                                   for section in statement.sections[1:]]
                stack.append(iter([x for sec in statement.sections for x in sec.statements]))
                break
        else:
            stack.pop()
    return {line: texts for line, texts in found.items() if lines[line] == 1}


def score(result: dict) -> dict:
    """Paths passing, mutants caught and total, and what failed."""
    contract, runs = result["contract"], result["paths"]
    traces = [r["trace"] for r in runs.values() if r["trace"] is not None]
    caught = total = 0
    escaped: list[str] = []
    for name, r in runs.items():
        if not r["ok"] or r["trace"] is None:
            continue
        for m in mutants(r["trace"], contract, allowed=traces):
            total += 1
            verdict = check_trace(contract, m.trace)
            readable = "line " in verdict.explanation
            if not verdict.ok and readable:
                caught += 1
            else:
                escaped.append(f"{name}: {m.what}")
    failing = {name: r["why"].splitlines()[1].strip() if "\n" in r["why"] else r["why"]
               for name, r in runs.items() if not r["ok"]}
    distinct = len({json.dumps(r["trace"]) for r in runs.values() if r["ok"]})
    return {"paths": len(runs), "passing": len(runs) - len(failing), "distinct": distinct,
            "caught": caught,
            "mutants": total, "failing": failing, "escaped": escaped, "mode": result["mode"],
            "unreversed": unreversed(runs),
            "untaken": untaken(runs, result.get("decisions", {}), result.get("openers", {}))}


def untaken(runs: dict, decisions: dict, openers: dict) -> list[str]:
    """The paths that take an option of a `critical` (its index in the path's decisions)
    but do not send the message that opens it: the main section did not fail, and the
    path ran something else than its name says."""
    missing = []
    for name, r in runs.items():
        if not r["ok"] or r["trace"] is None:
            continue
        sent = {text for _, _, text in r["trace"]}
        for line, value in decisions.get(name, {}).items():
            texts = openers.get(int(line)) or ()
            if 1 <= value <= len(texts) and texts[value - 1] is not None and \
                    texts[value - 1] not in sent:
                missing.append(f"{name} does not send {texts[value - 1]!r}, which opens "
                               f"option {value} of the critical at line {line}")
    return missing


def unreversed(runs: dict) -> list[str]:
    """The paths that start a `par`'s sections in reverse order (a part of their name
    `<par>-reversed`) but send what the same path in drawn order sends."""
    same = []
    for name, r in runs.items():
        parts = name.split("+")
        for part in parts:
            drawn = "+".join(p for p in parts if p != part) or "main"
            if part.endswith("-reversed") and drawn in runs and r["ok"] and \
                    runs[drawn]["trace"] == r["trace"]:
                same.append(f"{name} sends what {drawn} sends")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="python", choices=sorted(STYLES))
    parser.add_argument("--style", choices=("choreography", "orchestration"))
    parser.add_argument("--only", help="diagrams whose file name contains this")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter that runs the projects (with the target's "
                        "packages: faststream[nats], temporalio and its test server)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list escaped mutants")
    args = parser.parse_args(argv)
    rows = []
    for diagram in diagrams():
        if args.only and args.only not in diagram.name:
            continue
        label = diagram.stem if diagram.parent.name == "samples" else f"seed/{diagram.stem}"
        for style in STYLES[args.target]:
            if args.style and style != args.style:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                result = run_project(diagram, style, args.target, Path(tmp), args.python)
            row = {"diagram": label, "style": style, "target": args.target}
            row |= {"error": result["error"]} if "error" in result else score(result)
            rows.append(row)
            _print(row, args.markdown, args.verbose)
    if not args.markdown:
        done = [r for r in rows if "error" not in r]
        print(f"\ntotal: {sum(r['passing'] for r in done)}/{sum(r['paths'] for r in done)} "
              f"paths pass; mutants caught {sum(r['caught'] for r in done)}/"
              f"{sum(r['mutants'] for r in done)}; {len(rows) - len(done)} projects failed")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


def _print(row: dict, markdown: bool, verbose: bool) -> None:
    head = f"{row['diagram']} | {row['style']} | {row['target']}"
    if "error" in row:
        print(f"| {head} | error: {row['error'][:120]} | | |" if markdown
              else f"{head}: {row['error']}")
        return
    fails = "; ".join(f"`{k}`: {v[:100]}" for k, v in row["failing"].items())
    if markdown:
        print(f"| {head} | {row['paths']} | {row['passing']} | {row['distinct']} | "
              f"{row['caught']}/{row['mutants']} | {fails} |")
    else:
        print(f"{head}: {row['passing']}/{row['paths']} paths pass ({row['mode']}; "
              f"{row['distinct']} distinct traces), "
              f"mutants caught {row['caught']}/{row['mutants']}")
        for name, why in row["failing"].items():
            print(f"    FAIL {name}: {why[:160]}")
        for same in row["unreversed"]:
            print(f"    NOT REVERSED {same}")
        for option in row.get("untaken", ()):
            print(f"    OPTION NOT TAKEN {option}")
        for e in row["escaped"] if verbose else []:
            print(f"    escaped: {e}")


if __name__ == "__main__":
    sys.exit(main())
