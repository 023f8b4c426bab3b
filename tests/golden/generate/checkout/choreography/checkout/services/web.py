"""Web: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
checkout/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of WebBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Web(wiring.WebBase):
    # Hooks you can override (see WebBase for their defaults):
    #   on_place_order(ctx): when it receives (line 7)
    #   on_order_status(ctx): when it receives (line 16)
    #   payload_create_order: line 8
    #   payload_confirmation_page: line 17
    pass
