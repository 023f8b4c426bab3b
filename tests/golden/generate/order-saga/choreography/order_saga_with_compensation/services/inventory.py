"""Inventory: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_with_compensation/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of InventoryBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Inventory(wiring.InventoryBase):
    # Hooks you can override (see InventoryBase for their defaults):
    #   on_reserve_stock(ctx): when it receives (line 11)
    #   on_release_stock(ctx): when it receives (line 24)
    #   payload_stock_reserved: line 12
    #   payload_stock_released: line 25
    pass
