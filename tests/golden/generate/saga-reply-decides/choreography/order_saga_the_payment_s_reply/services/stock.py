"""Stock: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_the_payment_s_reply/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of StockBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Stock(wiring.StockBase):
    # Hooks you can override (see StockBase for their defaults):
    #   on_reserve_stock(ctx): when it receives (line 9)
    #   on_release_stock(ctx): when it receives (line 20)
    #   payload_stock_reserved: line 10
    #   payload_stock_released: line 21
    pass
