"""OrderSaga: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_the_payment_s_reply/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of OrderSagaBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class OrderSaga(wiring.OrderSagaBase):
    # Hooks you can override (see OrderSagaBase for their defaults):
    #   on_place_order(ctx): when it receives (line 8)
    #   on_stock_reserved(ctx): when it receives (line 10)
    #   on_payment_captured(ctx): when it receives (line 13)
    #   on_delivery_scheduled(ctx): when it receives (line 15)
    #   on_payment_declined(ctx): when it receives (line 18)
    #   on_stock_released(ctx): when it receives (line 21)
    #   payload_reserve_stock: line 9
    #   payload_charge_card: line 11
    #   payload_schedule_delivery: line 14
    #   payload_order_confirmed: line 16
    #   payload_release_stock: line 20
    #   payload_order_rejected: line 22
    pass
