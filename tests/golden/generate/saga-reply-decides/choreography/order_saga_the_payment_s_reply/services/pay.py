"""Pay: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_the_payment_s_reply/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of PayBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Pay(wiring.PayBase):
    # Hooks you can override (see PayBase for their defaults):
    #   on_charge_card(ctx): when it receives (line 11)
    #   choose_card_accepted: line 12
    #   payload_payment_captured: line 13
    #   payload_payment_declined: line 18
    pass
