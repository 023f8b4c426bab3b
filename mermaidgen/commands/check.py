"""`mermaidgen check`: lint diagrams for CI and pre-commit."""

from __future__ import annotations

import sys

from mermaidgen.errors import DiagramError, MermaidgenError, Problem


def run(paths: list[str]) -> int:
    from mermaidgen.analysis import analyse
    from mermaidgen.extract import load
    from mermaidgen.parser import parse

    findings: list[Problem] = []
    failed = False
    for path in paths:
        try:
            snippets = load(path, stdin=sys.stdin)
        except MermaidgenError as err:
            findings.append(Problem(str(err), 0, 0, file=path, code="source"))
            failed = True
            continue
        for snippet in snippets:
            try:
                diagram = parse(snippet.text, snippet.source, line_offset=snippet.line_offset,
                                column_offset=snippet.column_offset)
            except DiagramError as err:
                findings.extend(err.problems)
                failed = True
                continue
            for d in analyse(diagram).diagnostics:
                findings.append(Problem(d.message, d.span.line, d.span.column, hint=d.hint,
                                        file=diagram.source, severity=d.severity, code=d.code))
                failed = failed or d.severity == "error"
    for f in findings:
        print(f.headline(with_code=True) if f.line else f"{f.file}: error[{f.code}]: "
              f"{f.message}", file=sys.stderr)
        if f.hint:
            print(f"  hint: {f.hint}", file=sys.stderr)
    return 1 if failed else 0
