"""Choreography loops whose iterations span handlers, and breaks taken on a reply (issue 11,
defects 4 and 5).

A retry loop around a request and its reply cannot be one `for` loop in one handler: the
request is sent in one handler and the reply arrives in another. The service that sends
the body's first message decides the loop (conformance.md, "who decides a branch"): it
sends the first attempt, and the handler of the reply either sends the next attempt (the
loop's back edge) or goes on after the loop. A `break` whose section opens with a reply
from another participant is decided by that participant; the receiver learns it from
which event arrived, and its handler goes on after the loop.

Each path is forced the way a user would: by overriding hooks in the user module; the
generated package's own contract test must pass on every path.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from projects import lint, run_here

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]

# the Dispatcher decides both the loop and its break (after the reply it got)
RETRY = """sequenceDiagram
    participant Dispatcher
    participant Partner
    participant Log
    loop up to 3 attempts
        Dispatcher->>+Partner: POST /hooks
        Partner-->>-Dispatcher: HTTP status
        break 2xx received
            Dispatcher->>Log: Mark delivered
        end
        Dispatcher->>Dispatcher: Back off
    end
    opt every attempt failed
        Dispatcher->>Log: Move to dead letters
    end
"""

# the Partner decides the break: its reply is the section's first message
BREAK_ON_REPLY = """sequenceDiagram
    participant Dispatcher
    participant Partner
    participant Log
    loop up to 3 attempts
        Dispatcher->>+Partner: POST /hooks
        break delivered
            Partner-->>Dispatcher: 200 OK
            Dispatcher->>Log: Mark delivered
        end
        Partner-->>-Dispatcher: 503 Busy
        Dispatcher->>Dispatcher: Back off
    end
    Dispatcher->>Log: Close delivery
"""

POST = "Dispatcher -> Partner  POST /hooks"
STATUS = "Partner -> Dispatcher  HTTP status"
BACK_OFF = "Dispatcher -> Dispatcher  Back off"
DELIVERED = "Dispatcher -> Log  Mark delivered"
DEAD = "Dispatcher -> Log  Move to dead letters"
OK = "Partner -> Dispatcher  200 OK"
BUSY = "Partner -> Dispatcher  503 Busy"
CLOSE = "Dispatcher -> Log  Close delivery"


def _generate(tmp_path: Path, text: str, target: str = "python") -> Path:
    generation = build(mermaidgen.parse(text, source="retry.mmd"), text,
                       style="choreography", target=target, package="retry")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out


def _override(out: Path, name: str, body: str) -> None:
    """Override hooks of one service in its user module, as a user would."""
    path, = (p for p in (out / "retry" / "services").glob("*.py")
             if f"class {name}(" in p.read_text(encoding="utf-8"))
    path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(f"""

        class Deciding{name}({name}):
        """) + textwrap.indent(textwrap.dedent(body), "    ") + textwrap.dedent(f"""

        {name} = Deciding{name}  # noqa: F811
        """), encoding="utf-8")


def _run(out: Path) -> list[str]:
    """The trace `python -m retry` prints, as `sender -> receiver  text` lines; and the
    package's own contract test must pass on this path."""
    main = run_here(["-m", "retry"], out)
    assert main.returncode == 0, main.stderr
    table = main.stdout.split("sequenceDiagram")[0]
    arrows = [re.sub(r"(?<=\S) {2,}", "  ", line.split(None, 1)[1].rsplit("  (line", 1)[0])
              for line in table.splitlines() if line.strip()]
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, arrows + [tests.stdout + tests.stderr]
    return arrows


ATTEMPT = [POST, STATUS, BACK_OFF]


@pytest.mark.parametrize(("hooks", "expected"), [
    ("", [*ATTEMPT, DEAD]),
    ("""
     def repeat_up_to_3_attempts(self, ctx, iteration):
         return iteration < 2
     """, [*ATTEMPT, *ATTEMPT, DEAD]),
    # the label's bound holds however eager the hook is
    ("""
     def repeat_up_to_3_attempts(self, ctx, iteration):
         return True
     """, [*ATTEMPT * 3, DEAD]),
    # delivered at the second attempt: the break leaves the loop, the opt still decides
    ("""
     attempts = 0

     def should_break_break_2_xx_received(self, ctx):
         self.attempts += 1
         return self.attempts == 2

     def repeat_up_to_3_attempts(self, ctx, iteration):
         return True

     def should_every_attempt_failed(self, ctx):
         return False
     """, [*ATTEMPT, POST, STATUS, DELIVERED]),
], ids=["once", "twice", "bounded", "break-at-2"])
def test_the_retry_loop_sends_each_attempt_after_the_last_reply(
        tmp_path: Path, hooks: str, expected: list[str]) -> None:
    out = _generate(tmp_path, RETRY)
    if hooks:
        _override(out, "Dispatcher", hooks)
    assert _run(out) == expected


@pytest.mark.parametrize(("partner", "dispatcher", "expected"), [
    ("", "", [POST, BUSY, BACK_OFF, CLOSE]),
    ("""
     def should_break_delivered(self, ctx):
         return True
     """, "", [POST, OK, DELIVERED, CLOSE]),
    ("""
     calls = 0

     def should_break_delivered(self, ctx):
         self.calls += 1
         return self.calls == 3
     """, """
     def repeat_up_to_3_attempts(self, ctx, iteration):
         return True
     """, [POST, BUSY, BACK_OFF, POST, BUSY, BACK_OFF, POST, OK, DELIVERED, CLOSE]),
], ids=["busy", "delivered", "delivered-at-3"])
def test_a_break_taken_on_a_reply_goes_on_after_the_loop(
        tmp_path: Path, partner: str, dispatcher: str, expected: list[str]) -> None:
    out = _generate(tmp_path, BREAK_ON_REPLY)
    if partner:
        _override(out, "Partner", partner)
    if dispatcher:
        _override(out, "Dispatcher", dispatcher)
    assert _run(out) == expected


@pytest.mark.parametrize("text", [RETRY, BREAK_ON_REPLY], ids=["retry", "break-on-reply"])
def test_the_faststream_project_of_a_spanning_loop_lints(tmp_path: Path, text: str) -> None:
    """The engine runs are test_target_faststream.py's (samples); here: it compiles and
    passes ruff."""
    lint(_generate(tmp_path, text, target="faststream"))


# W decides an `alt` (or `opt`) in a loop and receives a reply in one of its sections: the
# iteration ends in the reply's handler there, and in W's entry point in the other. The
# back edge's copy of the start holds the block again, whose other section must end its
# iteration too: `l-twice+local` (`l-twice+ask-skipped`) sent `d` and then nothing.
SECTION_ENDS_AN_ITERATION = {
    "alt": """sequenceDiagram
    W->>Z: start
    loop l
        W->>A: go
        alt ok
            W->>+B: ask
            B-->>-W: r
            W->>C: c
        else local
            W->>D: d
        end
        W->>A: after
    end
    W->>Z: stop
""",
    "opt": """sequenceDiagram
    W->>Z: start
    loop l
        W->>A: go
        opt ask
            W->>+B: ask
            B-->>-W: r
            W->>C: c
        end
        W->>A: after
    end
    W->>Z: stop
""",
}


@pytest.mark.parametrize("name", list(SECTION_ENDS_AN_ITERATION))
def test_a_section_that_ends_an_iteration_in_the_start_conforms_on_every_path(
        name: str, tmp_path: Path) -> None:
    from projects import passes_every_path
    passes_every_path(SECTION_ENDS_AN_ITERATION[name], tmp_path)
