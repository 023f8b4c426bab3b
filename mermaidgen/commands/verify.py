"""`mermaidgen verify DIAGRAM --traces FILE...`: does the running system do what the
diagram draws? Reads OpenTelemetry trace exports (docs/verify.md), prints each way a
trace failed (as the contract test does), a summary and the path coverage.

Exit 0 when every trace that holds a message of the diagram conforms and the coverage
reaches `--min-coverage`; 1 when a trace does not conform, the coverage falls short, no
trace holds a message of the diagram, or a trace file cannot be read as traces (a
located error); 2 on usage errors (a missing file, a bad `--service`, a bad
configuration).
"""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from pathlib import Path

from mermaidgen.errors import UsageError
from mermaidgen.mermaid.sources import load_diagrams, single
from mermaidgen.verify import Report, verify

_EXPLANATIONS_SHOWN = 10
"""Failing shapes explained in full on the terminal (`--format json` has all of them)."""


def run(source: str, files: list[str], *, fmt: str = "text", sorted_input: bool = False,
        explain: bool = False, min_coverage: float | None = None,
        services: list[str] | None = None, draw: bool = False,
        width: int | None = None) -> int:
    diagram = single(source, load_diagrams(source))
    if not files:
        raise UsageError("no trace files: name them with --traces FILE (and more FILEs "
                         "after it)")
    paths = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"{name}: no such trace file")
        paths.append((path, name))
    mapping = {**_configured_services(), **_option_services(services or [])}
    report = verify(diagram, paths, services=mapping,  # type: ignore[arg-type]
                    sorted_input=sorted_input, explain=explain)
    short = min_coverage is not None and report.coverage is not None \
        and report.coverage.percent + 1e-9 < min_coverage
    if fmt == "json":
        json.dump(_document(report, diagram, min_coverage, short), sys.stdout, indent=2,
                  ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print(report, diagram, explain, min_coverage, short)
        if draw and report.coverage is not None:
            _draw(diagram, report, width)
    return 1 if report.failing or short or not report.checked else 0


def _option_services(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, eq, participant = pair.partition("=")
        if not eq or not name.strip() or not participant.strip():
            raise UsageError(f"--service {pair!r}: write SERVICE=PARTICIPANT, e.g. "
                             "--service checkout-api=Web")
        out[name.strip()] = participant.strip()
    return out


def _configured_services() -> dict[str, str]:
    """`[tool.mermaidgen.verify.services]` (or `[verify.services]` in mermaidgen.toml):
    service.name = "Participant"."""
    from mermaidgen.commands import config

    found = config.find()
    if found is None:
        return {}
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{found}: cannot read it ({exc})") from None
    if found.name == "pyproject.toml":
        data = data.get("tool", {}).get("mermaidgen", {})
    table = data.get("verify", {})
    where = "[tool.mermaidgen.verify]" if found.name == "pyproject.toml" else "[verify]"
    if not isinstance(table, dict) or set(table) - {"services"}:
        raise UsageError(f"{found}: {where} takes one key, `services` (a table "
                         "service.name = \"Participant\")")
    services = table.get("services", {})
    if not isinstance(services, dict) or not all(
            isinstance(v, str) for v in services.values()):
        raise UsageError(f"{found}: {where} services must map service names to "
                         "participant names (strings)")
    return dict(services)


def _print(report: Report, diagram, explain: bool, min_coverage: float | None,
           short: bool) -> None:
    out = sys.stdout
    if explain:
        print("participants:", file=out)
        for service, (participant, why) in sorted(report.services.items()):
            print(f"  service `{service}` -> {participant or '(none)'}: {why}", file=out)
        print("mapping (the first trace of each distinct shape):", file=out)
        for line in report.decisions:
            print(f"  {line}", file=out)
        print(file=out)
    for n, f in enumerate(report.failures):
        more = f" (and {f.same} more trace{'s' if f.same != 1 else ''} with the same " \
               "messages)" if f.same else ""
        if n >= _EXPLANATIONS_SHOWN:
            print(f"trace {f.trace_id} ({f.where}){more}: {f.reason}", file=out)
            continue
        print(f"trace {f.trace_id} ({f.where}) does not conform{more}:", file=out)
        for line in f.explanation.splitlines()[1:]:
            print(line, file=out)
        print(file=out)
    kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in
                      sorted(report.failing_by_kind.items()))
    print(f"traces: {report.checked} checked, {report.conforming} conforming, "
          f"{report.failing} failing" + (f" ({kinds})" if kinds else "")
          + (f"; {report.skipped} without a message of the diagram" if report.skipped
             else ""), file=out)
    if report.unmatched:
        print(f"unmatched spans: {sum(report.unmatched.values())} (not checked)", file=out)
        for why, n in report.unmatched.most_common():
            print(f"  {n} x {why} (first at {report.unmatched_examples[why]})", file=out)
    if report.coverage is not None:
        _print_coverage(report, min_coverage, short)


def _print_coverage(report: Report, min_coverage: float | None, short: bool) -> None:
    cov = report.coverage
    assert cov is not None
    rows = [("line", "block", "alternative", "traces")]
    last = None
    for choice, _, name, meaning, n in cov.rows():
        head = (str(choice.line), f"{choice.kind} {choice.label}".strip()) \
            if choice.index != last else ("", "")
        last = choice.index
        seen = str(n) if n else "never"
        if choice.kind == "loop" and choice.index in cov.iterations and name.endswith("twice"):
            counts = cov.iterations[choice.index]
            seen += "  (iterations: " + ", ".join(f"{k}x{v}" for k, v in
                                                  sorted(counts.items())) + ")"
        rows.append((*head, meaning, seen))
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        print("coverage of the diagram's paths (conforming traces):")
        for r in rows:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False))
                  + "  " + r[3])
    goal = f" (minimum {min_coverage:g}%: {'not met' if short else 'met'})" \
        if min_coverage is not None else ""
    print(f"coverage: {cov.covered} of {cov.total} alternatives seen, "
          f"{cov.percent:.0f}%{goal}")


