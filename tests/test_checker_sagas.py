"""Sagas checked by the contract (issues #11 and #14): a `critical` option made of
compensations paired with the main section's steps undoes the steps the run took, the last
one first, and nothing else (docs/semantics.md, "Sagas").

The pairing rule is `checker.undone_steps`, the one the generators use too."""

from __future__ import annotations

import pytest
from test_contract_checker import ROOT, arrows, diagram

from mermaidgen.contract import ContractError, contract_of
from mermaidgen.contract.checker import check, undone_steps

SAGA = """
    critical book the trip
      S->>Cars: Book car
      Cars-->>S: Car booked
      S->>Hotels: Book hotel
      Hotels-->>S: Hotel booked
      S->>Flights: Book flight
      Flights-->>S: Flight booked
    option a booking failed
      S->>Flights: Cancel flight
      Flights-->>S: Flight cancelled
      S->>Hotels: Cancel hotel
      Hotels-->>S: Hotel cancelled
      S->>Cars: Cancel car
      Cars-->>S: Car cancelled
      S->>Customer: Notify customer
    end
"""
CAR = "S>Cars: Book car; Cars>S: Car booked; "
HOTEL = "S>Hotels: Book hotel; Hotels>S: Hotel booked; "
FLIGHT = "S>Flights: Book flight; Flights>S: Flight booked; "
UNDO_CAR = "S>Cars: Cancel car; Cars>S: Car cancelled; "
UNDO_HOTEL = "S>Hotels: Cancel hotel; Hotels>S: Hotel cancelled; "
UNDO_FLIGHT = "S>Flights: Cancel flight; Flights>S: Flight cancelled; "
NOTIFY = "S>Customer: Notify customer"

# a step before the critical is taken on every path to its option: always undone
ORDER = """
    S->>Pay: Charge payment
    Pay-->>S: Payment charged
    critical ship
      S->>Stock: Reserve stock
      Stock-->>S: Stock reserved
      S->>Ship: Ship order
      Ship-->>S: Order shipped
    option shipping failed
      S->>Stock: Release stock
      Stock-->>S: Stock released
      S->>Pay: Refund payment
      Pay-->>S: Payment refunded
    end
"""
CHARGE = "S>Pay: Charge payment; Pay>S: Payment charged; "
RESERVE = "S>Stock: Reserve stock; Stock>S: Stock reserved; "
UNDO_STOCK = "S>Stock: Release stock; Stock>S: Stock released; "
REFUND = "S>Pay: Refund payment; Pay>S: Payment refunded"

# a bare compensation undoes no one step: the run stays as drawn, whole
BARE = """
    critical book the trip
      S->>Cars: Book car
      Cars-->>S: Car booked
      S->>Hotels: Book hotel
      Hotels-->>S: Hotel booked
    option a booking failed
      S->>Hotels: Cancel hotel
      Hotels-->>S: Hotel cancelled
      S->>Cars: Cancel car
      Cars-->>S: Car cancelled
      S->>Ledger: ROLLBACK
    end
"""
# drawn in the order the steps were taken, not reversed: no saga, as drawn
UNORDERED = """
    critical book the trip
      S->>Cars: Book car
      Cars-->>S: Car booked
      S->>Hotels: Book hotel
      Hotels-->>S: Hotel booked
    option a booking failed
      S->>Cars: Cancel car
      Cars-->>S: Car cancelled
      S->>Hotels: Cancel hotel
      Hotels-->>S: Hotel cancelled
    end
"""

