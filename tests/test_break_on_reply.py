"""A `break` taken on a reply, in orchestration (issue 11, defect 5).

`break delivered` opens with the partner's reply `200 OK`; its other reply, `503 Busy`,
is drawn after the break. The partner decides; the orchestrator learns which from the
reply it got. It used to offer a `should_break_` hook of its own and treat `200 OK` as
the only reply, so no path conformed (a 503 was "a reply without a request" and the
default run, 503 after the break's 200, was rejected). Now the reply picks the path, and
the contract keeps each reply with its place.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from projects import run_here
from test_choreography_loops import BACK_OFF, BREAK_ON_REPLY, BUSY, CLOSE, DELIVERED, OK, POST

import mermaidgen
from mermaidgen.analysis import analyse
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output


def _generate(tmp_path: Path) -> Path:
    generation = build(mermaidgen.parse(BREAK_ON_REPLY, source="retry.mmd"), BREAK_ON_REPLY,
                       style="orchestration", package="retry")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out


def _override(out: Path, name: str, body: str) -> None:
    path, = (p for p in (out / "retry").rglob("*.py") if "_generated" not in p.parts
             and f"class {name}(" in p.read_text(encoding="utf-8"))
    path.write_text(path.read_text(encoding="utf-8") + f"\n\nclass Custom{name}({name}):\n"
                    + textwrap.indent(textwrap.dedent(body), "    ")
                    + f"\n\n{name} = Custom{name}  # noqa: F811\n", encoding="utf-8")


def _run(out: Path) -> list[str]:
    import re
    main = run_here(["-m", "retry"], out)
    assert main.returncode == 0, main.stderr
    table = main.stdout.split("sequenceDiagram")[0]
    arrows = [re.sub(r"(?<=\S) {2,}", "  ", line.split(None, 1)[1].rsplit("  (line", 1)[0])
              for line in table.splitlines() if line.strip()]
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, arrows + [tests.stdout + tests.stderr]
    return arrows


def test_both_replies_answer_the_request() -> None:
    a = analyse(mermaidgen.parse(BREAK_ON_REPLY, source="retry.mmd"))
    assert [m.role for m in a.messages[:4]] == ["request", "reply", "event", "reply"]
    assert not [d for d in a.diagnostics if d.code == "reply-without-request"]


@pytest.mark.parametrize(("partner", "dispatcher", "expected"), [
    ("", "", [POST, OK, DELIVERED, CLOSE]),
    ("""
     def reply_post_hooks(self, ctx):
         return wiring.Result(reply=1, payload={})
     """, "", [POST, BUSY, BACK_OFF, CLOSE]),
    ("""
     calls = 0

     def reply_post_hooks(self, ctx):
         self.calls += 1
         return wiring.Result(reply=0 if self.calls == 2 else 1, payload={})
     """, """
     def repeat_up_to_3_attempts(self, ctx, iteration):
         return True
     """, [POST, BUSY, BACK_OFF, POST, OK, DELIVERED, CLOSE]),
], ids=["delivered", "busy", "delivered-at-2"])
def test_the_reply_decides_the_break(tmp_path: Path, partner: str, dispatcher: str,
                                     expected: list[str]) -> None:
    out = _generate(tmp_path)
    if partner:
        _override(out, "Partner", partner)
    if dispatcher:
        _override(out, "DispatcherWorkflow", dispatcher)
    assert _run(out) == expected


# The same break in choreography, inside a `par` section or a `critical` (where its end is
# the section's, not the run's): the path `declined` ended the run after `undo` (par; the
# reply's handler now ends the par section, and joins what follows the par).
# In a loop around a critical, W's entry point sent what follows the loop (`stop`) right
# after the critical, before the reply came, on every path; now the option that its
# entry point runs ends the iteration (test below). The retry's copy of the critical had
# an empty option (`d` is drawn after the receipt of `no`), so `l-twice+fail` sent
# nothing after the second `go`: now each copy's option sends `d` and goes on, as the
# first iteration's does, in a join of that one arrival (what follows the critical and
# the back edge, once for every iteration whose option runs).
REPLY_BREAKS_IN_A_SECTION = {
    "in-a-par": """sequenceDiagram
    W->>A: go
    par p
        W->>+B: ask
        break declined
            B-->>W: no
            W->>C: undo
        end
        B-->>-W: yes
        W->>C: commit
    and
        W->>D: d
    end
    W->>A: after
