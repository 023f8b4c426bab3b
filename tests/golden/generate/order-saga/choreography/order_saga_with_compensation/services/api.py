"""Api: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_with_compensation/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of ApiBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Api(wiring.ApiBase):
    # Hooks you can override (see ApiBase for their defaults):
    #   on_post_orders(ctx): when it receives (line 9)
    #   on_order_confirmed(ctx): when it receives (line 19)
    #   on_order_cancelled(ctx): when it receives (line 26)
    #   on_order_rejected(ctx): when it receives (line 32)
    #   payload_start_order_saga: line 10
    #   payload_order_status: line 35
    pass