CASES = [
    (SAGA, CAR + HOTEL + FLIGHT, True, "all-steps-succeed"),
    # a step counts as taken once its request was sent, answered or not (the code
    # registers its compensation right before the call: the call may have done its work)
    (SAGA, CAR + "S>Hotels: Book hotel; " + UNDO_HOTEL + UNDO_CAR + NOTIFY, True,
     "fails-at-step-2-after-its-request"),
    (SAGA, CAR + UNDO_CAR + NOTIFY, True, "fails-at-step-2-before-its-request"),
    (SAGA, CAR + HOTEL + "S>Flights: Book flight; " + UNDO_FLIGHT + UNDO_HOTEL + UNDO_CAR
     + NOTIFY, True, "fails-at-step-3-after-its-request"),
    (SAGA, CAR + HOTEL + UNDO_HOTEL + UNDO_CAR + NOTIFY, True,
     "fails-at-step-3-before-its-request"),
    (SAGA, "S>Cars: Book car; " + UNDO_CAR + NOTIFY, True, "fails-at-step-1-after-its-request"),
    (SAGA, NOTIFY, True, "fails-at-step-1-before-its-request"),
    # the late reply of a step that failed is no reply the workflow acts on
    (SAGA, "S>Cars: Book car; " + UNDO_CAR + "Cars>S: Car booked; " + NOTIFY, False,
     "late-reply-of-the-failed-step"),
    (SAGA, CAR + UNDO_HOTEL + UNDO_CAR + NOTIFY, False, "undoes-a-step-not-taken"),
    (SAGA, CAR + UNDO_FLIGHT + UNDO_HOTEL + UNDO_CAR + NOTIFY, False,
     "undoes-every-step-as-drawn-after-a-prefix"),
    (SAGA, CAR + "S>Hotels: Book hotel; " + UNDO_CAR + UNDO_HOTEL + NOTIFY, False,
     "undoes-in-the-wrong-order"),
    (SAGA, CAR + "S>Hotels: Book hotel; " + UNDO_HOTEL + NOTIFY, False,
     "skips-a-needed-undo"),
    (SAGA, CAR + "S>Hotels: Book hotel; " + UNDO_HOTEL + UNDO_CAR, False,
     "skips-the-unpaired-message"),
    (SAGA, CAR + HOTEL + FLIGHT + UNDO_FLIGHT + UNDO_HOTEL + UNDO_CAR + NOTIFY, False,
     "compensates-after-full-success"),
    (SAGA, CAR + HOTEL + FLIGHT + NOTIFY, False, "notifies-after-full-success"),
    (ORDER, CHARGE + RESERVE + "S>Ship: Ship order; " + UNDO_STOCK + REFUND, True,
     "order-fails-at-shipping"),
    (ORDER, CHARGE + REFUND, True, "order-fails-before-reserving: the charge is undone"),
    (ORDER, CHARGE + "S>Stock: Reserve stock; " + UNDO_STOCK + REFUND, True,
     "order-fails-at-reserving"),
    (ORDER, CHARGE + RESERVE + REFUND, False, "order-keeps-the-stock"),
    (ORDER, CHARGE + UNDO_STOCK + REFUND, False, "order-releases-stock-never-reserved"),
    (ORDER, CHARGE + "S>Stock: Reserve stock; " + UNDO_STOCK, False, "order-keeps-the-money"),
    (BARE, "S>Cars: Book car; " + UNDO_HOTEL + UNDO_CAR + "S>Ledger: ROLLBACK", True,
     "bare-rollback-the-option-as-drawn"),
    (BARE, "S>Cars: Book car; " + UNDO_CAR + "S>Ledger: ROLLBACK", False,
     "bare-rollback-no-step-skipped"),
    (UNORDERED, "S>Cars: Book car; " + UNDO_CAR + UNDO_HOTEL, True,
     "unordered-the-option-as-drawn"),
    (UNORDERED, "S>Cars: Book car; " + UNDO_CAR, False, "unordered-no-step-skipped"),
]


@pytest.mark.parametrize(("body", "trace", "ok"),
                         [pytest.param(b, t, ok, id=name) for b, t, ok, name in CASES])
def test_a_saga_option_undoes_the_steps_taken_last_first(body: str, trace: str,
                                                         ok: bool) -> None:
    verdict = check(contract_of(diagram(body)), arrows(trace))
    assert verdict["ok"] is ok, verdict["explanation"]


