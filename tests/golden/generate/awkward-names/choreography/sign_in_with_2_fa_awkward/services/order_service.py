"""OrderService: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of OrderServiceBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class OrderService(wiring.OrderServiceBase):
    # Hooks you can override (see OrderServiceBase for their defaults):
    #   on_script_script_alert_1_script(ctx): when it receives (line 15)
    #   payload_order_created: line 17
    pass
