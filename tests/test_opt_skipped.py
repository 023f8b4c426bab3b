"""An `opt` the code skips: the flow goes on after the block (issue 11, defect 3).

In choreography, what follows an `opt` is published by whichever handler is current on each
path: at the end of the section when it is taken (in the handler of its last event), in
the handler that decided the `opt` when it is skipped. The generated handler once had no
`else` for the skipped path, so skipping the `opt` stalled the flow while `preview` showed
it going on. Each path is forced the way a user would: by overriding the `should_` hook.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from projects import lint, run_here

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

GIFT = """sequenceDiagram
    participant A
    participant B
    participant C
    participant D
    A->>B: Order
    opt gift wrap
        B->>C: Wrap
        C->>B: Wrapped
    end
    B->>D: Ship
"""

TAKEN = ["A -> B  Order", "B -> C  Wrap", "C -> B  Wrapped", "B -> D  Ship"]
SKIPPED = ["A -> B  Order", "B -> D  Ship"]


def _generate(tmp_path: Path, style: str, target: str = "python") -> Path:
    generation = build(mermaidgen.parse(GIFT, source="gift.mmd"), GIFT, style=style,
                       target=target, package="gift")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out


# where B's decisions live: a service of the choreography, the orchestration's workflow
DECIDER = {"choreography": ("services/b.py", "B"), "orchestration": ("workflow.py", "BWorkflow")}


def _decide(out: Path, style: str, wrap: bool) -> None:
    """B decides the `opt`: override its hook in the user module, as a user would."""
    module, name = DECIDER[style]
    path = out / "gift" / module
    path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(f"""

        class Deciding{name}({name}):
            def should_gift_wrap(self, ctx):
                return {wrap}


        {name} = Deciding{name}  # noqa: F811
        """), encoding="utf-8")


def _arrows(stdout: str) -> list[str]:
    """The trace `python -m gift` prints: `sender -> receiver  text`, in order."""
    table = stdout.split("sequenceDiagram")[0]
    return [line.split(None, 1)[1].rsplit("  (line", 1)[0]
            for line in table.splitlines() if line.strip()]


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
@pytest.mark.parametrize(("wrap", "expected"), [(True, TAKEN), (False, SKIPPED)],
                         ids=["taken", "skipped"])
def test_both_paths_of_the_opt_run_to_the_end_and_conform(tmp_path: Path, style: str,
                                                          wrap: bool,
                                                          expected: list[str]) -> None:
    out = _generate(tmp_path, style)
    _decide(out, style, wrap)
    main = run_here(["-m", "gift"], out)
    assert main.returncode == 0, main.stderr
    assert _arrows(main.stdout) == expected
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr


def _published(nodes: list[ast.stmt]) -> set[str]:
    """The messages these statements publish (`self.publish(Message.NAME, ...)`)."""
    return {call.args[0].attr for node in nodes for call in ast.walk(node)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "publish" and isinstance(call.args[0], ast.Attribute)}


def test_the_faststream_handler_goes_on_when_the_opt_is_skipped(tmp_path: Path) -> None:
    """The engine run is test_target_faststream.py's; here: B's handler of `Order` publishes
    `Wrap` when the opt is taken and `Ship` when it is skipped,
    and the project compiles and passes ruff."""
    out = _generate(tmp_path, "choreography", target="faststream")
    lint(out)
    wiring = (out / "gift" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    handler = next(node for node in ast.walk(ast.parse(wiring))
                   if isinstance(node, ast.AsyncFunctionDef) and node.name == "_on_order")
    decision = next(node for node in handler.body if isinstance(node, ast.If))
    assert (_published(decision.body), _published(decision.orelse)) == ({"WRAP"}, {"SHIP"})
    assert _published([n for n in handler.body if n is not decision]) == set()
