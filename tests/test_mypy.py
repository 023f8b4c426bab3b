"""Generated packages pass `mypy --strict`, and the typed payloads (docs/typed-payloads.md)
let mypy catch user code that sends a field of the wrong type.

mypy keeps a cache for the session (one per interpreter whose packages the imports
resolve to): checking the standard library's stubs, the same for every package, was nine
tenths of what a run cost. And the samples' packages, each in a folder of its own, are
checked by one run per style (`_mypy_many`), whose error lines are handed to each sample's
test by the folder they name: a test fails for its own package's errors, and every test
fails when the run fails in a way no package answers for (a crash, a file not checked).
mypy reports the errors of every module it checks, and a module with errors is never
cached (so never skipped): the wrong-type test checks the clean package first, so its
error is found with the cache warm from a package of the same name.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from projects import run, run_here

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


def _mypy(caches: Path, out: Path, *packages: str, python: Path | None = None
          ) -> tuple[int, str]:
    """`mypy --strict` on packages, from `out` (with `python`: that interpreter's installed
    packages, such as temporalio, are what the imports resolve to), with the session's
    cache for that interpreter."""
    cache = caches / ("own" if python is None else str(python).replace("/", "_").strip("_"))
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, *packages]
    if python is not None:
        command[3:3] = ["--python-executable", python]
    done = run(command, out, timeout=600)
    return done.returncode, done.stdout + done.stderr


@dataclass
class Checked:
    """One mypy run over several packages, each in a folder of its own under one root."""

    failed: str | None
    """Why the run as a whole failed (no package answers for it), or None."""
    logs: dict[str, list[str]]
    """Folder -> the lines mypy printed about its files."""

    def errors(self, folder: str) -> str | None:
        """What fails `folder`'s test: the whole run's failure, or its package's errors."""
        if self.failed is not None:
            return self.failed
        lines = self.logs[folder]
        return "\n".join(lines) if any(": error:" in line for line in lines) else None


_SUMMARY = re.compile(r"^(?:Success: no issues found|Found \d+ errors? in \d+ files?) "
                      r"(?:in|\(checked) (\d+) source files?\)?$")


def _mypy_many(caches: Path, root: Path, packages: dict[str, str],
               python: Path | None = None) -> Checked:
    """`mypy --strict` once over `packages` (folder under `root` -> the package in it),
    each folder's lines apart. The run fails as a whole when mypy stops (exit code 2),
    says something about no folder's files, or checked another number of files than the
    packages hold."""
    code, log = _mypy(caches, root, *(f"{folder}/{package}"
                                      for folder, package in packages.items()),
                      python=python)
    logs: dict[str, list[str]] = {folder: [] for folder in packages}
    stray, counted = [], None
    for line in log.splitlines():
        folder = line.split("/", 1)[0]
        if folder in logs and "/" in line:
            logs[folder].append(line)
        elif (summary := _SUMMARY.match(line)) is not None:
            counted = int(summary.group(1))
        else:
            stray.append(line)
    files = sum(len(list((root / folder / package).rglob("*.py")))
                for folder, package in packages.items())
    erring = [f for f, lines in logs.items() if any(": error:" in line for line in lines)]
    failed = None
    if code not in (0, 1) or stray or counted != files or (code == 1) != bool(erring):
        failed = (f"mypy's run over every package failed (exit code {code}, {counted} of "
                  f"{files} files checked):\n{log}")
    return Checked(failed, logs)


@pytest.fixture(scope="module")
def checked_samples(tmp_path_factory, mypy_caches):  # noqa: ANN201
    """style -> every sample's package of that style, checked by one run of mypy."""
    found: dict[str, Checked] = {}

    def check(style: str) -> Checked:
        if style not in found:
            root = tmp_path_factory.mktemp(f"mypy-{style}")
            packages = {path.stem: _generate(path, root / path.stem, style)
                        for path in SAMPLES}
            found[style] = _mypy_many(mypy_caches, root, packages)
        return found[style]

    return check


@pytest.mark.parametrize("style", ["choreography", "orchestration"])
@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_generated_python_packages_pass_mypy_strict(path: Path, style: str,
                                                   checked_samples) -> None:
    errors = checked_samples(style).errors(path.stem)
    assert errors is None, errors


def test_one_packages_type_error_fails_that_package_only(tmp_path: Path,
                                                        mypy_caches: Path) -> None:
    """What the sample tests rely on: in a run over several packages, a type error is
    charged to its own package, and a clean run charges none."""
    names = ("checkout", "order-saga", "retries")
    packages = {name: _generate(PROJECT / "samples" / f"{name}.mmd", tmp_path / name,
                                "choreography") for name in names}
    clean = _mypy_many(mypy_caches, tmp_path, packages)
    assert [clean.errors(name) for name in names] == [None, None, None], clean.failed
    broken = tmp_path / "order-saga" / packages["order-saga"] / "__init__.py"
    broken.write_text(broken.read_text(encoding="utf-8") + 'SEEN: int = "no"\n',
                      encoding="utf-8")
    checked = _mypy_many(mypy_caches, tmp_path, packages)
    assert checked.failed is None, checked.failed
    assert checked.errors("checkout") is None and checked.errors("retries") is None
    said = checked.errors("order-saga")
    assert said is not None and "__init__.py" in said and "[assignment]" in said, said


