"""Client: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_the_payment_s_reply/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of ClientBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Client(wiring.ClientBase):
    # Hooks you can override (see ClientBase for their defaults):
    #   on_order_confirmed(ctx): when it receives (line 16)
    #   on_order_rejected(ctx): when it receives (line 22)
    #   payload_place_order: line 8
    pass