def test_a_skipped_undo_is_explained() -> None:
    verdict = check(contract_of(diagram(SAGA)),
                    arrows(CAR + "S>Hotels: Book hotel; " + UNDO_HOTEL + NOTIFY))
    assert verdict["missing"] == [{"from": "S", "to": "Cars", "text": "Cancel car",
                                   "line": 14},
                                  {"from": "Cars", "to": "S", "text": "Car cancelled",
                                   "line": 15}], verdict["explanation"]


def test_the_pairing_rule_names_each_compensation_and_the_step_it_undoes() -> None:
    assert undone_steps(contract_of(diagram(SAGA))) == {10: 7, 12: 5, 14: 3}
    assert undone_steps(contract_of(diagram(ORDER))) == {10: 5, 12: 2}
    assert undone_steps(contract_of(diagram(BARE))) == {}
    assert undone_steps(contract_of(diagram(UNORDERED))) == {}
    # the same from the flat stream form of the contract
    assert undone_steps(contract_of(diagram(SAGA), stream=True)) == {10: 7, 12: 5, 14: 3}


def test_an_answer_to_the_caller_is_neither_a_step_nor_a_compensation() -> None:
    """order-saga: `Saga-->>API: Order cancelled(reason)` answers the API that started
    the saga (its first message to the saga came first): it ends the run of
    compensations, and the option's refund and release still undo the charge and the
    reservation drawn before the block."""
    from mermaidgen import parse_file

    sample = parse_file(ROOT / "samples" / "order-saga.mmd")[0]  # (one diagram in it)
    assert undone_steps(contract_of(sample)) == {22: 13, 24: 11, 30: 11}


def test_the_choreography_mode_checks_the_option_as_drawn() -> None:
    """`"sagas": false` (the choreography style's contracts): the option runs whole after
    any prefix, as conformance.md's plain rule says, and nothing is paired."""
    contract = contract_of(diagram(SAGA), sagas=False)
    assert undone_steps(contract) == {}
    assert not check(contract, arrows(CAR + UNDO_CAR + NOTIFY))["ok"]
    assert check(contract, arrows(CAR + UNDO_FLIGHT + UNDO_HOTEL + UNDO_CAR + NOTIFY))["ok"]
    streamed = contract_of(diagram(SAGA), sagas=False, stream=True)
    assert check(streamed, arrows(CAR + UNDO_FLIGHT + UNDO_HOTEL + UNDO_CAR + NOTIFY))["ok"]
    with pytest.raises(ContractError, match="sagas"):
        check(dict(contract, sagas="no"), [])


# a compensation pairs with a step only when they are about the same thing: filler words
# ("the") and the compensating verbs are not a thing, so "Release the room" undoes no
# step here, and the option runs as drawn, whole
UNRELATED = """
    critical book the trip
      S->>Hotels: Book the hotel
      Hotels-->>S: Hotel booked
      S->>Cars: Book car
      Cars-->>S: Car booked
    option a booking failed
      S->>Cars: Cancel car
      Cars-->>S: Car cancelled
      S->>Hotels: Release the room
      Hotels-->>S: Room released
    end
"""


def test_a_compensation_about_another_thing_undoes_no_step() -> None:
    contract = contract_of(diagram(UNRELATED))
    assert undone_steps(contract) == {}
    # as drawn: the car's cancellation is not skipped because the car was never booked
    verdict = check(contract, arrows("S>Hotels: Book the hotel; Hotels>S: Hotel booked; "
                                     "S>Hotels: Release the room; Hotels>S: Room released"))
    assert not verdict["ok"]
    assert "`S->>Hotels: Release the room` cannot happen at this point" in \
        verdict["explanation"], verdict["explanation"]


# a run of compensations followed by a block: paired when the block starts with a message
# of the run's sender (the run's replies all came before it), as drawn when it starts with
# someone else's (the last compensation's reply may be in it)
BEFORE_A_BLOCK = """
    critical book the trip
      S->>Hotels: Book hotel
      Hotels-->>S: Hotel booked
      S->>Cars: Book car
      Cars-->>S: Car booked
    option a booking failed
      S->>Cars: Cancel car
      Cars-->>S: Car cancelled
      S->>Hotels: Cancel hotel
      {reply}
      opt the customer asked
        {first}
      end
    end
"""


