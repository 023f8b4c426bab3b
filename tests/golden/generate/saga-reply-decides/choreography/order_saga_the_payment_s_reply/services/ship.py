"""Ship: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_the_payment_s_reply/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of ShipBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Ship(wiring.ShipBase):
    # Hooks you can override (see ShipBase for their defaults):
    #   on_schedule_delivery(ctx): when it receives (line 14)
    #   payload_delivery_scheduled: line 15
    pass