@pytest.mark.parametrize(("code", "said"), [
    (0, "Success: no issues found in 24 source files"),  # a file not checked
    (2, "mypy: error: Duplicate module named 'checkout'"),  # mypy stopped
    (1, "elsewhere.py:1: error: Name 'x' is not defined\nFound 1 error in 1 file "
        "(checked 25 source files)"),  # an error no package answers for
], ids=["file-not-checked", "stopped", "error-elsewhere"])
def test_a_run_that_fails_as_a_whole_fails_every_package(tmp_path: Path, monkeypatch,
                                                         code: int, said: str) -> None:
    packages = {"checkout": _generate(PROJECT / "samples" / "checkout.mmd",
                                      tmp_path / "checkout", "choreography")}
    files = len(list((tmp_path / "checkout" / "checkout").rglob("*.py")))
    assert files == 25  # what the fake answers below are about
    monkeypatch.setattr(sys.modules[__name__], "_mypy", lambda *a, **k: (code, said))
    checked = _mypy_many(Path("unused"), tmp_path, packages)
    assert checked.failed is not None and said in checked.failed
    assert checked.errors("checkout") == checked.failed


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
    tests = run_here(["-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
                PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert tests.returncode == 0, tests.stdout + tests.stderr


TEMPORAL_SAMPLES = ("order-saga", "saga-reply-decides", "checkout", "parallel-fulfilment",
                    "retries", "nested-calls")


@pytest.fixture(scope="module")
def checked_temporal(tmp_path_factory, mypy_caches, temporal_python) -> Checked:
    """The temporal target's packages of TEMPORAL_SAMPLES, checked by one run of mypy
    against the Temporal environment's packages."""
    root = tmp_path_factory.mktemp("mypy-temporal")
    packages = {name: _generate(PROJECT / "samples" / f"{name}.mmd", root / name,
                                "orchestration", "temporal") for name in TEMPORAL_SAMPLES}
    return _mypy_many(mypy_caches, root, packages, python=temporal_python)


TEMPORAL_WRONG = {
    "orders": ('''
from .._generated import messages
from .._generated.runtime import Context


class Orders(wiring.OrdersBase):
    def request_payments_charge_card(self, ctx: Context) -> messages.ChargeCard:
        return messages.ChargeCard(amount="12.50", currency="EUR")  # amount is a Decimal
''', 'Argument "amount" to "ChargeCard" has incompatible type "str"; expected "Decimal"'),
    "payments": ('''
from uuid import uuid4

from .._generated import messages
from .._generated.runtime import Context, Result


class Payments(wiring.PaymentsBase):
    def reply_charge_card(self, ctx: Context) -> Result:
        return Result(reply=wiring.ChargeCardReply.PAYMENT_CAPTURED,
                      payload=messages.PaymentCaptured(paymentId=str(uuid4())))
''', 'Argument "paymentId" to "PaymentCaptured" has incompatible type "str"; '
        'expected "UUID"'),
}
"""User code of the temporal target's checkout: the orchestrator's request (built in the
workflow) and an activity's reply, each with a field of the wrong type."""


@pytest.mark.engine
def test_mypy_catches_temporal_user_code_that_sends_a_wrong_field_type(
        tmp_path: Path, mypy_caches: Path, temporal_python: Path,
        checked_temporal: Checked) -> None:
    """A request and a reply of a Temporal package are its typed classes too (the
    issue 12 complaint: Temporal calls and results carried dicts). checked_temporal has
    checked the clean checkout package already (its cache is warm)."""
    package = _generate(PROJECT / "samples" / "checkout.mmd", tmp_path, "orchestration",
                        "temporal")
    services = tmp_path / package / "services"
    heads = {}
    for module, (code, _) in TEMPORAL_WRONG.items():
        text = (services / f"{module}.py").read_text(encoding="utf-8")
        heads[module] = text[:text.index("\nclass ")]
        (services / f"{module}.py").write_text(heads[module] + code, encoding="utf-8")
    status, log = _mypy(mypy_caches, tmp_path, package, python=temporal_python)
    assert status == 1, log
    for module, (_, expected) in TEMPORAL_WRONG.items():
        assert f"services/{module}.py" in log and expected in log, log
    assert "Found 2 errors in 2 files" in log, log
    # the same files with the right types pass
    for module, (code, _) in TEMPORAL_WRONG.items():
        right = code.replace('amount="12.50"', 'amount=Decimal("12.50")') \
            .replace("paymentId=str(uuid4())", "paymentId=uuid4()")
        if "Decimal(" in right:
            right = "\nfrom decimal import Decimal\n" + right
        (services / f"{module}.py").write_text(heads[module] + right, encoding="utf-8")
    status, log = _mypy(mypy_caches, tmp_path, package, python=temporal_python)
    assert status == 0, log


@pytest.mark.engine
@pytest.mark.parametrize("name", TEMPORAL_SAMPLES)
def test_generated_temporal_packages_pass_mypy_strict(name: str,
                                                     checked_temporal: Checked) -> None:
    errors = checked_temporal.errors(name)
    assert errors is None, errors


NESTED_CALLER = """
from temporalio.client import Client

from ._generated import messages, workflows


async def product_name(client: Client) -> {returns}:
    \"\"\"Catalog.get_product, an operation that makes calls of its own, run as the
    workflow it is: its request class in, its result class out.\"\"\"
    result = await client.execute_workflow(
        workflows.CatalogGetProductOperation.run, messages.GetProduct(productId=42),
        id="product-42", task_queue="product_page_through_the_api.catalog")
    return result.payload.name
"""


@pytest.mark.engine
def test_an_operation_that_makes_calls_is_typed_for_mypy(
        tmp_path: Path, mypy_caches: Path, temporal_python: Path) -> None:
    """Its workflow takes the request class (a Call before) and returns the result class,
    whose payload is the reply's class: mypy knows `.payload.name` is a str."""
    out = tmp_path / "out"
    package = _generate(PROJECT / "samples" / "nested-calls.mmd", out, "orchestration",
                        "temporal")
    caller = out / package / "caller.py"
    caller.write_text(NESTED_CALLER.format(returns="str"), encoding="utf-8")
    status, log = _mypy(mypy_caches, out, package, python=temporal_python)
    assert status == 0, log
    # the same size as before: mypy's cache trusts a file whose size and whole-second
    # mtime did not change, so the rewrite is dated later (on a quiet machine both writes
    # fall in one second and the cached verdict came back)
    before = caller.stat().st_mtime_ns
    caller.write_text(NESTED_CALLER.format(returns="int"), encoding="utf-8")
    os.utime(caller, ns=(before + 2_000_000_000, before + 2_000_000_000))
    status, log = _mypy(mypy_caches, out, package, python=temporal_python)
    assert status == 1, log
    assert 'caller.py:13: error: Incompatible return value type (got "str", expected ' \
        '"int")' in log, log


STEP_HOOKS = {
    "services/stock.py": ('''
from .._generated import messages
from .._generated.runtime import Context


class Stock(wiring.StockBase):
    def step_count_shelves(self, ctx: Context) -> messages.CountShelvesResult:
        return {stock}
''', 'error: Incompatible return value type (got "CountShelves", expected '
        '"CountShelvesResult")'),
    "workflow.py": ('''
from ._generated import messages
from ._generated.runtime import Context


class OrdersWorkflow(wiring.OrdersWorkflowBase):
    def step_validate_order_order_id_uuid(self, ctx: Context) -> {orders}:
        assert isinstance(ctx.message.payload, messages.ValidateOrder)
        return messages.ValidateOrderResult()
''', 'error: Return type "None" of "step_validate_order_order_id_uuid" '
        'incompatible with return type "ValidateOrderResult" in supertype'),
}
"""A participant's own steps, written against their typed result class: one answers with
its request class instead, one keeps the signature steps had before they were typed."""


@pytest.mark.engine
def test_mypy_catches_a_step_hook_that_returns_the_wrong_type(
        tmp_path: Path, mypy_caches: Path, temporal_python: Path) -> None:
    from test_temporal_activities import STEPS

    out = tmp_path / "out"
    package = _generate(STEPS, out, "orchestration", "temporal")
    heads = {}
    for module in STEP_HOOKS:
        text = (out / package / module).read_text(encoding="utf-8")
        heads[module] = text[:text.index("\nclass ")]

    def write(stock: str, orders: str) -> tuple[int, str]:
        for module, (code, _) in STEP_HOOKS.items():
            (out / package / module).write_text(
                heads[module] + code.format(stock=stock, orders=orders), encoding="utf-8")
        return _mypy(mypy_caches, out, package, python=temporal_python)

    status, log = write("messages.CountShelves()", "None")
    assert status == 1, log
    for module, (_, expected) in STEP_HOOKS.items():
        assert any(line.startswith(f"{package}/{module}:") and expected in line
                   for line in log.splitlines()), log
    status, log = write("messages.CountShelvesResult()", "messages.ValidateOrderResult")
    assert status == 0, log
