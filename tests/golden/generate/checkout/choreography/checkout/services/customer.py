"""Customer: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
checkout/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of CustomerBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Customer(wiring.CustomerBase):
    # Hooks you can override (see CustomerBase for their defaults):
    #   on_confirmation_page(ctx): when it receives (line 17)
    #   payload_place_order: line 7
    pass
