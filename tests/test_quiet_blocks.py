"""Blocks that hold only notes (comments in the generated code, not statements): the code
around them needs no `pass` where other statements stand (ruff PIE790), and one where
nothing else does. Found by tests/test_properties.py on random diagrams: a `critical`
holding a note, a critical's main section holding only one beside `enter_critical`."""

from __future__ import annotations

import sys
from pathlib import Path

from projects import lint_many, run_python

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

QUIET = """sequenceDiagram
    A->>B: go
    critical outer
        note over B: a
        critical inner
            note over B: b
        end
    end
    critical try
        note over B: hmm
    option failed
        note over B: oops
    end
    opt later
        critical c
            note over B: c
        end
    end
    B->>C: after
"""

TARGETS = (("python", "choreography"), ("python", "orchestration"),
           ("faststream", "choreography"), ("temporal", "orchestration"))


def test_blocks_of_notes_generate_code_that_ruff_accepts_and_that_conforms(
        tmp_path: Path) -> None:
    diagram = mermaidgen.parse(QUIET)
    outs = {}
    for target, style in TARGETS:
        out = outs[target, style] = tmp_path / f"{target}-{style}"
        generation = build(diagram, QUIET, style=style, target=target, package="quiet")
        output.write(output.plan(list(generation.files), out, generation.meta()))
    problems = lint_many(list(outs.values()))
    assert not any(problems.values()), problems
    for style in ("choreography", "orchestration"):  # every path, in both styles
        done = run_python(Path(sys.executable), ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          outs["python", style], timeout=240,
                          PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