def test_a_run_of_compensations_before_a_block() -> None:
    paired = BEFORE_A_BLOCK.format(reply="Hotels-->>S: Hotel cancelled",
                                   first="S->>Customer: Notify customer")
    assert undone_steps(contract_of(diagram(paired))) == {8: 5, 10: 3}
    unpaired = BEFORE_A_BLOCK.format(reply="", first="Hotels-->>S: Hotel cancelled")
    assert undone_steps(contract_of(diagram(unpaired))) == {}


def test_hand_written_contracts_are_refused_or_paired_without_lines() -> None:
    with pytest.raises(ContractError, match="^contract contract needs an 'items' list"):
        undone_steps({"version": 1})
    contract = contract_of(diagram(SAGA))
    for item in contract["items"][0]["sections"][1]["items"]:
        item.pop("line")  # the option's messages: no line to name a compensation by
    assert undone_steps(contract) == {}
    with pytest.raises(ContractError):
        check({"version": 1, "items": [5]}, [])
    with pytest.raises(ContractError):
        check({"version": 1, "items": [{"kind": "opt", "line": 1, "sections": {"a": 1}}]},
              [])


# steps before the critical at two depths, the option's messages in a rect, and a last
# compensation sent without waiting for a reply: all paired, the last step first
NESTED = """
    S->>Pay: Charge payment
    Pay-->>S: Payment charged
    opt express
      S->>Stock: Reserve stock
      Stock-->>S: Stock reserved
      critical ship
        S->>Courier: Book courier
        Courier-->>S: Courier booked
      option shipping failed
        rect rgb(250, 200, 200)
          S->>Courier: Cancel courier
          Courier-->>S: Courier cancelled
          S->>Stock: Release stock
          Stock-->>S: Stock released
          S-)Pay: Refund payment
        end
      end
    end
"""
# compensations in an alt's other branch undo nothing of the first branch: as drawn
IN_AN_ALT = """
    alt by car
      S->>Cars: Book car
      Cars-->>S: Car booked
    else no car
      S->>Cars: Cancel car
      Cars-->>S: Car cancelled
    end
"""


def test_steps_at_every_depth_and_messages_in_a_rect_are_paired() -> None:
    assert undone_steps(contract_of(diagram(NESTED))) == {12: 8, 14: 5, 16: 2}
    assert undone_steps(contract_of(diagram(IN_AN_ALT))) == {}
    with pytest.raises(ContractError):
        check({"version": 1, "items": [{"kind": "critical", "line": 1, "sections": [
            {"label": "", "line": 1}, {"label": "", "line": 2, "items": []}]}]}, [])


def test_a_hand_written_rect_changes_no_pairing() -> None:
    """contract_of flattens a rect; a contract written by hand may keep one (the checker
    reads it as its statements in the parent's place)."""
    contract = contract_of(diagram(SAGA))
    option = contract["items"][0]["sections"][1]
    option["items"] = [{"kind": "rect", "line": 9, "sections": [
        {"label": "", "line": 9, "items": option["items"]}]}]
    assert undone_steps(contract) == {10: 7, 12: 5, 14: 3}
    assert check(contract, arrows(CAR + UNDO_CAR + NOTIFY))["ok"]


def test_a_run_left_as_drawn_does_not_stop_a_later_saga() -> None:
    """Each run of compensations pairs or not on its own: after one left as drawn (drawn
    unordered, or before a block that may hold its reply), a later saga still pairs."""
    assert undone_steps(contract_of(diagram(UNORDERED + SAGA))) == {22: 19, 24: 17, 26: 15}
    unpaired = BEFORE_A_BLOCK.format(reply="", first="Hotels-->>S: Hotel cancelled")
    assert undone_steps(contract_of(diagram(unpaired + ORDER))) == {25: 20, 27: 17}
