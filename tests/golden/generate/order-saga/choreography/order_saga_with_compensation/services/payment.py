"""Payment: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_with_compensation/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of PaymentBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Payment(wiring.PaymentBase):
    # Hooks you can override (see PaymentBase for their defaults):
    #   on_charge_payment(ctx): when it receives (line 13)
    #   on_refund_payment(ctx): when it receives (line 22)
    #   choose_payment_captured: line 14
    #   payload_payment_captured: line 15
    #   payload_payment_declined: line 29
    #   payload_payment_refunded: line 23
    pass
