"""Choreography joins after a `par` (projection/choreography.py, projection/origins.py).

A service whose paths through a par end in different handlers goes on once all have
arrived: a join. So does a service that, after the par, receives events that follow from
different sections of it (issue #11, broker-par-replies): they come in either order, and
its handler of the first one drawn must not go on alone.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from projects import run_here, shared_project_tests
from test_target_faststream import URLS, server_up

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.projection.outline import choreography
from mermaidgen.projection.views import Arrive, Fragment

PROJECT = Path(__file__).resolve().parents[1]
BIG_DIAGRAMS = PROJECT.parent / "shared" / "tools" / "gen_big_diagram.py"

# Orders fans a check out over a broker; Fraud and Credit answer through it. The par's
# `and` sections: `{sections}`; what Orders does after the par: `{after}`.
FAN_OUT = """sequenceDiagram
    participant Orders
    participant NATS@{{ "type": "queue" }}
    Orders-)NATS: CheckOrder
    par fraud check
        NATS-)Fraud: CheckOrder
        Fraud-)NATS: FraudCleared
{sections}    end
{after}    Orders->>Orders: Release order
"""
CREDIT = """    and credit check
        NATS-)Credit: CheckOrder
        Credit-)NATS: CreditApproved
"""
SILENT_CREDIT = """    and credit check
        NATS-)Credit: CheckOrder
"""
STOCK = """    and stock check
        NATS-)Stock: CheckOrder
        Stock-)NATS: StockHeld
"""


def _fan_out(sections: str, after: str) -> str:
    return FAN_OUT.format(sections=sections, after=textwrap.indent(after, "    "))


def participant_outline(text: str, participant: str) -> str:
    """The choreography outline's part of one participant (test_receipt_join.py too)."""
    view = mermaidgen.analyse(mermaidgen.parse(text)).choreography
    outline = choreography(view).split("\n")
    start = outline.index(participant)
    end = next((k for k in range(start + 1, len(outline)) if not outline[k].startswith(" ")),
               len(outline))
    return "\n".join(outline[start:end])


JOINED = """Orders
  start
    publish CheckOrder -> NATS
  on FraudCleared from Fraud
    arrive at the join after the par of line 5
  on CreditApproved from Credit
    arrive at the join after the par of line 5
  after the par of line 5, once its 2 paths arrive
    step Release order"""

