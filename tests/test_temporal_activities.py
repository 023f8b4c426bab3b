"""Temporal activities written the way Temporal's samples write them (issue 14): one
activities class per service with an `@activity.defn` method per operation, built at
worker start with the dependencies the service's `on_startup` opens; the workflow calls
them by method; the generated tests can mock them by activity name. And the change keeps
histories recorded before it replaying: the activity type names did not move.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from projects import run_python
from test_target_temporal import NOWHERE, PROJECT, generate
from test_temporal_operations import EVOLVING, _edit

SAGA = PROJECT / "samples" / "order-saga.mmd"
SAGA_PACKAGE = "order_saga_with_compensation"
RECORDED_BEFORE = PROJECT / "tests" / "fixtures" / "temporal" / \
    "order-saga-recorded-before-activities-classes.json"
"""A history of the order saga's main path, recorded with the code generated before the
activities classes (commit bec93b9: activities registered as functions by name)."""


def _activity_names(activities: Path) -> dict[str, set[str]]:
    """class -> the activity type names its `@activity.defn(name=...)` methods register."""
    found: dict[str, set[str]] = {}
    for node in ast.parse(activities.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            found[node.name] = {
                d.keywords[0].value.value for f in node.body
                if isinstance(f, ast.AsyncFunctionDef) for d in f.decorator_list
                if isinstance(d, ast.Call) and d.keywords and d.keywords[0].arg == "name"}
    return found


def test_each_service_has_an_activities_class_the_workflow_calls_by_method(
        tmp_path: Path) -> None:
    generate(SAGA, tmp_path)
    generated = tmp_path / SAGA_PACKAGE / "_generated"
    # the names are the ones histories recorded before hold: `module.operation`
    assert _activity_names(generated / "activities.py") == {
        "InventoryActivities": {"inventory.reserve_stock", "inventory.release_stock"},
        "PaymentActivities": {"payment.charge_payment", "payment.refund_payment"},
        "ShippingActivities": {"shipping.create_shipment"},
    }
    wiring = (generated / "wiring.py").read_text(encoding="utf-8")
    calls = re.findall(r"await self\.call\((activities\.\w+\.\w+),", wiring)
    assert calls == ["activities.InventoryActivities.reserve_stock",
                     "activities.PaymentActivities.charge_payment",
                     "activities.ShippingActivities.create_shipment",
                     "activities.PaymentActivities.refund_payment",
                     "activities.InventoryActivities.release_stock",
                     "activities.InventoryActivities.release_stock"]
    assert "start_activity_method(" in (generated / "runtime.py").read_text(encoding="utf-8")


@pytest.mark.engine
def test_a_history_recorded_before_the_activities_classes_still_replays(
        tmp_path: Path, temporal_python: Path) -> None:
    generate(SAGA, tmp_path)
    histories = tmp_path / "tests" / "histories"
    histories.mkdir()
    shutil.copy(RECORDED_BEFORE, histories / RECORDED_BEFORE.name)
    replay = run_python(temporal_python, ["-m", "pytest", "-q", "-p", "no:randomly",
                        "tests/test_replay.py"], tmp_path)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    # the check can fail: a renamed activity type no longer replays
    _edit(tmp_path / SAGA_PACKAGE / "_generated" / "activities.py",
          "name='payment.charge_payment'", "name='payment.charge'")
    renamed = run_python(temporal_python, ["-m", "pytest", "-q", "-p", "no:randomly",
                         "tests/test_replay.py"], tmp_path)
    assert renamed.returncode == 1, renamed.stdout + renamed.stderr
    assert "payment.charge" in renamed.stdout, renamed.stdout


STARTUP = """\
    async def on_startup(self):
        return {"db": "pool-1"}

    async def on_shutdown(self, deps):
        import pathlib
        pathlib.Path("closed.txt").write_text(deps["db"])

    def reply_step_1(self, ctx):
        import os

        from temporalio.exceptions import ApplicationError
        if os.environ.get("REAL_ACTIVITIES_FAIL"):
            raise ApplicationError("the real activity ran", non_retryable=True)
        return wiring.Result(0, wiring.messages.Step1Completed(source=ctx.deps["db"]))
"""
CHECKS = """\
    def reply_step_2(self, ctx):
        from temporalio.exceptions import ApplicationError
        if ctx.message.payload != wiring.messages.Step2(seen="pool-1"):
            raise ApplicationError(f"saw {ctx.message.payload}", non_retryable=True)
        return wiring.Result(0, wiring.messages.Step2Completed())
