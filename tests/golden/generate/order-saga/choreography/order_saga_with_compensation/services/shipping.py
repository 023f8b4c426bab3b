"""Shipping: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_with_compensation/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of ShippingBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Shipping(wiring.ShippingBase):
    # Hooks you can override (see ShippingBase for their defaults):
    #   on_create_shipment(ctx): when it receives (line 17)
    #   payload_shipment_created: line 18
    pass
