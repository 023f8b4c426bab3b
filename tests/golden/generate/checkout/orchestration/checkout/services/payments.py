"""Payments: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (the
operations this participant offers, the calls they make, the replies they give) is
generated in checkout/_generated/wiring.py from the diagram; here you decide what
requests and replies carry and which reply to give. Override any hook of
PaymentsBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Payments(wiring.PaymentsBase):
    # Hooks you can override (see PaymentsBase for their defaults):
    #   reply_charge_card: line 9
    pass
