"""Payments: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
checkout/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of PaymentsBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Payments(wiring.PaymentsBase):
    # Hooks you can override (see PaymentsBase for their defaults):
    #   on_charge_card(ctx): when it receives (line 9)
    #   choose_card_accepted: line 10
    #   payload_payment_captured: line 11
    #   payload_payment_declined: line 13
    pass
