"""A reply that opens the sections of an `alt` decides the branch (conformance.md: "who
decides a branch", "a projection must refine the original").

The orchestrator learns the outcome from the reply it got: the workflow branches on it
(no free `choose_` hook), and the projected contract keeps the reply and its section one
choice, so that a run that ships the goods after a declined card is rejected.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from projects import run_here

import mermaidgen
from mermaidgen.analysis import analyse
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output
from mermaidgen.contract import check_trace, contract_of
from mermaidgen.projection.contract import projected

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "samples" / "saga-reply-decides.mmd"

# the shape of issue 11, activations as drawn there
ISSUE = """sequenceDiagram
    participant Client
    participant OS as OrderSaga
    participant Pay as Payment
    participant Ship as Shipping
    Client->>OS: PlaceOrder
    OS->>+Pay: ChargeCard
    alt card accepted
        Pay-->>OS: PaymentCaptured
        OS->>+Ship: ScheduleDelivery
        Ship-->>-OS: DeliveryScheduled
        OS-->>Client: OrderConfirmed
    else card declined
        Pay-->>-OS: PaymentDeclined
        OS-->>Client: OrderRejected
    end
"""

ACCEPTED = [("Client", "OS", "PlaceOrder"), ("OS", "Pay", "ChargeCard"),
            ("Pay", "OS", "PaymentCaptured"), ("OS", "Ship", "ScheduleDelivery"),
            ("Ship", "OS", "DeliveryScheduled"), ("OS", "Client", "OrderConfirmed")]
DECLINED = [("Client", "OS", "PlaceOrder"), ("OS", "Pay", "ChargeCard"),
            ("Pay", "OS", "PaymentDeclined"), ("OS", "Client", "OrderRejected")]
# the run issue 11 saw pass: a declined card, then the goods ship
FORBIDDEN = [*ACCEPTED[:2], ("Pay", "OS", "PaymentDeclined"), *ACCEPTED[3:]]


def _contract(text: str) -> dict:
    diagram = mermaidgen.parse(text, source="saga.mmd")
    return contract_of(projected(analyse(diagram), "orchestration"))


def test_the_projected_contract_accepts_each_section() -> None:
    contract = _contract(ISSUE)
    for trace in (ACCEPTED, DECLINED):
        verdict = check_trace(contract, trace)
        assert verdict.ok, verdict.explanation


def test_the_projected_contract_rejects_shipping_after_a_declined_card() -> None:
    verdict = check_trace(_contract(ISSUE), FORBIDDEN)
    assert not verdict.ok
    # readable: it names the message that could not happen and its place in the trace
    assert "ScheduleDelivery" in verdict.explanation
    assert "trace event 4" in verdict.explanation
    assert any(a.text == "ScheduleDelivery" for a in verdict.unexpected)


def test_the_workflow_has_no_free_choice_where_the_reply_decides() -> None:
    analysis = analyse(mermaidgen.parse(ISSUE, source="saga.mmd"))
    files = build(analysis.diagram, ISSUE, style="orchestration").files
    wiring = next(f.content for f in files if f.path.endswith("wiring.py"))
    assert "choose_card_accepted" not in wiring
    assert ".reply]" in wiring  # the branch is read from the reply the call got


def _project(tmp_path: Path) -> tuple[Path, str]:
    text = SAMPLE.read_text(encoding="utf-8")
    generation = build(mermaidgen.parse(text, source=SAMPLE.name), text,
                       style="orchestration")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return out, generation.package


def _answer(out: Path, package: str, reply: int) -> None:
    """Override the payment's reply hook, the way a user would."""
    path = out / package / "services" / "pay.py"
    path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(f"""

        class DecidingPay(Pay):
            def reply_charge_card(self, ctx):
                from .._generated.dispatcher import Result
                return Result(reply={reply})


        Pay = DecidingPay  # noqa: F811
        """), encoding="utf-8")


@pytest.mark.parametrize(("reply", "expected"), [(0, "ScheduleDelivery"),
                                                 (1, "ReleaseStock")])
def test_every_section_runs_and_passes_its_contract_test(tmp_path: Path, reply: int,
                                                         expected: str) -> None:
    out, package = _project(tmp_path)
    _answer(out, package, reply)
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    main = run_here(["-m", package], out)
    assert main.returncode == 0, main.stderr
    assert expected in main.stdout
    other = {"ScheduleDelivery": "ReleaseStock", "ReleaseStock": "ScheduleDelivery"}[expected]
    assert other not in main.stdout.split("sequenceDiagram")[0]


PAYMENTS = PROJECT / "samples" / "payment-alternatives.mmd"


def _payments(tmp_path: Path, issuer: int, psp: int) -> tuple[Path, str]:
    """payment-alternatives as an orchestration, the issuer's and the PSP's replies set
    the way a user would."""
    text = PAYMENTS.read_text(encoding="utf-8")
    generation = build(mermaidgen.parse(text, source=PAYMENTS.name), text,
                       style="orchestration", package="payments")
    out = tmp_path / "out"
    output.write(output.plan(list(generation.files), out, generation.meta()))
    for module, hook, reply in (("issuer", "reply_authorization_request", issuer),
                                ("psp", "reply_authorize_payment", psp)):
        path = out / "payments" / "services" / f"{module}.py"
        path.write_text(path.read_text(encoding="utf-8").replace(
            "    pass\n", f"    def {hook}(self, ctx):\n"
                         f"        return wiring.Result(reply={reply})\n"), encoding="utf-8")
    return out, "payments"


def test_the_reply_the_workflow_receives_decides_even_when_it_does_not_open_the_section(
        tmp_path: Path) -> None:
    """payment-alternatives: each section opens with the issuer's reply to the PSP, then the
    PSP's reply to the workflow: the PSP branches on the first, the workflow on the second;
    neither has a choice of its own."""
    out, package = _payments(tmp_path, issuer=2, psp=2)
    wiring = (out / package / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "def choose_" not in wiring
    main = run_here(["-m", package], out)
    assert main.returncode == 0, main.stderr
    assert "Show 3-D Secure challenge" in main.stdout
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_replies_that_disagree_fail_the_contract_test(tmp_path: Path) -> None:
    """The issuer approves, the PSP redirects to 3-D Secure: no run of the diagram does
    that, and the contract test says so (the old projection made two choices of it)."""
    out, _ = _payments(tmp_path, issuer=0, psp=2)
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode != 0
    assert "Redirect to 3-D Secure" in tests.stdout
