"""Property-based tests: random valid diagrams (tests/strategies.py) through every stage.

* parsing succeeds, without warnings, and reads what the generator wrote: participants in
  display order, messages and notes with their texts (hostile alphabets included);
* `preview --format mermaid` prints a diagram that parses back to the same model;
* `preview` (text and JSON) answers with exit code 0 and no internal error;
* every generated skeleton, of every target and in both styles, compiles and passes ruff;
  the python target's own contract tests pass on the untouched skeleton, and so do the
  engine targets' (an `engine` test: FastStream and Temporal come from PyPI into virtual
  environments of their own, see tests/conftest.py).

Example counts are kept small for the slow properties so that this file runs in about a
minute (without the engine test); `MERMAIDGEN_PROPERTY_SCALE=10` multiplies them, and
`HYPOTHESIS_PROFILE=fuzz` (registered below) runs many more.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from projects import lint_many, run_python, shared_project_tests
from strategies import Generated, diagrams
from test_emit import comparable

from mermaidgen import parse
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.commands.cli import _run
from mermaidgen.model import Message, Note, walk

settings.register_profile("fuzz", max_examples=2000, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
# the per-example counts, scaled by MERMAIDGEN_PROPERTY_SCALE for a longer local run
SCALE = max(1, int(os.environ.get("MERMAIDGEN_PROPERTY_SCALE", "1")))


def _events(diagram) -> list[tuple]:
    found: list[tuple] = []
    for s in walk(diagram.statements):
        if isinstance(s, Message):
            found.append(("message", s.sender, s.receiver, s.arrow, s.text, s.activate,
                          s.deactivate, s.central))
        elif isinstance(s, Note):
            found.append(("note", s.placement, s.participants, s.text))
    return found


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _run(argv)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams())
def test_generated_diagrams_parse_as_written(generated: Generated) -> None:
    diagram = parse(generated.text)
    # the generator writes a `links` statement that is not JSON on purpose
    assert [w.code for w in diagram.warnings if w.code != "ignored-json"] == []
    assert [p.id for p in diagram.participants] == generated.expected.participants
    assert _events(diagram) == generated.expected.events


# 100 examples (200 before): a mutant emitter that leaves `;` unescaped fails here at both
# counts (the examples are derandomized in CI; docs/development.md, "How long the suite
# takes"); test_emit.py's round trip checks the emitter on texts of its own
@settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams())
def test_mermaid_format_round_trips_to_the_same_model(generated: Generated) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "diagram.mmd"
        source.write_bytes(generated.text.encode("utf-8"))
        code, emitted, err = _cli(["preview", str(source), "--format", "mermaid"])
        assert code == 0, err
        again = parse(emitted, source="<emitted>")
        assert comparable(again) == comparable(parse(generated.text)), emitted
        assert again.warnings == ()
        # canonical text is a fixed point
        (Path(tmp) / "again.mmd").write_text(emitted, encoding="utf-8")
        code, twice, err = _cli(["preview", str(Path(tmp) / "again.mmd"), "-f", "mermaid"])
        assert (code, twice) == (0, emitted), err


@settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams(max_statements=15))
def test_preview_answers_without_internal_errors(generated: Generated) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "diagram.mmd"
        source.write_bytes(generated.text.encode("utf-8"))
        code, text, err = _cli(["preview", str(source), "--width", "80"])
        assert code == 0 and "internal error" not in err, err
        assert text.strip()
        # with the projections, which the default document leaves out: the largest document
        code, data, err = _cli(["preview", str(source), "--format", "json", "--projections"])
        assert code == 0, err
        assert json.loads(data)["participants"] is not None


def _write(diagram, text: str, out: Path, style: str, target: str = "python") -> None:
    generation = build(diagram, text, style=style, target=target)
    output.write(output.plan(list(generation.files), out, generation.meta()))


ENGINES = (("faststream", "choreography"), ("temporal", "orchestration"))


@settings(max_examples=10 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(diagrams(max_statements=12))
def test_skeletons_compile_lint_and_pass_their_contract_tests(generated: Generated) -> None:
    """Every target's skeleton compiles and passes ruff; the python target's own tests
    pass in both styles (the engine targets' tests: the next test)."""
    diagram = parse(generated.text, source="diagram.mmd")
    with tempfile.TemporaryDirectory() as tmp:
        for style in ("choreography", "orchestration"):
            _write(diagram, generated.text, Path(tmp) / style, style)
        for target, style in ENGINES:
            _write(diagram, generated.text, Path(tmp) / target, style, target)
        # compiled, and ruff with its default rules, each project its own source root
        problems = lint_many(sorted(Path(tmp).iterdir()))
        assert not any(problems.values()), problems
        for style in ("choreography", "orchestration"):
            done = run_python(Path(sys.executable), ["-m", "pytest", "-q", "-p",
                              "no:cacheprovider", "-x"], Path(tmp) / style, timeout=240,
                              PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
            assert done.returncode == 0, (f"{style}: the skeleton's own tests failed:\n"
                                          f"{done.stdout[-4000:]}{done.stderr[-4000:]}")


@pytest.mark.engine
@settings(max_examples=6 * SCALE, deadline=None, suppress_health_check=SLOW)
@given(generated=diagrams(max_statements=12))
def test_engine_skeletons_pass_their_contract_tests(
        generated: Generated, faststream_python: Path, temporal_python: Path) -> None:
    """The engine targets' own tests, in the engines' virtual environments (tests/conftest
    .py): FastStream's in-memory broker and Temporal's time-skipping test server must run
    them and pass; the real-server tests are test_target_*.py's."""
    diagram = parse(generated.text, source="diagram.mmd")
    pythons = {"faststream": faststream_python, "temporal": temporal_python}
    must_pass = {"faststream": "test_the_run_conforms_to_the_diagram[in-memory]",
                 "temporal": "test_the_run_conforms_in_the_time_skipping_environment"}
    with tempfile.TemporaryDirectory() as tmp:
        for target, style in ENGINES:
            out = Path(tmp) / target
            _write(diagram, generated.text, out, style, target)
            outcomes, log = shared_project_tests(pythons[target], out,
                                                 TEMPORAL_CLI_PATH="/nonexistent/temporal")
            assert outcomes.get(must_pass[target]) == "passed", log
            assert not [t for t, kind in outcomes.items() if kind in ("failure", "error")], log
