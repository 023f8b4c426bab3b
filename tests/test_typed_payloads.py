"""Typed payloads (docs/typed-payloads.md): the python target's events are dataclasses
with the diagram's fields, payload hooks return them, schema.py refines them, and an
operation's replies are named by an enum, never by an index."""

from __future__ import annotations

import sys
from pathlib import Path

from projects import lint, run

TYPED = """sequenceDiagram
    title Trips
    participant Trips
    participant Billing
    Trips-)Billing: TripCompleted(km: float, duration, started: datetime)
    Billing-)Trips: FareCalculated(total: Decimal, tripId: UUID, tags: list[str], note: str?)
"""

CHECKOUT = """sequenceDiagram
    title Checkout
    participant Orders
    participant Payments
    Orders->>+Payments: Charge card(amount: Decimal, currency)
    alt card accepted
        Payments-->>Orders: Payment captured
    else card declined
        Payments-->>Orders: Payment declined
    end
    deactivate Payments
"""


def _generate(cli, tmp_path: Path, text: str, *args: str) -> Path:
    source = tmp_path / "d.mmd"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    done = cli("generate", source, "--out", out, *args)
    assert done.code == 0, done.err
    return out


def _python(out: Path, code: str) -> str:
    done = run([sys.executable, "-c", code], out)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_python_events_are_dataclasses_with_the_diagram_s_fields(cli, tmp_path) -> None:
    out = _generate(cli, tmp_path, TYPED, "--style", "choreography")
    shown = _python(out, "import dataclasses, trips._generated.events as e\n"
                    "for c in (e.TripCompleted, e.FareCalculated):\n"
                    "    print(c.__name__, [(f.name, f.type) for f in dataclasses.fields(c)])")
    assert shown.splitlines() == [
        "TripCompleted [('km', 'float'), ('duration', 'str'), ('started', 'datetime')]",
        "FareCalculated [('total', 'Decimal'), ('tripId', 'UUID'), ('tags', 'list[str]'), "
        "('note', 'str | None')]"]
    wiring = (out / "trips" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    # the default hook builds the event, every field filled with a placeholder of its type
    assert "def payload_trip_completed(self, ctx: Context) -> events.TripCompleted:" in wiring
    assert "started=datetime(1970, 1, 1)," in wiring
    assert "total=Decimal(0)," in wiring and "tripId=UUID(int=0)," in wiring
    assert "dict[str, Any]" not in wiring
    lint(out)
    # the flow runs and its contract test passes with the placeholders
    assert run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], out,
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1").returncode == 0
    # a user's hook that fills the event: the consumer sees the typed values
    service = out / "trips" / "services" / "trips.py"
    service.write_text(service.read_text(encoding="utf-8").replace("    pass\n", """\
    def payload_trip_completed(self, ctx):
        from datetime import datetime, timezone
        return wiring.events.TripCompleted(
            km=12.5, duration="PT20M", started=datetime(2026, 1, 1, tzinfo=timezone.utc))
"""), encoding="utf-8")
    billing = out / "trips" / "services" / "billing.py"
    billing.write_text(billing.read_text(encoding="utf-8").replace("    pass\n", """\
    async def on_trip_completed(self, ctx):
        print("billing got", ctx.message.km, ctx.message.duration)
"""), encoding="utf-8")
    ran = run([sys.executable, "-m", "trips"], out)
    assert ran.returncode == 0, ran.stderr
    assert "billing got 12.5 PT20M" in ran.stdout


def test_schema_py_refines_types_and_adds_fields_and_is_never_overwritten(
        cli, tmp_path) -> None:
    out = _generate(cli, tmp_path, TYPED, "--style", "choreography")
    schema = out / "trips" / "schema.py"
    created = schema.read_text(encoding="utf-8")
    assert "TripCompleted: km: float, duration: str, started: datetime" in created
    schema.write_text(created + """
from decimal import Decimal


class TripCompleted:
    km: Decimal  # narrower than the diagram's float
    currency: str  # not in the diagram
""", encoding="utf-8")
    source = tmp_path / "d.mmd"
    done = cli("generate", source, "--out", out)
    assert done.code == 0, done.err
    assert "class TripCompleted:" in schema.read_text(encoding="utf-8")  # kept
    events = (out / "trips" / "_generated" / "events.py").read_text(encoding="utf-8")
    block = events[events.index("class TripCompleted"):events.index("class FareCalculated")]
    assert "    km: Decimal\n    duration: str\n    started: datetime\n    currency: str\n" \
        in block
    wiring = (out / "trips" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "km=Decimal(0)," in wiring and 'currency="",' in wiring
    lint(out)
    assert run([sys.executable, "-m", "trips"], out).returncode == 0


def test_a_broken_schema_py_is_a_clear_error(cli, tmp_path) -> None:
    out = _generate(cli, tmp_path, TYPED, "--style", "choreography")
    (out / "trips" / "schema.py").write_text("class TripCompleted:\n    km: = 1\n")
    done = cli("generate", tmp_path / "d.mmd", "--out", out)
    assert done.code != 0
    assert "trips/schema.py:2:" in done.err and "fix it" in done.err


def test_replies_are_named_by_an_enum(cli, tmp_path) -> None:
    out = _generate(cli, tmp_path, CHECKOUT, "--style", "orchestration")
    wiring = (out / "checkout" / "_generated" / "wiring.py").read_text(encoding="utf-8")
    assert "class ChargeCardReply(IntEnum):" in wiring
    assert "    PAYMENT_CAPTURED = 0  # line 7: Payment captured\n" in wiring
    assert "    PAYMENT_DECLINED = 1  # line 9: Payment declined\n" in wiring
    assert "        return Result(\n            reply=ChargeCardReply.PAYMENT_CAPTURED,\n" \
        "            payload=messages.PaymentCaptured(),\n        )\n" in wiring
    # the request is typed too
    assert "    def request_payments_charge_card(self, ctx: Context) -> messages.ChargeCard:\n" \
        "        return messages.ChargeCard(\n            amount=Decimal(0),\n" in wiring
    assert "Result(reply=0" not in wiring
    # the user names the reply; the flow takes the declined path
    service = out / "checkout" / "services" / "payments.py"
    service.write_text(service.read_text(encoding="utf-8").replace("    pass\n", """\
    def reply_charge_card(self, ctx):
        return wiring.Result(reply=wiring.ChargeCardReply.PAYMENT_DECLINED)
"""), encoding="utf-8")
    ran = run([sys.executable, "-m", "checkout"], out)
    assert ran.returncode == 0, ran.stderr
    assert "Payment declined" in ran.stdout and "Payment captured" not in ran.stdout
    lint(out)


def test_a_payload_hook_that_still_returns_a_dict_is_named(cli, tmp_path) -> None:
    """Before context version 4 payload hooks returned dicts: such a user module fails
    with a sentence that says what to return, not with an AttributeError deep inside."""
    out = _generate(cli, tmp_path, TYPED, "--style", "choreography")
    service = out / "trips" / "services" / "trips.py"
    service.write_text(service.read_text(encoding="utf-8").replace("    pass\n", """\
    def payload_trip_completed(self, ctx):
        return {"km": 1.0}
"""), encoding="utf-8")
    ran = run([sys.executable, "-m", "trips"], out)
    assert ran.returncode != 0
    assert "Trips: a payload_* hook returned dict; payload hooks return the event they " \
        "fill (events.<Event>(...))" in ran.stderr
