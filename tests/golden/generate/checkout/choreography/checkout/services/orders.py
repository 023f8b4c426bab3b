"""Orders: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
checkout/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of OrdersBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Orders(wiring.OrdersBase):
    # Hooks you can override (see OrdersBase for their defaults):
    #   on_create_order(ctx): when it receives (line 8)
    #   on_payment_captured(ctx): when it receives (line 11)
    #   on_payment_declined(ctx): when it receives (line 13)
    #   payload_charge_card: line 9
    #   payload_order_status: line 16
    pass