"""
PASSES_ON = """\
    def request_service_b_step_2(self, ctx):
        return wiring.messages.Step2(seen=ctx.data["ServiceA.step_1"].payload.source)
"""
CARRIES = {"Step 1 Completed": "Step 1 Completed(source)", "B: Step 2\n": "B: Step 2(seen)\n"}
"""The fields the dependency travels in (typed: activities take and return message
classes)."""


@pytest.mark.engine
def test_dependencies_reach_the_hooks_and_the_generated_mocks_replace_the_activities(
        tmp_path: Path, temporal_python: Path) -> None:
    """ServiceA's on_startup opens a dependency its reply hook answers with, ServiceB
    checks it arrived; on_shutdown closes it. The generated mock test runs the workflow
    without the real activities: it passes while they fail, the contract test does not."""
    text = EVOLVING
    for plain, with_field in CARRIES.items():
        text = text.replace(plain, with_field)
    generate(tmp_path / "flow.mmd", tmp_path, text=text, package="deps")
    _edit(tmp_path / "deps" / "services" / "service_a.py", "    pass\n", STARTUP)
    _edit(tmp_path / "deps" / "services" / "service_b.py", "    pass\n", CHECKS)
    _edit(tmp_path / "deps" / "workflow.py", "    pass\n", PASSES_ON)
    main = run_python(temporal_python, ["-m", "deps"], tmp_path, TEMPORAL_CLI_PATH=NOWHERE)
    assert main.returncode == 0, main.stderr
    assert "ServiceB -> Orchestrator  Step 2 Completed" in main.stdout, main.stdout
    assert (tmp_path / "closed.txt").read_text() == "pool-1"

    tests = ["-m", "pytest", "-q", "-p", "no:randomly"]
    mocked = run_python(temporal_python, [*tests, "tests/test_mocked_activities.py"], tmp_path,
                        REAL_ACTIVITIES_FAIL="1")
    assert mocked.returncode == 0, mocked.stdout + mocked.stderr
    real = run_python(temporal_python, [*tests, "tests/test_contract.py", "-k",
                      "time_skipping_environment and not every_path"], tmp_path,
                      REAL_ACTIVITIES_FAIL="1")
    assert real.returncode == 1, real.stdout + real.stderr
    assert "the real activity ran" in real.stdout, real.stdout


def test_compose_runs_a_dev_server_and_a_worker_per_task_queue(tmp_path: Path) -> None:
    """compose.yaml (yours, like the Dockerfile) serves every task queue routing.py names,
    each worker pointed at the dev server by Temporal's own settings."""
    yaml = pytest.importorskip("yaml")
    generate(SAGA, tmp_path)
    compose = yaml.safe_load((tmp_path / "compose.yaml").read_text(encoding="utf-8"))
    routing = ast.parse((tmp_path / SAGA_PACKAGE / "_generated" / "routing.py")
                        .read_text(encoding="utf-8"))
    queues = next(ast.literal_eval(node.value) for node in routing.body
                  if isinstance(node, ast.AnnAssign) and node.target.id == "QUEUES")
    served = {s["command"][1] for name, s in compose["services"].items()
              if name.startswith("worker-")}
    assert served == {queue.split(".", 1)[1] for queue in queues.values()}
    assert compose["services"]["temporal"]["entrypoint"][:3] == ["temporal", "server",
                                                                 "start-dev"]
    for name, service in compose["services"].items():
        if name.startswith("worker-"):
            assert service["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
            assert service["depends_on"]["temporal"]["condition"] == "service_healthy"
    dockerfile = (tmp_path / "Dockerfile").read_text(encoding="utf-8")
    assert f'ENTRYPOINT ["python", "-m", "{SAGA_PACKAGE}"]' in dockerfile


def test_on_startup_in_your_class_is_not_reported_as_a_stale_hook(tmp_path: Path) -> None:
    from mermaidgen.codegen.write.user_code import stale_hooks

    generation = generate(SAGA, tmp_path)
    _edit(tmp_path / SAGA_PACKAGE / "services" / "payment.py", "    pass\n",
          "    async def on_startup(self):\n        return {}\n\n"
          "    async def on_shutdown(self, deps):\n        pass\n\n"
          "    def reply_gone(self, ctx):\n        return None\n")
    stale = stale_hooks(generation, tmp_path)
    assert len(stale) == 1 and "Payment.reply_gone" in stale[0], stale


NESTED_RECORDED_BEFORE = PROJECT / "tests" / "fixtures" / "temporal" / \
    "nested-calls-before-typed-operations"
"""The histories of one run of nested_with_fields(), recorded with the code generated
before operations that make calls were typed (commit 17ae6c7: their workflow took and
returned the untyped Call and Result, their activity answered a `finish` Call): the
orchestrator's (it started both operations' workflows) and each operation's workflow
(Catalog's: three activities, then its answering activity)."""
NESTED = NESTED_RECORDED_BEFORE / "nested-calls.mmd"
"""The diagram those histories ran: the nested-calls sample as it was then, with a field
in the request and in the reply of Catalog.get_product_42, an operation that makes calls
of its own (so it runs as a workflow). It stays with its histories: the sample itself
may change."""


@pytest.mark.engine
def test_operations_that_make_calls_are_typed_and_older_histories_replay(
        tmp_path: Path, temporal_python: Path) -> None:
    """Catalog.get_product_42 makes calls of its own: its workflow takes its request class
    and returns its result class, as its answering activity does (given what the calls
    returned); the caller gets the typed result. The project's own tests pass (its
    contract, mocked activities), and the histories recorded before, whose inputs were
    Calls and results dicts, replay: the orchestrator's and both operations' own."""
    generate(NESTED, tmp_path)
    generated = tmp_path / "product_page_through_the_api" / "_generated"
    workflows = (generated / "workflows.py").read_text(encoding="utf-8")
    assert ("async def run(self, request: messages.GetProduct42) -> "
            "messages.GetProduct42Result:") in workflows
    assert "Call) -> Result" not in workflows
    activities = (generated / "activities.py").read_text(encoding="utf-8")
    assert ("async def get_product_42(self, request: messages.GetProduct42, results: "
            "list[Result]) -> messages.GetProduct42Result:") in activities
    assert "perform(\"get_product_42\", call" not in activities
    messages = (generated / "messages.py").read_text(encoding="utf-8")
    assert "class GetReviewsOfProduct42Result:" in messages
    wiring = (generated / "wiring.py").read_text(encoding="utf-8")
    assert ("self.request_catalog_get_product_42(ctx), messages.GetProduct42Result)"
            in wiring)
    # the reply hook reads the typed request; the caller checks the typed result
    _edit(tmp_path / "product_page_through_the_api" / "services" / "catalog.py", "    pass\n",
          "    def reply_get_product_42(self, ctx):\n"
          "        return wiring.Result(0, wiring.messages.Product(\n"
          "            name=f\"lamp-{ctx.message.payload.productId}\"))\n")
    _edit(tmp_path / "product_page_through_the_api" / "workflow.py", "    pass\n",
          "    def request_catalog_get_product_42(self, ctx):\n"
          "        return wiring.messages.GetProduct42(productId=42)\n\n"
          "    def request_reviews_get_reviews_of_product_42(self, ctx):\n"
          "        product = ctx.data['Catalog.get_product_42']\n"
          "        assert isinstance(product, wiring.messages.GetProduct42Result), product\n"
          "        assert isinstance(product.payload, wiring.messages.Product), product\n"
          "        assert product.payload.name in ('lamp-42', ''), product  # '': mocked\n"
          "        return wiring.messages.GetReviewsOfProduct42()\n")
    histories = tmp_path / "tests" / "histories"
    histories.mkdir()
    for recorded in sorted(NESTED_RECORDED_BEFORE.glob("*.json")):
        shutil.copy(recorded, histories / recorded.name)
    tests = run_python(temporal_python, ["-m", "pytest", "-q", "-p", "no:randomly", "-rA",
                       "tests/"], tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert tests.stdout.count("PASSED tests/test_replay.py") == 3, tests.stdout
    assert "PASSED tests/test_contract.py" in tests.stdout, tests.stdout


STEPS_RECORDED_BEFORE = PROJECT / "tests" / "fixtures" / "temporal" / \
    "steps-before-typed-steps"
"""The histories of one run of steps.mmd (beside them), recorded on the dev server with
the code generated before own steps were typed (commit 14fd47f: a step's activity took
the untyped Call and returned a Result): the orchestrator's, whose own step carries a
field (`Validate order(orderId: UUID)`), and Stock.reserve_items' workflow, which takes a
step of its own before its call."""
STEPS = STEPS_RECORDED_BEFORE / "steps.mmd"
STEPS_PACKAGE = "order_checks_with_own_steps"
STEPS_WORKFLOW = """\
    def request_step_validate_order_order_id_uuid(self, ctx):
        return wiring.messages.ValidateOrder(orderId=uuid.UUID(int=7))

    def step_validate_order_order_id_uuid(self, ctx):
        from temporalio.exceptions import ApplicationError
        if ctx.message.payload != wiring.messages.ValidateOrder(orderId=uuid.UUID(int=7)):
            raise ApplicationError(f"saw {ctx.message.payload}", non_retryable=True)
        return wiring.messages.ValidateOrderResult()

    def request_stock_reserve_items(self, ctx):
        done = ctx.data["Orders.step_validate_order_order_id_uuid"]
        assert isinstance(done, wiring.messages.ValidateOrderResult), done
        return wiring.messages.ReserveItems(orderId=uuid.UUID(int=7))
"""
OLD_STEP_INPUT = """\
import json

from temporalio.api.common.v1 import Payload

from order_checks_with_own_steps._generated import messages
from order_checks_with_own_steps._generated.converter import DATA_CONVERTER

# the input of a step's activity scheduled before typed steps (as the fixture holds it)
old = {"kind": "step", "message": 3, "operation": "step_count_shelves", "payload": {},
       "receiver": "Stock", "results": [], "sender": "Stock"}
payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(old).encode())
request, = DATA_CONVERTER.payload_converter.from_payloads([payload], [messages.CountShelves])
assert request == messages.CountShelves(), request
result, = DATA_CONVERTER.payload_converter.from_payloads(
    [Payload(metadata={"encoding": b"json/plain"}, data=b'{"payload":{},"reply":0}')],
    [messages.CountShelvesResult])
assert result == messages.CountShelvesResult(), result
print("unwrapped")
"""


@pytest.mark.engine
def test_own_steps_are_typed_and_older_histories_replay(
        tmp_path: Path, temporal_python: Path) -> None:
    """A participant's own step takes its request class (the fields its text writes) and
    returns its result class, which the workflow keeps under the step's name; the request
    is built by a request hook in the workflow. The project's own tests pass, the
    histories recorded before (a Call in, a Result out) replay, and an activity scheduled
    before (its input still a Call) gets its request."""
    generate(STEPS, tmp_path)
    generated = tmp_path / STEPS_PACKAGE / "_generated"
    activities = (generated / "activities.py").read_text(encoding="utf-8")
    assert ("async def step_validate_order_order_id_uuid(self, request: messages."
            "ValidateOrder) -> messages.ValidateOrderResult:") in activities
    assert ("async def step_count_shelves(self, request: messages.CountShelves) -> "
            "messages.CountShelvesResult:") in activities
    assert "Call) -> Result" not in activities
    wiring = (generated / "wiring.py").read_text(encoding="utf-8")
    assert ("ctx.data['Orders.step_validate_order_order_id_uuid'] = await self.step("
            "activities.OrdersWorkflowActivities.step_validate_order_order_id_uuid, "
            "Message.VALIDATE_ORDER, self.request_step_validate_order_order_id_uuid(ctx))"
            ) in wiring
    assert ("ctx.data['Stock.step_count_shelves'] = await self.step(activities."
            "StockActivities.step_count_shelves, Message.COUNT_SHELVES, "
            "messages.CountShelves())") in wiring
    assert ("def step_count_shelves(self, ctx: Context) -> messages.CountShelvesResult:"
            in wiring)
    _edit(tmp_path / STEPS_PACKAGE / "workflow.py", "    pass\n", STEPS_WORKFLOW)
    _edit(tmp_path / STEPS_PACKAGE / "workflow.py", "from ._generated",
          "import uuid\n\nfrom ._generated")
    histories = tmp_path / "tests" / "histories"
    histories.mkdir()
    for recorded in sorted(STEPS_RECORDED_BEFORE.glob("*.json")):
        shutil.copy(recorded, histories / recorded.name)
    tests = run_python(temporal_python, ["-m", "pytest", "-q", "-p", "no:randomly", "-rA",
                       "tests/"], tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert tests.stdout.count("PASSED tests/test_replay.py") == 2, tests.stdout
    assert "PASSED tests/test_contract.py" in tests.stdout, tests.stdout
    assert "PASSED tests/test_mocked_activities.py" in tests.stdout, tests.stdout
    (tmp_path / "old_input.py").write_text(OLD_STEP_INPUT, encoding="utf-8")
    old = run_python(temporal_python, ["old_input.py"], tmp_path)
    assert old.returncode == 0 and "unwrapped" in old.stdout, old.stdout + old.stderr