def _draw(diagram, report: Report, width: int | None) -> None:
    """The diagram with the traces' counts written on it (verify/annotate.py)."""
    from mermaidgen.preview.drawing import draw
    from mermaidgen.verify.annotate import annotated

    assert report.coverage is not None
    columns = width or shutil.get_terminal_size((100, 24)).columns
    print()
    print("what the conforming traces did:")
    print(draw(annotated(diagram, report.coverage), columns))


def _document(report: Report, diagram, min_coverage: float | None, short: bool) -> dict:
    cov = report.coverage
    assert cov is not None
    texts = {}
    for s in _messages(diagram):
        texts.setdefault(s.span.line, s)
    return {
        "version": 1,
        "ok": not (report.failing or short or not report.checked),
        "traces": {"checked": report.checked, "conforming": report.conforming,
                   "failing": report.failing, "without_diagram_messages": report.skipped},
        "failing_by_reason": dict(sorted(report.failing_by_kind.items())),
        "failures": [{"trace_id": f.trace_id, "where": f.where, "kind": f.kind,
                      "reason": f.reason, "line": f.line, "expected": f.expected,
                      "same": f.same, "explanation": f.explanation}
                     for f in report.failures],
        "unmatched": [{"reason": why, "spans": n, "first": report.unmatched_examples[why]}
                      for why, n in report.unmatched.most_common()],
        "services": {k: {"participant": p, "why": why}
                     for k, (p, why) in sorted(report.services.items())},
        "coverage": {
            "percent": round(cov.percent, 2), "covered": cov.covered, "total": cov.total,
            "minimum": min_coverage, "met": None if min_coverage is None else not short,
            "choices": [{"line": c.line, "kind": c.kind, "label": c.label,
                         "alternatives": [{"value": v, "path": name, "meaning": meaning,
                                           "traces": cov.seen.get((c.index, v), 0)}
                                          for v, name, meaning in c.alternatives],
                         **({"iterations": {str(k): n for k, n in
                                            sorted(cov.iterations.get(c.index, {}).items())}}
                            if c.kind == "loop" else {})}
                        for c in cov.choices],
            "messages": [{"line": line, "from": m.sender, "to": m.receiver, "text": m.text,
                          "count": cov.messages.get(line, 0)}
                         for line, m in sorted(texts.items())],
        },
    }


def _messages(diagram):
    from mermaidgen.model import Block, Message

    stack = [iter(diagram.statements)]
    while stack:
        for s in stack[-1]:
            if isinstance(s, Message):
                yield s
            elif isinstance(s, Block):
                stack.append(iter([x for sec in s.sections for x in sec.statements]))
                break
        else:
            stack.pop()
