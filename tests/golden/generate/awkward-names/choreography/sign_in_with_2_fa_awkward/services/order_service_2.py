"""OrderService2: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of OrderService2Base; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class OrderService2(wiring.OrderService2Base):
    # Hooks you can override (see OrderService2Base for their defaults):
    #   on_order_created_orders_v_1(ctx): when it receives (line 17)
    #   payload_event_message: line 18
    pass