""",
    # the back edge repeats what W's entry point sends in the body, `d` included (drawn
    # after the receipt of `no`, in the par's other section), and arrives at the par's
    # join as the entry point did: else the second iteration's par lacked `d` and its
    # join waited for it forever
    "in-a-par-in-a-loop": """sequenceDiagram
    W->>Z: start
    loop l
        W->>A: go
        par p
            W->>+B: ask
            break declined
                B-->>W: no
                W->>C: undo
            end
            B-->>-W: yes
            W->>C: commit
        and
            W->>D: d
        end
        W->>A: after
    end
    W->>Z: stop
""",
    "in-a-critical-in-a-loop": """sequenceDiagram
    W->>Z: start
    loop l
        W->>A: go
        critical c
            W->>+B: ask
            break declined
                B-->>W: no
                W->>C: undo
            end
            B-->>-W: yes
            W->>C: commit
        option fail
            W->>D: d
        end
        W->>A: after
    end
    W->>Z: stop
""",
}


@pytest.mark.parametrize("name", [
    "in-a-par",
    "in-a-par-in-a-loop",
    "in-a-critical-in-a-loop",
])
def test_a_break_on_a_reply_in_a_section_conforms_in_choreography(name: str,
                                                                  tmp_path: Path) -> None:
    from projects import passes_every_path
    passes_every_path(REPLY_BREAKS_IN_A_SECTION[name], tmp_path)


def test_the_entry_point_of_a_loop_around_a_critical_waits_for_the_reply(
        tmp_path: Path) -> None:
    """W's entry point ends the first iteration in the critical's option (the join it
    arrives at there holds the loop's back edge), not after the block: `stop` comes after
    the reply's handler decided the loop is done."""
    from projects import run_python
    text = REPLY_BREAKS_IN_A_SECTION["in-a-critical-in-a-loop"]
    generation = build(mermaidgen.parse(text), text, style="choreography", target="python",
                       package="flow")
    output.write(output.plan(list(generation.files), tmp_path, generation.meta()))
    for path in ("main", "declined", "fail", "l-twice", "l-twice+declined"):
        done = run_python(Path(sys.executable), ["-m", "flow", "--path", path], tmp_path,
                          timeout=120)
        assert done.returncode == 0, (path, done.stdout[-3000:] + done.stderr[-3000:])


# What follows the block that holds a taken break, for a service whose code holds the
# break (its own decision, or its copy of another's: lint unrealizable-choice) but not
# the block (its handler began inside the block's section): in the break's taken branch,
# before the handler returns. A service whose code holds the block goes on after it (the
# taken branch ends the section's code). Each of these failed one path or two: `after`
# lost on the taken path (the handler returned), or sent twice (once in the taken branch
# of a par section's function, once after the par).
BREAKS_END_THEIR_SECTION = {
    "a-copy-in-the-code-of-the-par": """sequenceDiagram
    C->>A: first
    par one
        break stop
            B-)A: Halt
        end
        C->>A: Next
    and two
        D->>A: Other
    end
    C->>A: After
""",
    "a-copy-in-a-handler-inside-an-opt": """sequenceDiagram
    opt check
        A->>C: x
        break stop
            B-)A: Halt
        end
        C->>A: Next
    end
    C->>A: After
""",
    "its-own-in-a-handler-inside-a-par": """sequenceDiagram
    par one
        A->>C: x
        break stop
            C->>A: halt
        end
        C->>A: next
    and two
        D->>A: other
    end
    C->>A: after
""",
    "its-own-in-a-handler-inside-an-opt": """sequenceDiagram
    opt one
        A->>C: x
        break stop
            C->>A: halt
        end
        C->>A: next
    end
    C->>A: after
""",
}


@pytest.mark.parametrize("name", list(BREAKS_END_THEIR_SECTION))
def test_what_follows_the_block_of_a_taken_break_is_sent_once(name: str,
                                                               tmp_path: Path) -> None:
    from projects import passes_every_path
    passes_every_path(BREAKS_END_THEIR_SECTION[name], tmp_path)
