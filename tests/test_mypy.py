"""Generated packages pass `mypy --strict`, and the typed payloads (docs/typed-payloads.md)
let mypy catch user code that sends a field of the wrong type.

mypy runs once per package, with a cache kept for the session (one per interpreter whose
packages the imports resolve to): checking the standard library's stubs, the same for
every package, was nine tenths of what a run cost. mypy reports the errors of every module
it checks, and a module with errors is never cached (so never skipped); the wrong-type
test checks the clean package first, so its error is found with the cache warm from a
package of the same name.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from projects import run

import mermaidgen
from mermaidgen.codegen.generate import build
from mermaidgen.codegen.write import output

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((PROJECT / "samples").glob("*.mmd"))


def _generate(path: Path, out: Path, style: str, target: str = "python") -> str:
    text = path.read_text(encoding="utf-8")
    generation = build(mermaidgen.parse(text, source=path.name), text, style=style,
                       target=target)
    output.write(output.plan(list(generation.files), out, generation.meta()))
    return generation.package


@pytest.fixture(scope="session")
def mypy_caches(tmp_path_factory) -> Path:
    """Where the runs of this session (of this worker) keep their caches."""
    return tmp_path_factory.mktemp("mypy-caches")


def _mypy(caches: Path, out: Path, package: str, python: Path | None = None
          ) -> tuple[int, str]:
    """`mypy --strict` on a package (with `python`: that interpreter's installed packages,
    such as temporalio, are what the imports resolve to), with the session's cache for
    that interpreter."""
    cache = caches / ("own" if python is None else str(python).replace("/", "_").strip("_"))
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, package]
    if python is not None:
        command[3:3] = ["--python-executable", python]
    done = run(command, out, timeout=600)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_generated_python_packages_pass_mypy_strict(path: Path, style: str,
                                                   tmp_path: Path, mypy_caches: Path) -> None:
    package = _generate(path, tmp_path, style)
    code, log = _mypy(mypy_caches, tmp_path, package)
    assert code == 0, log


WRONG_EVENT = '''
from decimal import Decimal

from .._generated import events
from .._generated.runtime import Context


class Orders(wiring.OrdersBase):
    def payload_charge_card(self, ctx: Context) -> events.ChargeCard:
        return events.ChargeCard(amount="12.50", currency="EUR")  # amount is a Decimal
'''

WRONG_REPLY = '''
from uuid import uuid4

from .._generated import messages
from .._generated.dispatcher import Result
from .._generated.runtime import Context


class Payments(wiring.PaymentsBase):
    def reply_charge_card(self, ctx: Context) -> Result:
        return Result(reply=wiring.ChargeCardReply.PAYMENT_CAPTURED,
                      payload=messages.PaymentCaptured(paymentId=str(uuid4())))
'''


@pytest.mark.parametrize(("style", "module", "code", "expected"), [
    ("choreography", "orders", WRONG_EVENT,
     'Argument "amount" to "ChargeCard" has incompatible type "str"; expected "Decimal"'),
    ("orchestration", "payments", WRONG_REPLY,
     'Argument "paymentId" to "PaymentCaptured" has incompatible type "str"; '
     'expected "UUID"'),
])
def test_mypy_catches_user_code_that_sends_a_wrong_field_type(
        style: str, module: str, code: str, expected: str, tmp_path: Path,
        mypy_caches: Path) -> None:
    package = _generate(PROJECT / "samples" / "checkout.mmd", tmp_path, style)
    # the clean package passes, and leaves every module of it in the cache
    status, log = _mypy(mypy_caches, tmp_path, package)
    assert status == 0, log
    user = tmp_path / package / "services" / f"{module}.py"
    text = user.read_text(encoding="utf-8")
    head = text[:text.index("\nclass ")]
    user.write_text(head + code, encoding="utf-8")
    status, log = _mypy(mypy_caches, tmp_path, package)
    assert status == 1, log
    assert f"services/{module}.py" in log and expected in log, log
    # the same file with the right type passes
    right = code.replace('amount="12.50"', 'amount=Decimal("12.50")') \
        .replace("paymentId=str(uuid4())", "paymentId=uuid4()")
    user.write_text(head + right, encoding="utf-8")
    status, log = _mypy(mypy_caches, tmp_path, package)
    assert status == 0, log


# Courier answers `deadline`; the workflow's critical runs its main section under the
# runtime's `deadline` (its option's label gives 5 s); Courier answers `quote`, whose
# reply hook would be `reply_quote`, and `reply quote`
DEADLINE = """sequenceDiagram
    participant Client
    participant Workflow
    participant Courier
    Client->>Workflow: Ship order
    Workflow->>+Courier: deadline
    Courier-->>-Workflow: Deadline set
    Workflow->>+Courier: quote
    Courier-->>-Workflow: Quoted
    Workflow->>+Courier: reply quote
    Courier-->>-Workflow: Reply quoted
    critical courier confirms
        Workflow->>+Courier: Book pickup
        Courier-->>-Workflow: Pickup booked
    option no answer in 5 s
        Workflow->>Courier: Cancel pickup
    end
    Workflow-->>Client: Order shipped
"""


def test_operations_named_like_the_runtimes_methods_or_hooks_keep_them(
        tmp_path: Path, mypy_caches: Path) -> None:
    """An operation is a method of its service's generated class: one named `deadline`
    replaced the `deadline` every participant inherits (mypy: incompatible override), one
    named `reply_quote` was defined twice, as itself and as the reply hook of `quote`."""
    source = tmp_path / "ship.mmd"
    source.write_text(DEADLINE, encoding="utf-8")
    out = tmp_path / "out"
    package = _generate(source, out, "orchestration")
    code, log = _mypy(mypy_caches, out, package)
    assert code == 0, log
    tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], out)
    assert tests.returncode == 0, tests.stdout + tests.stderr


@pytest.mark.engine
@pytest.mark.parametrize("name", ["order-saga", "saga-reply-decides", "checkout",
                                  "parallel-fulfilment", "retries"])
def test_generated_temporal_packages_pass_mypy_strict(name: str, tmp_path: Path,
                                                     temporal_python: Path,
                                                     mypy_caches: Path) -> None:
    package = _generate(PROJECT / "samples" / f"{name}.mmd", tmp_path, "orchestration",
                        "temporal")
    code, log = _mypy(mypy_caches, tmp_path, package, temporal_python)
    assert code == 0, log
