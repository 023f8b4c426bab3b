"""Texts from labels in generated code and traces (issue 11, defects 6 and 8).

* a text is decoded once: `done #35;1` is `done #1` in the trace and `done #35;1` again in
  the trace's Mermaid (not `done #35#59;1`); a `<br>` is a blank in names (no `br` word);
* a loop's label sets its bound ("up to 3 times", "3 times", "max 3", "at most 3"),
  otherwise the bound is `MAX_ITERATIONS`, a class attribute the user's class may set;
* the results of concurrent calls (`par`) are kept per step, none overwrites another.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from projects import run_here

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.model import messages

UNBOUNDED = "self.MAX_ITERATIONS"  # the bound of a loop whose label gives none

LABELS = """sequenceDiagram
    participant Client
    participant Shop
    participant Stock
    Client->>Shop: Order<br>placed
    loop up to 3 times
        Shop->>Stock: done #35;1 #59; ok
    end
"""

PAR = """sequenceDiagram
    participant OS as Orchestrator
    participant A as Pricing
    participant B as Stock
    participant C as Confirmation
    par
        OS->>+A: Quote
        A-->>-OS: Quoted
    and
        OS->>+B: Reserve
        B-->>-OS: Reserved
    end
    OS->>+C: Confirm
    C-->>-OS: Confirmed
"""


def _generate(text: str, style: str, out: Path) -> str:
    generation = build(mermaidgen.parse(text, source="flow.mmd"), text, style=style,
                       package="flow")
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return generation.package


def _append(path: Path, code: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(code),
                    encoding="utf-8")


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
def test_the_trace_round_trips_the_diagram_texts(style: str, tmp_path: Path) -> None:
    package = _generate(LABELS, style, tmp_path)
    main = run_here(["-m", package], tmp_path)
    assert main.returncode == 0, main.stderr
    table, mermaid = main.stdout.split("\nsequenceDiagram\n")
    assert "done #1 ; ok" in table and "Order placed" in table  # decoded once, for reading
    assert "#35#59;" not in mermaid
    again = mermaidgen.parse("sequenceDiagram\n" + mermaid, source="trace.mmd")
    original = [m.text for m in messages(mermaidgen.parse(LABELS, source="flow.mmd"))]
    assert [m.text for m in messages(again)] == original


def test_a_line_break_is_no_word_of_a_name(tmp_path: Path) -> None:
    _generate(LABELS, "choreography", tmp_path)
    wiring = (tmp_path / "flow" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "def on_order_placed(" in wiring
    assert "order_br" not in wiring


@pytest.mark.parametrize(("label", "bound"), [
    ("up to 3 times", "3"), ("retry 5 times", "5"), ("max 4", "4"), ("Max: 2 attempts", "2"),
    ("at most 7 retries", "7"), ("poll until ready", None), ("every 10 seconds", None),
    ("", None)])
def test_a_loop_label_sets_the_bound(label: str, bound: str) -> None:
    from mermaidgen.codegen.ops import loop_bound

    assert loop_bound(label) == (UNBOUNDED if bound is None else bound)


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
def test_a_loop_runs_at_most_the_bound_of_its_label(style: str, tmp_path: Path) -> None:
    package = _generate(LABELS, style, tmp_path)
    user = tmp_path / "flow" / ("services/shop.py" if style == "choreography"
                                else "workflow.py")
    # the user's repeat hook always asks for one more: the label's bound stops the loop
    _append(user, """

        def _always(self, ctx, iteration):
            return True


        for _cls in [c for c in list(globals().values()) if isinstance(c, type)]:
            for _name in [n for n in dir(_cls) if n.startswith("repeat_")]:
                setattr(_cls, _name, _always)
        """)
    main = run_here(["-m", package], tmp_path)
    assert main.returncode == 0, main.stderr
    table = main.stdout.split("\nsequenceDiagram\n")[0]
    assert table.count("done #1") == 3
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_an_unbounded_loop_uses_the_users_constant(tmp_path: Path) -> None:
    _generate(LABELS.replace("up to 3 times", "poll"), "orchestration", tmp_path)
    wiring = (tmp_path / "flow" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "range(1, self.MAX_ITERATIONS + 1)" in wiring
    assert "100" not in wiring  # no magic number in the protocol


def test_concurrent_calls_keep_their_own_results(tmp_path: Path) -> None:
    package = _generate(PAR, "orchestration", tmp_path)
    for module, cls, hook, payload in (("pricing", "Pricing", "reply_quote", {"price": 12}),
                                       ("stock", "Stock", "reply_reserve", {"reserved": True})):
        _append(tmp_path / "flow" / "services" / f"{module}.py", f"""

            class _Answering({cls}):
                def {hook}(self, ctx):
                    from .._generated.dispatcher import Result
                    return Result(payload={payload!r})


            {cls} = _Answering  # noqa: F811
            """)
    # the step after the par reads both results
    _append(tmp_path / "flow" / "workflow.py", """

        class _Reading(OrchestratorWorkflow):
            def request_c_confirm(self, ctx):
                both = {**ctx.data["A.quote"].payload, **ctx.data["B.reserve"].payload}
                assert both == {"price": 12, "reserved": True}, both
                return both


        OrchestratorWorkflow = _Reading  # noqa: F811
        """)
    main = run_here(["-m", package], tmp_path)
    assert main.returncode == 0, main.stderr
