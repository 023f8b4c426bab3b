"""Diagrams of shapes that tests of several targets run, and what they check on them."""

from __future__ import annotations

# criticals whose main sections start with no step of the deciding code's own: a par (the
# engines have no order hook to fail), a nested critical; each option's message names it
CRITICAL_STARTS = """sequenceDiagram
critical reserve
  par a
    O->>+A: Hold
    A-->>-O: Held
  and b
    O->>+B: Hold
    B-->>-O: Held
  end
option reserve failed
  O->>C: Alert reserve
end
critical pay
  critical inner
    O->>+A: Charge
    A-->>-O: Charged
  option inner failed
    O->>D: Log
  end
option pay failed
  O->>C: Alert pay
end
"""
# and one whose main section holds only what an orchestrator awaits
CRITICAL_AWAITS = """O->>A: Start
critical wait
  A->>O: Ready
  A->>O: Done
option wait failed
  O->>C: Alert wait
end
"""
# each option (its path name) -> the message only its path sends
CRITICAL_STARTS_OPTIONS = {"reserve-failed": "Alert reserve", "inner-failed": "Log",
                           "pay-failed": "Alert pay"}
CRITICAL_AWAITS_OPTIONS = {"wait-failed": "Alert wait"}


def assert_each_path_takes_the_options_it_names(runs: dict[str, list],
                                                options: dict[str, str]) -> None:
    """`runs`: path -> [the texts of its trace, the checker's explanation]. Every option
    has a path; every path conforms and sends the message of each option it names, which
    no other path sends."""
    assert all(any(option in name.split("+") for name in runs) for option in options), runs
    for name, (texts, explanation) in runs.items():
        assert explanation.startswith("trace conforms"), (name, texts, explanation)
        for option, message in options.items():
            assert (message in texts) == (option in name.split("+")), (name, texts)


# Orders asks Pay and Stock one after the other: Charged and Reserved come from two senders,
# neither knowing of the other's, so they may arrive either way round; `after` is what
# Orders does next (a send that must wait for both: a join)
RACES_BEFORE = """sequenceDiagram
    participant Orders
    participant Pay
    participant Stock
    Orders->>Pay: Charge
    Orders->>Stock: Reserve
    Pay->>Orders: Charged
    Stock->>Orders: Reserved
{after}"""
RACE = RACES_BEFORE.format(after="    Orders->>Ship: Ship\n")
