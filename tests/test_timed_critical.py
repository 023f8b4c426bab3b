"""`critical ... option <a duration>` is a real timer, and a critical runs one section,
never two (issue 11, defects 7 and 2c).

In choreography the deciding service sends the main section's first message in one
handler and hears back in another. The option whose label gives a duration ("no answer
within 2s") now runs when the main section has not gone on in time (a `seconds_` hook
says how long, its default from the label); once an option ran, by the timer or because
the main section failed, news of the main section that arrives later is dropped, so the
service never sends events of both sections. Before, the option ran only when `publish`
raised, and a late reply went on with the main section after the compensation.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest
from projects import lint, run

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "samples" / "courier-pickup-deadline.mmd"

PACK = "Shop -> Shop  Pack parcel"
BOOK = "Shop -> Courier  Book pickup"
BOOKED = "Courier -> Shop  Pickup booked"
PICKUP_TIME = "Shop -> Mail  Send pickup time"
DELAY = "Shop -> Mail  Send delay notice"


def _generate(tmp_path: Path, target: str = "python") -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    generation = build(mermaidgen.parse(text, source=SAMPLE.name), text,
                       style="choreography", target=target, package="pickup")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out


def _override(out: Path, name: str, body: str) -> None:
    path, = (p for p in (out / "pickup" / "services").glob("*.py")
             if f"class {name}(" in p.read_text(encoding="utf-8"))
    path.write_text(path.read_text(encoding="utf-8") + f"\n\nclass Custom{name}({name}):\n"
                    + textwrap.indent(textwrap.dedent(body), "    ")
                    + f"\n\n{name} = Custom{name}  # noqa: F811\n", encoding="utf-8")


def _trace(out: Path) -> list[str]:
    main = run([sys.executable, "-m", "pickup"], out)
    assert main.returncode == 0, main.stderr
    table = main.stdout.split("sequenceDiagram")[0]
    return [re.sub(r"(?<=\S) {2,}", "  ", line.split(None, 1)[1].rsplit("  (line", 1)[0])
            for line in table.splitlines() if line.strip()]


def _conforms(out: Path) -> None:
    tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], out)
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_an_answer_in_time_runs_the_main_section(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    assert _trace(out) == [PACK, BOOK, BOOKED, PICKUP_TIME]
    _conforms(out)


def test_no_answer_in_time_runs_the_timed_option(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    _override(out, "Shop", """
        def seconds_no_answer_within_2_s(self, ctx):
            return 0.05
        """)
    _override(out, "Courier", """
        async def _on_book_pickup(self, message, event):
            pass  # the courier's API never answers
        """)
    assert _trace(out) == [PACK, BOOK, DELAY]
    _conforms(out)


def test_a_late_answer_does_not_run_the_main_section_too(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    _override(out, "Shop", """
        def seconds_no_answer_within_2_s(self, ctx):
            return 0.05
        """)
    _override(out, "Courier", """
        async def on_book_pickup(self, ctx):
            import asyncio
            await asyncio.sleep(0.5)  # answers, but too late
        """)
    trace = _trace(out)
    assert trace == [PACK, BOOK, DELAY, BOOKED]  # the courier did answer, too late
    # and the contract agrees: the reply had not reached Shop when its timer fired, so
    # it does not order the option (docs/semantics.md)
    _conforms(out)


def test_the_default_timeout_comes_from_the_label(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    wiring = (out / "pickup" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert re.search(r"def seconds_no_answer_within_2_s\(self, ctx: Context\) -> float:\n"
                     r"\s+return 2\.0\n", wiring)


def test_the_faststream_project_lints(tmp_path: Path) -> None:
    lint(_generate(tmp_path, target="faststream"))


@pytest.mark.parametrize(("label", "seconds"), [
    ("timeout 5s", 5.0), ("no answer in 30 seconds", 30.0), ("after 2 min", 120.0),
    ("500 ms", 0.5), ("within 1.5 h", 5400.0), ("carrier unavailable", None),
    ("3 items", None)])
def test_durations_in_option_labels(label: str, seconds: float | None) -> None:
    from mermaidgen.projection.loops import option_seconds
    assert option_seconds(label) == seconds
