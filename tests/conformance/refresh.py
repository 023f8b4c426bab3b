"""Rerun the mermaid oracle over every conformance diagram and rewrite expected.jsonl.

    python tests/conformance/refresh.py           # rewrite tests/conformance/expected.jsonl
    python tests/conformance/refresh.py --check   # only report differences (exit 1 if any)

The oracle (`../shared/tools/mermaid-oracle/run`, mermaid.js 12.3) runs with `--raw`, so
entity codes keep mermaid's private placeholders (`ﬂ°°35¶ß`); the tests decode them.

The folders must stay honest: the script refuses (exit 1, nothing written) when mermaid
rejects a file in `diagrams/valid/`, accepts one in `diagrams/invalid/`, or when an invalid
file does not start with its `%% error-line: N <reason>` comment. `diagrams/flattened/`
holds diagrams mermaid misreads or rejects on purpose; any outcome is recorded for them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
DIAGRAMS = HERE / "diagrams"
EXPECTED = HERE / "expected.jsonl"
ORACLE = Path(os.environ.get("MERMAID_ORACLE", PROJECT.parent / "shared/tools/mermaid-oracle/run"))
FOLDERS = ("valid", "invalid", "flattened")
ERROR_LINE = re.compile(r"%% error-line: (\d+) \S")


def diagram_files() -> list[Path]:
    """Every diagram, sorted by its path relative to `diagrams/`."""
    files = [p for folder in FOLDERS for p in (DIAGRAMS / folder).glob("*.mmd")]
    return sorted(files, key=lambda p: p.relative_to(DIAGRAMS).as_posix())


def run_oracle(files: list[Path], root: Path = DIAGRAMS) -> list[dict[str, Any]]:
    """One oracle record per file (one process for all of them; startup is ~1 s), each
    named by its path relative to `root`."""
    if not ORACLE.exists():
        sys.exit(
            f"refresh: the oracle is missing: {ORACLE} (set MERMAID_ORACLE to its `run` script)"
        )
    proc = subprocess.run(
        [str(ORACLE), "--raw", *map(str, files)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=1800,
    )
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != len(files):
        sys.exit(
            f"refresh: the oracle failed (exit {proc.returncode}, {len(lines)} results for "
            f"{len(files)} files):\n{proc.stderr[-3000:]}"
        )
    records = []
    for path, line in zip(files, lines, strict=True):
        record = json.loads(line)
        # `run` makes paths absolute; check the order held, then store the short name
        if Path(record["file"]).name != path.name:
            sys.exit(f"refresh: oracle output out of order at {path} / {record['file']}")
        record["file"] = path.relative_to(root).as_posix()
        records.append(record)
    return records


def honesty_problems(records: list[dict[str, Any]]) -> list[str]:
    """Files whose folder says the opposite of what mermaid decided."""
    problems = []
    for r in records:
        folder = r["file"].split("/", 1)[0]
        if folder == "valid" and not r["ok"]:
            first = r["error"].strip().splitlines()[-1]
            problems.append(
                f"{r['file']}: mermaid rejects it ({r['error_kind']}, "
                f"line {r.get('source_line')}): {first}"
            )
        elif folder == "invalid":
            if r["ok"]:
                problems.append(f"{r['file']}: mermaid accepts it")
            head = (DIAGRAMS / r["file"]).read_text(encoding="utf-8").split("\n", 1)[0]
            if not ERROR_LINE.match(head):
                problems.append(f"{r['file']}: first line must be `%% error-line: N <reason>`")
    return problems


def differences(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    """What changed between two expected.jsonl contents, one line per file."""
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"+ {name}: new")
        elif name not in new:
            out.append(f"- {name}: no longer exists")
        elif old[name] != new[name]:
            keys = sorted(
                k for k in set(old[name]) | set(new[name]) if old[name].get(k) != new[name].get(k)
            )
            out.append(f"~ {name}: changed {', '.join(keys)}")
    return out


def load_expected() -> dict[str, dict[str, Any]]:
    if not EXPECTED.exists():
        return {}
    with EXPECTED.open(encoding="utf-8") as f:
        return {r["file"]: r for r in map(json.loads, f) if r}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="report differences only, write nothing"
    )
    args = parser.parse_args(argv)

    files = diagram_files()
    records = run_oracle(files)
    problems = honesty_problems(records)
    if problems:
        print(
            "refresh: refusing, the folders are not honest:", *problems, sep="\n  ", file=sys.stderr
        )
        return 1

    new = {r["file"]: r for r in records}
    changes = differences(load_expected(), new)
    if args.check:
        if changes:
            print(f"{len(changes)} differences from {EXPECTED.name}:", *changes, sep="\n  ")
            print("run `python tests/conformance/refresh.py` to accept them")
            return 1
        print(f"{EXPECTED.name} is up to date ({len(records)} diagrams)")
        return 0

    with EXPECTED.open("w", encoding="utf-8", newline="\n") as f:
        for r in records:  # already sorted by file
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {
        folder: sum(r["file"].startswith(folder + "/") for r in records) for folder in FOLDERS
    }
    print(
        f"wrote {EXPECTED.relative_to(PROJECT)}: {len(records)} diagrams "
        f"({', '.join(f'{n} {k}' for k, n in counts.items())}); {len(changes)} changed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