JOIN_CASES = {
    # issue #11: with the credit check first, NATS relays CreditApproved first
    "relayed replies": (_fan_out(CREDIT, "NATS-)Orders: FraudCleared\n"
                                         "NATS-)Orders: CreditApproved\n"), JOINED),
    # the same race without a broker's relay: each reply is its own sender's
    "replies sent after the par": ("""sequenceDiagram
    participant Orders
    par fraud check
        Orders-)Fraud: CheckFraud
    and credit check
        Orders-)Credit: CheckCredit
    end
    Fraud-)Orders: FraudCleared
    Credit-)Orders: CreditApproved
    Orders->>Orders: Release order
""", """Orders
  start
    par fraud check
      [fraud check]
        publish CheckFraud -> Fraud
      [credit check]
        publish CheckCredit -> Credit
  on FraudCleared from Fraud
    arrive at the join after the par of line 3
  on CreditApproved from Credit
    arrive at the join after the par of line 3
  after the par of line 3, once its 2 paths arrive
    step Release order"""),
    # what Orders sends between the replies follows the first one only
    "a send between the replies": (_fan_out(CREDIT, "NATS-)Orders: FraudCleared\n"
                                                    "Orders-)Audit: FraudNoted\n"
                                                    "NATS-)Orders: CreditApproved\n"), """Orders
  start
    publish CheckOrder -> NATS
  on FraudCleared from Fraud
    publish FraudNoted -> Audit
    arrive at the join after the par of line 5
  on CreditApproved from Credit
    arrive at the join after the par of line 5
  after the par of line 5, once its 2 paths arrive
    step Release order"""),
    "three sections": (_fan_out(CREDIT + STOCK, "NATS-)Orders: FraudCleared\n"
                                               "NATS-)Orders: CreditApproved\n"
                                               "NATS-)Orders: StockHeld\n"), """Orders
  start
    publish CheckOrder -> NATS
  on FraudCleared from Fraud
    arrive at the join after the par of line 5
  on CreditApproved from Credit
    arrive at the join after the par of line 5
  on StockHeld from Stock
    arrive at the join after the par of line 5
  after the par of line 5, once its 3 paths arrive
    step Release order"""),
    # Orders' paths through the par end in two handlers (a join already), and a reply
    # relayed after the par arrives at that join too
    "a par's own join and a relayed reply": ("""sequenceDiagram
    participant Orders
    participant NATS@{ "type": "queue" }
    par fraud check
        Orders-)Fraud: CheckFraud
        Fraud-)Orders: FraudCleared
    and credit check
        Orders-)Credit: CheckCredit
        Credit-)NATS: CreditApproved
    end
    NATS-)Orders: CreditApproved
    Orders->>Orders: Release order
""", """Orders
  start
    par fraud check
      [fraud check]
        publish CheckFraud -> Fraud
      [credit check]
        publish CheckCredit -> Credit
    arrive at the join after the par of line 4
  on FraudCleared from Fraud
    arrive at the join after the par of line 4
  on CreditApproved from Credit
    arrive at the join after the par of line 4
  after the par of line 4, once its 3 paths arrive
    step Release order"""),
    # Credit answers what Orders sent after FraudCleared: the replies come in drawn order
    "a reply caused by the first": (_fan_out(SILENT_CREDIT, "NATS-)Orders: FraudCleared\n"
                                                            "Orders-)Credit: Go\n"
                                                            "Credit-)Orders: CreditApproved\n"),
                                    """Orders
  start
    publish CheckOrder -> NATS
  on FraudCleared from Fraud
    publish Go -> Credit
  on CreditApproved from Credit
    step Release order"""),
    # both replies come from one section, in the order their publisher sent them
    "replies from one section": (_fan_out(SILENT_CREDIT, "NATS-)Orders: FraudCleared\n"
                                                         "NATS-)Orders: FraudScored\n"
                                 ).replace("        Fraud-)NATS: FraudCleared\n",
                                           "        Fraud-)NATS: FraudCleared\n"
                                           "        Fraud-)NATS: FraudScored\n"),
                                 """Orders
  start
    publish CheckOrder -> NATS
  on FraudCleared from Fraud
  on FraudScored from Fraud
    step Release order"""),
}


@pytest.mark.parametrize(("text", "expected"), JOIN_CASES.values(), ids=JOIN_CASES.keys())
def test_a_service_joins_the_replies_of_a_pars_sections(text: str, expected: str) -> None:
    assert participant_outline(text, "Orders") == expected


def _actions(actions):
    for a in actions:
        yield a
        if isinstance(a, Fragment):
            for branch in a.branches:
                yield from _actions(branch.actions)


def _par_lines(statements) -> set[int]:
    found: set[int] = set()
    stack = list(statements)
    while stack:
        s = stack.pop()
        if hasattr(s, "sections"):
            if s.kind in ("par", "par_over"):
                found.add(s.span.line)
            stack.extend(x for section in s.sections for x in section.statements)
    return found


def test_every_join_follows_a_par_or_receipts_and_is_arrived_at(tmp_path: Path) -> None:
    """Joins not wired yet were kept by id(): one dropped unwired (its service received
    something before sending again) freed its id, a later reaction of any service got
    it and became that join, its handler's sends moved into a join that waits for
    arrivals that never come. The samples are too small to show it; 700 messages of
    every kind (the benchmark generator's mix) made 4 of 8 joins such impostors."""
    if not BIG_DIAGRAMS.is_file():
        pytest.skip(f"needs {BIG_DIAGRAMS} (../shared beside the project)")
    source = tmp_path / "big.mmd"
    subprocess.run([sys.executable, str(BIG_DIAGRAMS), "700", str(source)], check=True,
                   capture_output=True)
    diagram = mermaidgen.parse(source.read_text(encoding="utf-8"))
    pars = _par_lines(diagram.statements)
    analysis = mermaidgen.analyse(diagram)
    services = analysis.choreography.services
    joined = {m.occurrence.line for m in analysis.messages
              if m.index in analysis.joined_receipts}
    joins = [(s.participant, j) for s in services for j in s.joins]
    assert joins, "the generator's mix should need joins"
    for participant, join in joins:
        s = next(s for s in services if s.participant == participant)
        code = [s.entry, *(c.actions for h in s.handlers for c in h.cases),
                *(j.actions for j in s.joins), *(t.actions for t in s.timers)]
        arrivals = [a for actions in code for a in _actions(actions)
                    if isinstance(a, Arrive) and a.join == join.name]
        if join.after_par:
            assert join.line in pars, f"{participant}: {join.name} follows no par"
        else:  # events nothing orders (test_receipt_join.py), the second one's line
            assert join.line in joined, f"{participant}: {join.name} joins no receipts"
        assert arrivals, f"{participant}: nothing arrives at {join.name}"
    # where the lint says a join was made, the handler of the event it names arrives at
    # one
    said = [d for d in analysis.diagnostics
            if d.code == "unordered-receipts" and d.severity == "info"]
    assert said, "the generator's mix should have events nothing orders"
    for d in said:
        receiver = d.message.split("`")[1]
        s = next(s for s in services if s.participant == receiver)
        assert any(isinstance(a, Arrive) for h in s.handlers for c in h.cases
                   if c.line == d.span.line for a in _actions(c.actions)), d.message


def test_the_generated_service_waits_for_every_reply_on_every_path(tmp_path: Path) -> None:
    """With a section started after the others (the reversed paths), a reply relayed
    later in the diagram comes first: the generated package's own test runs every path
    and checks each trace against the diagram."""
    text = _fan_out(CREDIT + STOCK, "NATS-)Orders: FraudCleared\n"
                                    "Orders-)Audit: FraudNoted\n"
                                    "NATS-)Orders: CreditApproved\n"
                                    "NATS-)Orders: StockHeld\n")
    generation = build(mermaidgen.parse(text, source="checks.mmd"), text,
                       style="choreography", target="python", package="checks")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    tests = run_here(["-m", "pytest", "-v", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "[fraud-check-reversed] PASSED" in tests.stdout, tests.stdout


# B fans out to C and D in a par; E joins their results and answers A, whose loop starts
# the next iteration: E's join must complete once per iteration
JOIN_IN_A_LOOP = """sequenceDiagram
    participant A
    participant B
    participant C
    participant D
    participant E
    loop retry
        A->>B: Go
        par left
            B->>C: X
        and right
            B->>D: Y
        end
        C->>E: CX
        D->>E: DY
        E->>A: Done
    end
"""


@pytest.mark.engine
def test_a_faststream_join_inside_a_loop_completes_on_every_iteration(
        tmp_path: Path, faststream_python: Path) -> None:
    """The FastStream join kept every arrival of the run in one set and went on once it
    held as many as the par has paths: the second iteration's first arrival found it full,
    went on alone, and what it sent had the first iteration's ids (dropped as duplicates),
    so the `retry-twice` path never ended. On NATS when it answers (test_target_faststream
    .py's SERVERS), in memory always."""
    package = f"loopjoin_{uuid.uuid4().hex[:8]}"  # its own streams and store on the server
    generation = build(mermaidgen.parse(JOIN_IN_A_LOOP, source="loop.mmd"), JOIN_IN_A_LOOP,
                       style="choreography", target="faststream", package=package,
                       options={"broker": "nats"})
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    env = {"MERMAIDGEN_REAL_BROKER": "1", "MERMAIDGEN_BROKER_URL": URLS["nats"]} \
        if server_up("nats") else {}
    outcomes, log = shared_project_tests(faststream_python, out, **env)
    runs = ["in-memory"] + (["real-broker"] if env else [])
    for where in runs:
        assert outcomes.get(f"test_every_path_conforms_to_the_diagram[{where}-retry-twice]"
                            ) == "passed", log
    assert not [t for t, kind in outcomes.items() if kind in ("failure", "error")], log
